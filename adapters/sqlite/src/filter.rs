//! Statements built from a [`JobFilter`] or a [`Target`], shared by listings and actions.
//!
//! The SQL text only ever holds fixed fragments and numbered placeholders; every value a caller
//! gives (a queue, a class, a text, a time) is bound. `?1` is always now, as `state_at!` expects.

use jobs_core::adapter::time_to_micros;
use jobs_core::{JobFilter, JobState, Target};
use sqlx::query::Query;
use sqlx::sqlite::SqliteArguments;
use sqlx::{AssertSqlSafe, Sqlite};

/// A value bound to a placeholder.
#[derive(Clone, Debug)]
enum Value {
    Int(i64),
    Text(String),
}

/// A statement under construction: its text and the values of its placeholders `?2`, `?3`, ...
#[derive(Debug)]
pub(crate) struct Statement {
    sql: String,
    values: Vec<Value>,
}

impl Statement {
    /// Starts a statement with `sql`, as of `now` (microseconds, bound as `?1`).
    pub(crate) fn new(sql: &str, now: i64) -> Self {
        Statement { sql: sql.to_owned(), values: vec![Value::Int(now)] }
    }

    /// Appends fixed SQL text.
    pub(crate) fn push(&mut self, sql: &str) -> &mut Self {
        self.sql.push_str(sql);
        self
    }

    /// Appends a placeholder bound to `value`.
    fn bind(&mut self, value: Value) -> &mut Self {
        self.values.push(value);
        let placeholder = format!("?{}", self.values.len());
        self.sql.push_str(&placeholder);
        self
    }

    /// Binds a text to the next placeholder, which the statement's fixed text already names (`?2`
    /// for the first value after now).
    pub(crate) fn bind_next(&mut self, value: &str) -> &mut Self {
        self.values.push(Value::Text(value.to_owned()));
        self
    }

    /// Appends a placeholder bound to an integer.
    pub(crate) fn int(&mut self, value: i64) -> &mut Self {
        self.bind(Value::Int(value))
    }

    /// Appends a placeholder bound to a text.
    pub(crate) fn text(&mut self, value: &str) -> &mut Self {
        self.bind(Value::Text(value.to_owned()))
    }

    /// Appends `AND <condition>` for every field `filter` sets (`TRUE` stands for none).
    pub(crate) fn filter(&mut self, filter: &JobFilter) -> &mut Self {
        self.push("TRUE");
        if let Some(queue) = &filter.queue {
            self.push(" AND queue = ").text(queue);
        }
        if let Some(state) = filter.state {
            self.push(" AND ").push(state_condition(state));
        }
        if let Some(class) = &filter.class {
            self.push(" AND class = ").text(class);
        }
        let times = [
            ("enqueued_at >= ", filter.enqueued_after),
            ("enqueued_at < ", filter.enqueued_before),
            ("run_at >= ", filter.run_after),
            ("run_at < ", filter.run_before),
            ("finished_at < ", filter.finished_before),
        ];
        for (condition, time) in times {
            if let Some(time) = time {
                self.push(" AND ").push(condition).int(time_to_micros(time));
            }
        }
        if let Some(text) = &filter.text {
            // instr, not LIKE: case-sensitive, and `%` or `_` in the text are plain characters.
            self.push(" AND instr(payload, ").text(text).push(") > 0");
        }
        self
    }

    /// Appends the condition selecting `target`'s jobs.
    pub(crate) fn target(&mut self, target: &Target) -> &mut Self {
        match target {
            Target::Ids(ids) => self.push("id IN (SELECT value FROM json_each(").text(&id_list(ids)).push("))"),
            Target::Filter(filter) => self.filter(filter),
        }
    }

    /// The query plan of this statement, as `EXPLAIN QUERY PLAN` gives it.
    #[cfg(test)]
    pub(crate) fn explain(&self) -> Statement {
        Statement { sql: format!("EXPLAIN QUERY PLAN {}", self.sql), values: self.values.clone() }
    }

    /// The statement, ready to run.
    pub(crate) fn query(&self) -> Query<'_, Sqlite, SqliteArguments> {
        let mut query = sqlx::query(AssertSqlSafe(self.sql.as_str()));
        for value in &self.values {
            query = match value {
                Value::Int(value) => query.bind(*value),
                Value::Text(value) => query.bind(value.as_str()),
            };
        }
        query
    }
}

/// Backend ids as a JSON array of integers, for `json_each`; an id that is not an integer names
/// no job of this store and is left out.
pub(crate) fn id_list(ids: &[String]) -> String {
    let ids: Vec<i64> = ids.iter().filter_map(|id| id.parse().ok()).collect();
    serde_json::to_string(&ids).expect("integers serialize")
}

/// The condition on the table's columns that selects jobs in `state` as of `?1` (the table keeps
/// scheduled, ready and retrying jobs as `available`, told apart by due time and past failures).
pub(crate) fn state_condition(state: JobState) -> &'static str {
    match state {
        JobState::Scheduled => "(state = 'available' AND run_at > ?1 AND failures = 0)",
        JobState::Ready => "(state = 'available' AND run_at <= ?1)",
        JobState::Retrying => "(state = 'available' AND run_at > ?1 AND failures > 0)",
        JobState::Blocked => "state = 'blocked'",
        JobState::Running => "state = 'running'",
        JobState::Dead => "state = 'dead'",
        JobState::Completed => "state = 'completed'",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_bound_never_spliced() {
        let filter = JobFilter::new().queue("q' OR 1=1 --").class("C").text("%_");
        let mut statement = Statement::new("SELECT id FROM jobs_jobs WHERE ", 7);
        statement.filter(&filter);
        assert_eq!(
            statement.sql,
            "SELECT id FROM jobs_jobs WHERE TRUE AND queue = ?2 AND class = ?3 AND instr(payload, ?4) > 0"
        );
        assert_eq!(statement.values.len(), 4);
    }
}
