//! Which rows a listing or an action selects: a [`JobFilter`] (or a list of ids) as SQL
//! conditions on the jobs table, written only for the fields that are set so that the planner
//! sees plain predicates it can match to an index, with their values bound in order.

use chrono::{DateTime, Utc};
use jobs_core::{JobAction, JobFilter, JobState, Target};
use sqlx::Postgres;
use sqlx::postgres::PgArguments;
use sqlx::query::Query;

/// A value bound to one placeholder.
#[derive(Clone, Debug)]
pub(crate) enum Value {
    Text(String),
    Time(DateTime<Utc>),
    Id(i64),
    Ids(Vec<i64>),
}

/// Conditions joined by `AND`, and the values of their placeholders (`$1`, `$2`, ... in order).
#[derive(Clone, Debug, Default)]
pub(crate) struct Conditions {
    sql: Vec<String>,
    values: Vec<Value>,
}

impl Conditions {
    /// Adds a fixed condition.
    pub(crate) fn add(&mut self, sql: &str) {
        self.sql.push(format!("({sql})"));
    }

    /// Adds a condition on one value: `make` gets its placeholder.
    pub(crate) fn with(&mut self, value: Value, make: impl FnOnce(&str) -> String) {
        self.values.push(value);
        let placeholder = format!("${}", self.values.len());
        self.sql.push(make(&placeholder));
    }

    /// A placeholder for one more value, used outside the conditions (e.g. in `SET`).
    pub(crate) fn bind(&mut self, value: Value) -> String {
        self.values.push(value);
        format!("${}", self.values.len())
    }

    /// The conditions for a `WHERE` clause (`true` when there are none).
    pub(crate) fn sql(&self) -> String {
        if self.sql.is_empty() { "true".to_owned() } else { self.sql.join(" AND ") }
    }

    /// `query` with the values bound in order.
    pub(crate) fn bind_all<'q>(&self, mut query: Query<'q, Postgres, PgArguments>) -> Query<'q, Postgres, PgArguments> {
        for value in &self.values {
            query = match value.clone() {
                Value::Text(text) => query.bind(text),
                Value::Time(time) => query.bind(time),
                Value::Id(id) => query.bind(id),
                Value::Ids(ids) => query.bind(ids),
            };
        }
        query
    }

    /// The rows `filter` selects.
    pub(crate) fn filter(&mut self, filter: &JobFilter) {
        if let Some(queue) = &filter.queue {
            self.with(Value::Text(queue.clone()), |p| format!("queue = {p}"));
        }
        if let Some(state) = filter.state {
            self.add(state_condition(state));
        }
        if let Some(class) = &filter.class {
            self.with(Value::Text(class.clone()), |p| format!("class = {p}"));
        }
        let times = [
            (filter.enqueued_after, "enqueued_at >="),
            (filter.enqueued_before, "enqueued_at <"),
            (filter.run_after, "run_at >="),
            (filter.run_before, "run_at <"),
            (filter.finished_before, "finished_at <"),
        ];
        for (time, column) in times {
            if let Some(time) = time {
                self.with(Value::Time(time), |p| format!("{column} {p}"));
            }
        }
        if let Some(text) = &filter.text {
            self.with(Value::Text(text.clone()), |p| format!("strpos(payload, {p}) > 0"));
        }
    }

    /// The rows `target` selects.
    pub(crate) fn target(&mut self, target: &Target) {
        match target {
            Target::Ids(ids) => self.with(Value::Ids(id_list(ids)), |p| format!("id = ANY({p}::int8[])")),
            Target::Filter(filter) => self.filter(filter),
        }
    }
}

/// The rows in `state`, on the table's own columns: an `available` row is scheduled, ready or
/// retrying according to its due time and whether it failed before (as `SHOWN_STATE` shows it).
/// A job due after now() is due after its enqueue too (`enqueued_at` is its insert's time): said
/// for scheduled and retrying jobs, so that the planner may read them from `jobs_later`
/// (migration 8) instead of walking the primary key through the ready jobs.
pub(crate) fn state_condition(state: JobState) -> &'static str {
    match state {
        JobState::Scheduled => "state = 'available' AND run_at > now() AND failures = 0 AND run_at > enqueued_at",
        JobState::Ready => "state = 'available' AND run_at <= now()",
        JobState::Retrying => "state = 'available' AND run_at > now() AND failures > 0 AND run_at > enqueued_at",
        JobState::Blocked => "state = 'blocked'",
        JobState::Running => "state = 'running'",
        JobState::Dead => "state = 'dead'",
        JobState::Completed => "state = 'completed'",
    }
}

/// The rows `action` applies to (see [`JobAction::applies_to`]): blocked jobs too where it
/// applies to them.
pub(crate) fn action_condition(action: JobAction) -> String {
    let rows = match action {
        JobAction::Retry => "state = 'dead'",
        JobAction::RunNow => "state = 'available' AND run_at > now()",
        JobAction::Discard => "state = 'available'",
        // Blocked jobs included.
        JobAction::Delete => return "state <> 'running'".to_owned(),
    };
    if action.applies_to(JobState::Blocked) { format!("{rows} OR state = 'blocked'") } else { rows.to_owned() }
}

/// Backend ids as integers; ids that are not ours match nothing.
pub(crate) fn id_list(ids: &[String]) -> Vec<i64> {
    ids.iter().filter_map(|id| id.parse().ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_fields_set_become_conditions_with_placeholders_in_order() {
        let mut conditions = Conditions::default();
        assert_eq!(conditions.sql(), "true", "no field: every job");
        let at = DateTime::<Utc>::from_timestamp(1_700_000_000, 0).unwrap();
        let filter = JobFilter::new().queue("mailers").state(JobState::Dead).text("42").enqueued(Some(at), None);
        conditions.filter(&filter);
        conditions.with(Value::Id(7), |p| format!("id > {p}"));
        assert_eq!(
            conditions.sql(),
            "queue = $1 AND (state = 'dead') AND enqueued_at >= $2 AND strpos(payload, $3) > 0 AND id > $4"
        );
        assert_eq!(conditions.values.len(), 4);
    }
}
