//! Unique jobs: the key's holder is looked up, and the new jobs stored and made holders, in one
//! write transaction, so that of many enqueues of one key at once (on any number of connections
//! or processes) exactly one is stored while the key is held.

use std::collections::HashMap;

use jobs_core::Error;
use jobs_core::adapter::{JobState, NewJob, UniqueOutcome, Uniqueness, time_to_micros};
use sqlx::Row;

use crate::adapter::SqliteAdapter;
use crate::error::SqliteError;
use crate::sql::{BEGIN_WRITE, UNIQUE_HOLDERS};

/// Makes the jobs of `?1`, a JSON array of `[key, holder, job_id, until]`, the holders of their
/// keys.
const TAKE_KEYS: &str = "
    INSERT INTO jobs_flow_uniques (key, holder, job_id, until)
    SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3 FROM json_each(?1) WHERE TRUE
    ON CONFLICT (key) DO UPDATE SET holder = excluded.holder, job_id = excluded.job_id, until = excluded.until";

/// The stored holder of a unique key.
struct Holder {
    id: i64,
    job_id: String,
    /// The state it shows now.
    shown: JobState,
    /// Until when it holds the key at most.
    until: Option<i64>,
}

impl Holder {
    /// Whether it holds the key against an enqueue whose rule is `rule`, at `now`: it is in one
    /// of the states the rule names, and its own time is not over.
    fn holds(&self, rule: &Uniqueness, now: i64) -> bool {
        self.until.is_none_or(|until| until > now) && rule.states.contains(&self.shown)
    }
}

/// What becomes of one job of the batch.
#[derive(Clone)]
enum Fate {
    /// Stored, as the stored job of this index.
    Stored(usize),
    /// A duplicate of a job stored before: its job_id and id.
    Duplicate { job_id: String, id: i64 },
    /// A duplicate of the batch's own earlier job, stored as the stored job of this index.
    DuplicateOfStored(usize),
}

impl SqliteAdapter {
    /// [`FlowStore::enqueue_unique`](jobs_core::adapter::FlowStore::enqueue_unique).
    pub(crate) async fn enqueue_unique_jobs(
        &self,
        jobs: &[NewJob],
        unique: &[Option<Uniqueness>],
    ) -> Result<Vec<UniqueOutcome>, Error> {
        if jobs.len() != unique.len() {
            return Err(Error::Config(format!(
                "enqueue_unique was given {} jobs but {} uniqueness rules: give one (or None) per job",
                jobs.len(),
                unique.len()
            )));
        }
        if jobs.is_empty() {
            return Ok(Vec::new());
        }
        Ok(self.store_unique(jobs, unique).await?)
    }

    async fn store_unique(
        &self,
        jobs: &[NewJob],
        unique: &[Option<Uniqueness>],
    ) -> Result<Vec<UniqueOutcome>, SqliteError> {
        let now = self.now();
        let now_micros = time_to_micros(now);
        let keys: Vec<&str> = unique.iter().flatten().map(|u| u.key.as_str()).collect();
        let keys = serde_json::to_string(&keys).map_err(|e| SqliteError::Malformed(e.to_string()))?;
        let mut tx = self.pool().begin_with(BEGIN_WRITE).await?;
        let mut holders = HashMap::new();
        for row in sqlx::query(UNIQUE_HOLDERS).bind(now_micros).bind(keys).fetch_all(&mut *tx).await? {
            let shown: String = row.try_get("shown")?;
            let shown = shown.parse::<JobState>().map_err(|e| SqliteError::Malformed(e.to_string()))?;
            let holder = Holder {
                id: row.try_get("holder")?,
                job_id: row.try_get("job_id")?,
                shown,
                until: row.try_get("until")?,
            };
            holders.insert(row.try_get::<String, _>("key")?, holder);
        }

        // Each job's fate, in order: the first of the batch with a key meets the stored holder,
        // the later ones meet the first.
        let mut first_of_key: HashMap<&str, Fate> = HashMap::new();
        let mut fates = Vec::with_capacity(jobs.len());
        let mut stored: Vec<&NewJob> = Vec::with_capacity(jobs.len());
        let mut taken: Vec<(usize, &Uniqueness)> = Vec::new();
        for (job, rule) in jobs.iter().zip(unique) {
            let duplicate = rule.as_ref().and_then(|rule| match first_of_key.get(rule.key.as_str()) {
                Some(Fate::Stored(first)) => Some(Fate::DuplicateOfStored(*first)),
                Some(first) => Some(first.clone()),
                None => holders
                    .get(&rule.key)
                    .filter(|holder| holder.holds(rule, now_micros) && holder.job_id != job.data().job_id)
                    .map(|holder| Fate::Duplicate { job_id: holder.job_id.clone(), id: holder.id }),
            });
            let fate = duplicate.unwrap_or_else(|| {
                if let Some(rule) = rule {
                    taken.push((stored.len(), rule));
                }
                stored.push(job);
                Fate::Stored(stored.len() - 1)
            });
            if let Some(rule) = rule {
                first_of_key.entry(rule.key.as_str()).or_insert_with(|| fate.clone());
            }
            fates.push(fate);
        }

        let rows: Vec<serde_json::Value> = stored.iter().map(|job| SqliteAdapter::row(job, now)).collect();
        let ids = self.insert_in(&mut tx, &rows).await?;
        if !taken.is_empty() {
            let keys: Vec<(&str, i64, &str, Option<i64>)> = taken
                .iter()
                .map(|(index, rule)| {
                    let job_id = stored[*index].data().job_id.as_str();
                    (rule.key.as_str(), ids[*index], job_id, rule.until.map(time_to_micros))
                })
                .collect();
            let keys = serde_json::to_string(&keys).map_err(|e| SqliteError::Malformed(e.to_string()))?;
            sqlx::query(TAKE_KEYS).bind(keys).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        if !stored.is_empty() {
            self.wake();
        }
        Ok(fates
            .into_iter()
            .map(|fate| match fate {
                Fate::Stored(index) => UniqueOutcome::Stored(Some(ids[index].to_string())),
                Fate::Duplicate { job_id, id } => {
                    UniqueOutcome::Duplicate { job_id, provider_job_id: Some(id.to_string()) }
                }
                Fate::DuplicateOfStored(index) => UniqueOutcome::Duplicate {
                    job_id: stored[index].data().job_id.clone(),
                    provider_job_id: Some(ids[index].to_string()),
                },
            })
            .collect())
    }
}
