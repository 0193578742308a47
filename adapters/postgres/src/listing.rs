//! Listing jobs: a filter and a keyset page in one statement, the cursor being the last row's id.

use jobs_core::{Error, JobInfo, JobPage, ListParams};
use sqlx::AssertSqlSafe;

use crate::adapter::PostgresAdapter;
use crate::error::PostgresError;
use crate::filter::{Conditions, Value};
use crate::inspect::job_info;
use crate::sql::{INFO, SHOWN_STATE};

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
    /// One page of the jobs matching `params.filter`, after row `after`, in id order. The
    /// statement is written for the fields set and sent unprepared, so that it is planned for
    /// the values at hand (a rare state, a small queue) rather than generically.
    pub(crate) async fn list_jobs(&self, params: &ListParams, after: Option<i64>) -> Result<JobPage, PostgresError> {
        if params.limit == 0 {
            return Ok(JobPage::default());
        }
        let mut conditions = Conditions::default();
        conditions.filter(&params.filter);
        let (newer, order) = if params.newest_first { ("<", "DESC") } else { (">", "") };
        if let Some(after) = after {
            conditions.with(Value::Id(after), |p| format!("id {newer} {p}"));
        }
        let limit = i64::try_from(params.limit).unwrap_or(i64::MAX).saturating_add(1);
        let limit = conditions.bind(Value::Id(limit));
        let sql = format!(
            "SELECT {INFO} FROM (SELECT *, {SHOWN_STATE} AS shown FROM {}.jobs) j
             WHERE {} ORDER BY id {order} LIMIT {limit}",
            self.inner().schema.quoted,
            conditions.sql()
        );
        let rows = self
            .retrying("list", || {
                conditions.bind_all(sqlx::query(AssertSqlSafe(sql.as_str())).persistent(false)).fetch_all(self.pool())
            })
            .await?;
        let mut jobs = rows.iter().map(job_info).collect::<Result<Vec<_>, _>>()?;
        let next = if jobs.len() > params.limit {
            jobs.truncate(params.limit);
            jobs.last().map(|job: &JobInfo| job.id.clone())
        } else {
            None
        };
        Ok(JobPage { jobs, next })
    }
}
