//! Unique enqueues ([`FlowStore::enqueue_unique`](jobs_core::adapter::FlowStore::enqueue_unique)):
//! one transaction that takes the advisory locks of the batch's keys, reads which stored jobs
//! still hold them, stores the others and records the keys they take.
//!
//! Whether a job holds its key is read from its row at enqueue time (its state among the key's
//! states, the key's time not passed), so completions and failures write nothing for unique jobs.
//! Enqueues of one key on any number of connections queue up on its lock: the second one reads
//! the first one's commit and is a duplicate. A holder that completed is read from the completed
//! jobs' table (migration 7), where its completion moved it.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use jobs_core::adapter::{KeyHolder, NewJob, UniqueOutcome, UniquePlan, Uniqueness};
use jobs_core::{Error, JobState};
use sqlx::{AssertSqlSafe, PgConnection};

use crate::adapter::{PostgresAdapter, Rows, ids};
use crate::sql::every_job;

impl PostgresAdapter {
    /// Stores the jobs of `jobs` whose keys are free, in one transaction, retried whole on a new
    /// connection if the connection is lost. As for any enqueue, a connection lost after the
    /// commit but before its answer stores the jobs twice: the second time each job finds
    /// itself holding its key (the same `job_id`) and takes it over.
    pub(crate) async fn store_unique(
        &self,
        jobs: &[NewJob],
        unique: &[Option<Uniqueness>],
    ) -> Result<Vec<UniqueOutcome>, Error> {
        let plan = UniquePlan::new(jobs, unique)?;
        if plan.keys().is_empty() {
            // No key to check: a plain enqueue, as enqueue_all stores it.
            let stored = jobs_core::adapter::Adapter::enqueue_all(self, jobs).await?;
            return Ok(stored.into_iter().map(UniqueOutcome::Stored).collect());
        }
        let outcomes = self
            .retrying("enqueue_unique", || async {
                let mut tx = self.pool().begin().await?;
                let outcomes = self.store_unique_in(&mut tx, jobs, plan.clone()).await?;
                tx.commit().await?;
                Ok(outcomes)
            })
            .await?;
        Ok(outcomes)
    }

    /// Takes the advisory locks of unique keys until the end of the transaction, in one order (by
    /// lock id), so that transactions sharing keys never deadlock.
    async fn lock_unique_keys(&self, tx: &mut PgConnection, keys: &[&str]) -> Result<(), sqlx::Error> {
        let schema = &self.inner().schema;
        let mut locks: Vec<i64> = keys.iter().map(|key| schema.lock_key(&format!("unique/{key}"))).collect();
        locks.sort_unstable();
        locks.dedup();
        sqlx::query("SELECT count(pg_advisory_xact_lock(k)) FROM unnest($1::int8[]) AS k")
            .bind(&locks)
            .execute(&mut *tx)
            .await?;
        Ok(())
    }

    /// Deletes up to 1000 keys that hold nothing any more (their holder gone, finished in a state
    /// its own declaration does not name, or the key's time passed); returns how many. The keys
    /// are locked before the delete, which checks again, so that a key taken by an enqueue
    /// meanwhile stays.
    pub(crate) async fn prune_unique_keys(&self) -> Result<u64, sqlx::Error> {
        let s = &self.inner().schema.quoted;
        let every = every_job(s);
        let released = format!(
            "(u.held_until <= now() OR NOT EXISTS (
                SELECT 1 FROM {every} j WHERE j.id = u.holder
                AND (j.state NOT IN ('completed', 'dead') OR j.state = ANY(u.states))))"
        );
        let mut tx = self.pool().begin().await?;
        let keys: Vec<String> = sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT u.key FROM {s}.unique_keys u WHERE {released} LIMIT 1000"
        )))
        .fetch_all(&mut *tx)
        .await?;
        if keys.is_empty() {
            tx.commit().await?;
            return Ok(0);
        }
        let names: Vec<&str> = keys.iter().map(String::as_str).collect();
        self.lock_unique_keys(&mut tx, &names).await?;
        let done = sqlx::query(AssertSqlSafe(format!(
            "DELETE FROM {s}.unique_keys u WHERE u.key = ANY($1::text[]) AND {released}"
        )))
        .bind(&keys)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }

    async fn store_unique_in(
        &self,
        tx: &mut PgConnection,
        jobs: &[NewJob],
        plan: UniquePlan<'_>,
    ) -> Result<Vec<UniqueOutcome>, sqlx::Error> {
        let keys = plan.keys();
        self.lock_unique_keys(&mut *tx, &keys).await?;
        let s = &self.inner().schema.quoted;
        let every = every_job(s);
        // After the locks: this statement sees every enqueue of these keys that went before.
        let holders: Vec<(String, i64, String, String)> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT u.key, u.holder, u.job_id, j.shown
             FROM {s}.unique_keys u JOIN {every} j ON j.id = u.holder
             WHERE u.key = ANY($1::text[]) AND (u.held_until IS NULL OR u.held_until > now())"
        )))
        .bind(&keys)
        .fetch_all(&mut *tx)
        .await?;
        let mut holder_of = HashMap::new();
        for (key, holder, job_id, state) in holders {
            let state = state.parse::<JobState>().map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
            holder_of.insert(key, KeyHolder { job_id, provider_job_id: Some(holder.to_string()), state });
        }
        let plan = plan.decide(|key| holder_of.get(key).cloned());

        let stored: Vec<&NewJob> = plan.stored().map(|index| &jobs[index]).collect();
        let rows = Rows::of(stored.iter().copied());
        let wake = rows.distinct_queues();
        // The wake-ups are sent when the transaction commits.
        let new_ids = if stored.is_empty() { Vec::new() } else { self.insert(&mut *tx, &rows, &wake).await? };

        let mut taken = KeyRows::default();
        let id_of: HashMap<usize, i64> = plan.stored().zip(new_ids.iter().copied()).collect();
        for (index, rule) in plan.keys_taken() {
            let Some(&id) = id_of.get(&index) else { continue };
            taken.push(rule, id, &jobs[index].data().job_id);
        }
        if !taken.keys.is_empty() {
            sqlx::query(AssertSqlSafe(format!(
                "INSERT INTO {s}.unique_keys (key, holder, job_id, states, held_until)
                 SELECT key, holder, job_id, string_to_array(states, ','), held_until
                 FROM unnest($1::text[], $2::int8[], $3::text[], $4::text[], $5::timestamptz[])
                     AS t(key, holder, job_id, states, held_until)
                 ON CONFLICT (key) DO UPDATE SET holder = excluded.holder, job_id = excluded.job_id,
                     states = excluded.states, held_until = excluded.held_until"
            )))
            .bind(&taken.keys)
            .bind(&taken.holders)
            .bind(&taken.job_ids)
            .bind(&taken.states)
            .bind(&taken.until)
            .execute(&mut *tx)
            .await?;
        }
        Ok(plan.outcomes(ids(new_ids)))
    }
}

/// The keys taken, column by column, as the upsert takes them.
#[derive(Default)]
struct KeyRows {
    keys: Vec<String>,
    holders: Vec<i64>,
    job_ids: Vec<String>,
    /// The states, comma-separated.
    states: Vec<String>,
    until: Vec<Option<DateTime<Utc>>>,
}

impl KeyRows {
    fn push(&mut self, rule: &Uniqueness, holder: i64, job_id: &str) {
        self.keys.push(rule.key.clone());
        self.holders.push(holder);
        self.job_ids.push(job_id.to_owned());
        self.states.push(rule.states.iter().map(|state| state.as_str()).collect::<Vec<_>>().join(","));
        self.until.push(rule.until);
    }
}
