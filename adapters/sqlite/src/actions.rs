//! Job actions ([`JobAction`]) on ids or on a filter: each one statement, so one round trip.

use jobs_core::adapter::{ErrorRecord, time_to_micros};
use jobs_core::{JobAction, Target};

use crate::adapter::SqliteAdapter;
use crate::error::SqliteError;
use crate::filter::Statement;

/// Dead → ready now (`?1`), errors kept.
const RETRY: &str = "UPDATE jobs_jobs SET state = 'available', run_at = ?1, finished_at = NULL \
                     WHERE state = 'dead' AND ";

/// Scheduled or retrying → ready now (`?1`).
const RUN_NOW: &str = "UPDATE jobs_jobs SET run_at = ?1 WHERE state = 'available' AND run_at > ?1 AND ";

/// Scheduled, ready or retrying → dead now (`?1`), with the error `?2` appended (its attempt is
/// the job's own).
const DISCARD: &str = "UPDATE jobs_jobs SET state = 'dead', finished_at = ?1, \
                       errors = json_insert(errors, '$[#]', json_set(json(?2), '$.attempt', attempts)) \
                       WHERE state = 'available' AND ";

/// Removed, unless running.
const DELETE: &str = "DELETE FROM jobs_jobs WHERE state <> 'running' AND ";

impl SqliteAdapter {
    pub(crate) async fn apply_action(&self, action: JobAction, target: &Target) -> Result<u64, SqliteError> {
        if matches!(target, Target::Ids(ids) if ids.is_empty()) {
            return Ok(0);
        }
        let now = self.now();
        let mut statement = match action {
            JobAction::Retry => Statement::new(RETRY, time_to_micros(now)),
            JobAction::RunNow => Statement::new(RUN_NOW, time_to_micros(now)),
            JobAction::Delete => Statement::new(DELETE, time_to_micros(now)),
            JobAction::Discard => {
                let error = ErrorRecord {
                    class: JobAction::DISCARDED.to_owned(),
                    message: JobAction::DISCARDED_MESSAGE.to_owned(),
                    attempt: 0,
                    at: now,
                };
                let error = serde_json::to_string(&error).map_err(|e| SqliteError::Malformed(e.to_string()))?;
                let mut statement = Statement::new(DISCARD, time_to_micros(now));
                statement.bind_next(&error);
                statement
            }
        };
        statement.push("(").target(target).push(")");
        let changed = statement.query().execute(self.pool()).await?.rows_affected();
        if changed > 0 && matches!(action, JobAction::Retry | JobAction::RunNow) {
            self.wake();
        }
        Ok(changed)
    }
}
