//! Unique jobs: the keys' holders are looked up, and the new jobs stored and made holders, in one
//! write transaction, so that of many enqueues of one key at once (on any number of connections
//! or processes) exactly one is stored while the key is held. Which jobs are duplicates is
//! decided by [`UniquePlan`], shared by the stores.

use std::collections::HashMap;

use jobs_core::Error;
use jobs_core::adapter::{JobState, KeyHolder, NewJob, UniqueOutcome, UniquePlan, Uniqueness, time_to_micros};
use sqlx::{Row, SqliteConnection};

use crate::adapter::SqliteAdapter;
use crate::error::SqliteError;
use crate::sql::{BEGIN_WRITE, UNIQUE_HOLDERS};

/// Makes the jobs of `?1`, a JSON array of `[key, holder, job_id, until]`, the holders of their
/// keys.
const TAKE_KEYS: &str = "
    INSERT INTO jobs_flow_uniques (key, holder, job_id, until)
    SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3 FROM json_each(?1) WHERE TRUE
    ON CONFLICT (key) DO UPDATE SET holder = excluded.holder, job_id = excluded.job_id, until = excluded.until";

impl SqliteAdapter {
    /// [`FlowStore::enqueue_unique`](jobs_core::adapter::FlowStore::enqueue_unique).
    pub(crate) async fn enqueue_unique_jobs(
        &self,
        jobs: &[NewJob],
        unique: &[Option<Uniqueness>],
    ) -> Result<Vec<UniqueOutcome>, Error> {
        let plan = UniquePlan::new(jobs, unique)?;
        if jobs.is_empty() {
            return Ok(Vec::new());
        }
        Ok(self.store_unique(plan, jobs).await?)
    }

    async fn store_unique(&self, plan: UniquePlan<'_>, jobs: &[NewJob]) -> Result<Vec<UniqueOutcome>, SqliteError> {
        let now = self.now();
        let mut tx = self.pool().begin_with(BEGIN_WRITE).await?;
        let holders = holders(&mut tx, &plan.keys(), time_to_micros(now)).await?;
        let plan = plan.decide(|key| holders.get(key).cloned());
        let stored: Vec<usize> = plan.stored().collect();
        let rows: Vec<serde_json::Value> = stored.iter().map(|index| SqliteAdapter::row(&jobs[*index], now)).collect();
        let ids = self.insert_in(&mut tx, &rows).await?;
        let id_of: HashMap<usize, i64> = stored.iter().copied().zip(ids.iter().copied()).collect();
        let taken: Vec<(&str, i64, &str, Option<i64>)> = plan
            .keys_taken()
            .map(|(index, rule)| {
                let job_id = jobs[index].data().job_id.as_str();
                (rule.key.as_str(), id_of[&index], job_id, rule.until.map(time_to_micros))
            })
            .collect();
        if !taken.is_empty() {
            let taken = serde_json::to_string(&taken).map_err(|e| SqliteError::Malformed(e.to_string()))?;
            sqlx::query(TAKE_KEYS).bind(taken).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        if !ids.is_empty() {
            self.wake();
        }
        Ok(plan.outcomes(ids.iter().map(|id| Some(id.to_string())).collect()))
    }
}

/// The stored holders of `keys` whose time has not passed at `now`, by key.
async fn holders(
    conn: &mut SqliteConnection,
    keys: &[&str],
    now: i64,
) -> Result<HashMap<String, KeyHolder>, SqliteError> {
    let keys = serde_json::to_string(keys).map_err(|e| SqliteError::Malformed(e.to_string()))?;
    let mut holders = HashMap::new();
    for row in sqlx::query(UNIQUE_HOLDERS).bind(now).bind(keys).fetch_all(&mut *conn).await? {
        let until: Option<i64> = row.try_get("until")?;
        if until.is_some_and(|until| until <= now) {
            continue;
        }
        let state: String = row.try_get("shown")?;
        let holder = KeyHolder {
            job_id: row.try_get("job_id")?,
            provider_job_id: Some(row.try_get::<i64, _>("holder")?.to_string()),
            state: state.parse::<JobState>().map_err(|e| SqliteError::Malformed(e.to_string()))?,
        };
        holders.insert(row.try_get("key")?, holder);
    }
    Ok(holders)
}
