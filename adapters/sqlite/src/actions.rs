//! Job actions ([`JobAction`]) on ids or on a filter: each one statement, so one round trip.
//! Which jobs each action changes follows [`JobAction::applies_to`], blocked jobs included.

use jobs_core::adapter::{ErrorRecord, time_to_micros};
use jobs_core::{JobAction, JobState, Target};

use crate::adapter::SqliteAdapter;
use crate::error::SqliteError;
use crate::filter::{Statement, state_condition};

// Each statement is followed by the states its action applies to (`JobAction::applies_to`), then
// by the target's condition.

/// Ready now (`?1`), or at its own due time if that is earlier (a blocked job keeps its place).
const RUN_NOW: &str =
    "UPDATE jobs_jobs SET state = 'available', run_at = min(run_at, ?1), concurrency_key = NULL WHERE ";

/// Ready now (`?1`), errors kept.
const RETRY: &str = "UPDATE jobs_jobs SET state = 'available', run_at = ?1, finished_at = NULL WHERE ";

/// Dead now (`?1`), with the error `?2` appended (its attempt is the job's own).
const DISCARD: &str = "UPDATE jobs_jobs SET state = 'dead', finished_at = ?1, concurrency_key = NULL, \
                       errors = json_insert(errors, '$[#]', json_set(json(?2), '$.attempt', attempts)) \
                       WHERE ";

/// Removed.
const DELETE: &str = "DELETE FROM jobs_jobs WHERE ";

/// The condition selecting the jobs in a state `action` applies to, as of `?1`.
fn applies(action: JobAction) -> String {
    let states: Vec<&str> =
        JobState::ALL.into_iter().filter(|state| action.applies_to(*state)).map(state_condition).collect();
    if states.is_empty() { "FALSE".to_owned() } else { format!("({})", states.join(" OR ")) }
}

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
        statement.push(&applies(action)).push(" AND (").target(target).push(")");
        let changed = statement.query().execute(self.pool()).await?.rows_affected();
        if changed > 0 && matches!(action, JobAction::Retry | JobAction::RunNow) {
            self.wake();
        }
        Ok(changed)
    }
}
