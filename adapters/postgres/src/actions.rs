//! Operators' actions on jobs ([`JobAction`]): one statement per call, whether it names jobs by
//! id or by filter; running jobs are never selected. Only a delete applies to completed jobs
//! ([`JobAction::applies_to`]), which live in a table of their own: it deletes from both tables.

use jobs_core::{JobAction, Target};
use sqlx::AssertSqlSafe;

use crate::adapter::PostgresAdapter;
use crate::error::PostgresError;
use crate::filter::{Conditions, Value, action_condition};

/// The time of a recorded error as the worker writes it (`ErrorRecord::at`): RFC 3339, UTC.
const NOW_UTC: &str = r#"to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"#;

impl PostgresAdapter {
    /// Applies `action` to the jobs `target` selects; returns how many changed. Jobs made ready
    /// (retry, run now) wake the idle workers of their queues, as an enqueue does.
    pub(crate) async fn apply_action(&self, action: JobAction, target: &Target) -> Result<u64, PostgresError> {
        if matches!(target, Target::Ids(ids) if ids.is_empty()) {
            return Ok(0);
        }
        let schema = &self.inner().schema.quoted;
        let jobs = format!("{schema}.jobs");
        let mut conditions = Conditions::default();
        conditions.add(&action_condition(action));
        conditions.target(target);
        // The rows changed, as data-modifying CTEs (only allowed at the top level) whose last
        // one, `changed`, returns each changed job's queue.
        let changed = match action {
            JobAction::Retry => format!(
                "changed AS (UPDATE {jobs} SET state = 'available', run_at = now(), finished_at = NULL
                             WHERE {} RETURNING queue)",
                conditions.sql()
            ),
            // A blocked job (where run now applies to it) becomes ready in its place in line.
            JobAction::RunNow => format!(
                "changed AS (UPDATE {jobs} SET state = 'available', run_at = least(run_at, now())
                             WHERE {} RETURNING queue)",
                conditions.sql()
            ),
            JobAction::Discard => {
                let where_ = conditions.sql();
                let class = conditions.bind(Value::Text(JobAction::DISCARDED.to_owned()));
                let message = conditions.bind(Value::Text(JobAction::DISCARDED_MESSAGE.to_owned()));
                format!(
                    "changed AS (UPDATE {jobs} SET state = 'dead', finished_at = now(),
                        errors = errors || jsonb_build_array(jsonb_build_object(
                            'class', {class}::text, 'message', {message}::text, 'attempt', attempts, 'at', {NOW_UTC}))
                     WHERE {where_} RETURNING queue)"
                )
            }
            // The completed jobs' table has the same columns: the conditions read the same there.
            JobAction::Delete => {
                let where_ = conditions.sql();
                format!(
                    "live AS (DELETE FROM {jobs} WHERE {where_} RETURNING queue),
                     done AS (DELETE FROM {schema}.jobs_completed WHERE {where_} RETURNING queue),
                     changed AS (SELECT queue FROM live UNION ALL SELECT queue FROM done)"
                )
            }
        };
        let wakes = matches!(action, JobAction::Retry | JobAction::RunNow);
        let channel = if wakes { conditions.bind(Value::Text(self.inner().channel.clone())) } else { "NULL".into() };
        // The notifications go out when the statement commits, so workers see the jobs ready.
        let sql = format!(
            "WITH {changed}
             SELECT count(*) AS n,
                    (SELECT count(*) FROM (SELECT pg_notify({channel}, queue) FROM
                        (SELECT DISTINCT queue FROM changed) q WHERE {wakes}) w) AS woken
             FROM changed"
        );
        let changed: i64 = self
            .retrying(action.as_str(), || {
                let query = conditions.bind_all(sqlx::query(AssertSqlSafe(sql.as_str())).persistent(false));
                async move {
                    use sqlx::Row;
                    query.fetch_one(self.pool()).await?.try_get::<i64, _>("n")
                }
            })
            .await?;
        Ok(u64::try_from(changed).unwrap_or(0))
    }
}
