//! Listing jobs: a filter and a keyset page in one statement, the cursor being the last row's id.
//!
//! Completed jobs live in a table of their own (migration 7): a listing of completed jobs reads
//! only that table, one of another state only the jobs table, and one of every state both, merged
//! in id order, so that the oldest waiting jobs are never found behind the completed ones.

use jobs_core::{Error, JobPage, JobState, ListParams};
use sqlx::{AssertSqlSafe, Row};

use crate::adapter::PostgresAdapter;
use crate::error::PostgresError;
use crate::filter::{Conditions, Value};
use crate::inspect::job_info;
use crate::sql::{COLUMNS, INFO, SHOWN_STATE};

/// The id a page starts after: the [`JobPage::next`] of the page before, which is a row id.
pub(crate) fn cursor(params: &ListParams) -> Result<Option<i64>, Error> {
    params
        .after
        .as_deref()
        .map(|cursor| {
            cursor.parse::<i64>().map_err(|_| {
                Error::Config(format!(
                    "invalid page cursor `{cursor}` for the PostgreSQL adapter: pass the `next` of a previous page"
                ))
            })
        })
        .transpose()
}

impl PostgresAdapter {
    /// The listing statement for `params` after row `after`, written for the filter fields that
    /// are set, and its values; it asks for one row more than the page, to know if one follows.
    fn listing(&self, params: &ListParams, after: Option<i64>) -> (String, Conditions) {
        let mut conditions = Conditions::default();
        conditions.filter(&params.filter);
        let (newer, order) = if params.newest_first { ("<", "DESC") } else { (">", "") };
        if let Some(after) = after {
            conditions.with(Value::Id(after), |p| format!("id {newer} {p}"));
        }
        let limit = i64::try_from(params.limit).unwrap_or(i64::MAX).saturating_add(1);
        let limit = conditions.bind(Value::Id(limit));
        let schema = &self.inner().schema.quoted;
        let jobs = format!("(SELECT *, {SHOWN_STATE} AS shown FROM {schema}.jobs) j");
        let completed = format!("(SELECT {COLUMNS}, 'completed' AS shown FROM {schema}.jobs_completed) j");
        let page = |table: &str, group: &str| {
            format!("SELECT {INFO} FROM {table} WHERE {}{group} ORDER BY id {order} LIMIT {limit}", conditions.sql())
        };
        let pages: Vec<String> = match params.filter.state {
            Some(JobState::Completed) => vec![page(&completed, "")],
            Some(_) => vec![page(&jobs, "")],
            // A queue's jobs in any state are indexed by state group (jobs_available,
            // jobs_blocked, jobs_leases, jobs_finished_queue, and the completed jobs' queue
            // index), none of which holds them all: one page per group, merged.
            None if params.filter.queue.is_some() => {
                let groups =
                    ["state = 'available'", "state = 'blocked'", "state = 'running'", "state IN ('completed', 'dead')"];
                let mut pages: Vec<String> = groups.iter().map(|group| page(&jobs, &format!(" AND {group}"))).collect();
                pages.push(page(&completed, ""));
                pages
            }
            None => vec![page(&jobs, ""), page(&completed, "")],
        };
        let sql = if let [only] = pages.as_slice() {
            only.clone()
        } else {
            let pages: Vec<String> = pages.iter().map(|page| format!("({page})")).collect();
            format!("SELECT * FROM ({}) page ORDER BY id {order} LIMIT {limit}", pages.join(" UNION ALL "))
        };
        (sql, conditions)
    }

    /// One page of the jobs matching `params.filter`, after row `after`, in id order. The
    /// statement is sent unprepared, so that it is planned for the values at hand (a rare state,
    /// a small queue) rather than generically.
    pub(crate) async fn list_jobs(&self, params: &ListParams, after: Option<i64>) -> Result<JobPage, PostgresError> {
        if params.limit == 0 {
            return Ok(JobPage::default());
        }
        let (sql, conditions) = self.listing(params, after);
        let rows = self
            .retrying("list", || {
                conditions.bind_all(sqlx::query(AssertSqlSafe(sql.as_str())).persistent(false)).fetch_all(self.pool())
            })
            .await?;
        let jobs = rows.iter().map(job_info).collect::<Result<Vec<_>, _>>()?;
        Ok(JobPage::from_fetched(jobs, params.limit))
    }

    /// How PostgreSQL runs the listing `params`: the plan of the statement
    /// [`Inspect::list`](jobs_core::Inspect::list) sends, run with `EXPLAIN (ANALYZE, BUFFERS)`,
    /// for operators checking that a listing over many jobs uses an index.
    ///
    /// ```no_run
    /// # use jobs_core::{JobState, ListParams};
    /// # async fn demo(postgres: jobs_postgres::PostgresAdapter) -> Result<(), jobs_core::Error> {
    /// println!("{}", postgres.explain_list(&ListParams::new().state(JobState::Dead)).await?);
    /// # Ok(()) }
    /// ```
    pub async fn explain_list(&self, params: &ListParams) -> Result<String, Error> {
        let after = cursor(params)?;
        let (sql, conditions) = self.listing(params, after);
        let explain = format!("EXPLAIN (ANALYZE, BUFFERS) {sql}");
        let rows = self
            .retrying("explain", || {
                conditions
                    .bind_all(sqlx::query(AssertSqlSafe(explain.as_str())).persistent(false))
                    .fetch_all(self.pool())
            })
            .await?;
        let lines = rows.iter().map(|row| row.try_get::<String, _>(0)).collect::<Result<Vec<_>, _>>();
        Ok(lines.map_err(PostgresError::from)?.join("\n"))
    }
}
