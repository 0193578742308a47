//! Concurrency slots: taken, released and expired in one write transaction each, so that a job
//! is never blocked on a key whose slots all freed meanwhile (SQLite has one writer at a time,
//! across every connection and process on the file).

use jobs_core::adapter::{SlotOutcome, SlotParams, Ticket, duration_to_micros, time_to_micros};

use crate::adapter::SqliteAdapter;
use crate::error::SqliteError;
use crate::sql::BEGIN_WRITE;

/// Whether job `?1` runs under the claim with token `?2`.
const CURRENT_CLAIM: &str =
    "SELECT EXISTS (SELECT 1 FROM jobs_jobs WHERE id = ?1 AND token = ?2 AND state = 'running')";

/// Holds the slot of key `?1` that job `?2` holds still (its hold not over at `?4`) until `?3`,
/// from now on under the claim with token `?5` (a rescued job's rerun takes its slot over).
const REFRESH_SLOT: &str =
    "UPDATE jobs_flow_slots SET expires_at = ?3, token = ?5 WHERE key = ?1 AND holder = ?2 AND expires_at > ?4";

/// How many slots of key `?1` are held at `?2`.
const HELD_SLOTS: &str = "SELECT count(*) FROM jobs_flow_slots WHERE key = ?1 AND expires_at > ?2";

/// Takes a slot of key `?1` for job `?2` under the claim with token `?4` until `?3` (over the row
/// of a hold of its own that ran out).
const TAKE_SLOT: &str = "INSERT INTO jobs_flow_slots (key, holder, expires_at, token) VALUES (?1, ?2, ?3, ?4)
    ON CONFLICT (key, holder) DO UPDATE SET expires_at = excluded.expires_at, token = excluded.token";

/// Blocks job `?1` running under the claim with token `?2` on key `?3`: its claim ends and the
/// attempt the claim counted is given back, as a release does.
const BLOCK: &str = "UPDATE jobs_jobs
    SET state = 'blocked', concurrency_key = ?3, attempts = max(attempts - 1, 0), lease_until = NULL,
        worker_id = NULL
    WHERE id = ?1 AND token = ?2 AND state = 'running'";

/// Frees the slot of key `?1` held by job `?2` under the claim with token `?3`.
const RELEASE_SLOT: &str = "DELETE FROM jobs_flow_slots WHERE key = ?1 AND holder = ?2 AND token = ?3";

/// Makes the first `?2` blocked jobs of key `?1` ready: priority, then FIFO.
const UNBLOCK: &str = "UPDATE jobs_jobs SET state = 'available', concurrency_key = NULL
    WHERE id IN (SELECT id FROM jobs_jobs INDEXED BY jobs_jobs_blocked
                 WHERE state = 'blocked' AND concurrency_key = ?1
                 ORDER BY priority, id LIMIT ?2)";

/// Is there anything for [`SqliteAdapter::expire`] to do at `?1`? A plain read, so that idle
/// workers never take the write lock for it.
const ANY_EXPIRED: &str = "SELECT EXISTS (SELECT 1 FROM jobs_flow_slots WHERE expires_at <= ?1)
    OR EXISTS (SELECT 1 FROM jobs_jobs WHERE state = 'blocked'
               AND NOT EXISTS (SELECT 1 FROM jobs_flow_slots s WHERE s.key = jobs_jobs.concurrency_key))
    OR EXISTS (SELECT 1 FROM jobs_flow_counts WHERE expires_at <= ?1)
    OR EXISTS (SELECT 1 FROM jobs_flow_uniques WHERE until <= ?1)";

/// The slots whose hold is over at `?1`, counted by key.
const EXPIRED_SLOTS: &str =
    "SELECT key, count(*) FROM jobs_flow_slots WHERE expires_at <= ?1 GROUP BY key ORDER BY key";

/// Frees the slots whose hold is over at `?1`.
const DELETE_EXPIRED_SLOTS: &str = "DELETE FROM jobs_flow_slots WHERE expires_at <= ?1";

/// Makes ready every blocked job of a key that has no slot held: nothing would release one.
const UNBLOCK_UNHELD: &str = "UPDATE jobs_jobs SET state = 'available', concurrency_key = NULL
    WHERE state = 'blocked'
      AND NOT EXISTS (SELECT 1 FROM jobs_flow_slots s WHERE s.key = jobs_jobs.concurrency_key)";

/// Forgets the throttle counts whose time is over at `?1`.
const DELETE_EXPIRED_COUNTS: &str = "DELETE FROM jobs_flow_counts WHERE expires_at <= ?1";

/// Frees the unique keys held no longer than `?1`.
const DELETE_EXPIRED_UNIQUES: &str = "DELETE FROM jobs_flow_uniques WHERE until <= ?1";

impl SqliteAdapter {
    /// [`FlowStore::acquire_slot`](jobs_core::adapter::FlowStore::acquire_slot): one write
    /// transaction that checks the claim, takes a slot or blocks the job.
    pub(crate) async fn acquire(&self, params: SlotParams<'_>) -> Result<SlotOutcome, SqliteError> {
        let Ok(id) = params.ticket.id.parse::<i64>() else { return Ok(SlotOutcome::Stale) };
        let token = params.ticket.token;
        let now = time_to_micros(self.now());
        let until = now.saturating_add(duration_to_micros(params.hold));
        let mut tx = self.pool().begin_with(BEGIN_WRITE).await?;
        let current: bool = sqlx::query_scalar(CURRENT_CLAIM).bind(id).bind(token).fetch_one(&mut *tx).await?;
        if !current {
            return Ok(SlotOutcome::Stale);
        }
        let refreshed =
            sqlx::query(REFRESH_SLOT).bind(params.key).bind(id).bind(until).bind(now).bind(token).execute(&mut *tx);
        if refreshed.await?.rows_affected() > 0 {
            tx.commit().await?;
            return Ok(SlotOutcome::Acquired);
        }
        let held: i64 = sqlx::query_scalar(HELD_SLOTS).bind(params.key).bind(now).fetch_one(&mut *tx).await?;
        if held < i64::from(params.limit) {
            sqlx::query(TAKE_SLOT).bind(params.key).bind(id).bind(until).bind(token).execute(&mut *tx).await?;
            tx.commit().await?;
            return Ok(SlotOutcome::Acquired);
        }
        if !params.block {
            return Ok(SlotOutcome::Full);
        }
        sqlx::query(BLOCK).bind(id).bind(token).bind(params.key).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(SlotOutcome::Blocked)
    }

    /// [`FlowStore::release_slot`](jobs_core::adapter::FlowStore::release_slot): frees the slot
    /// held under the claim `ticket` and makes the first blocked job of the key ready, in one
    /// write transaction. A release by a claim that held no slot (none, or its job's slot is held
    /// by a later claim) makes one ready only when the key has no slot held at all (else a
    /// holder's own release will).
    pub(crate) async fn release(&self, key: &str, ticket: &Ticket) -> Result<bool, SqliteError> {
        let Ok(holder) = ticket.id.parse::<i64>() else { return Ok(false) };
        let now = time_to_micros(self.now());
        let mut tx = self.pool().begin_with(BEGIN_WRITE).await?;
        let release = sqlx::query(RELEASE_SLOT).bind(key).bind(holder).bind(ticket.token);
        let freed = release.execute(&mut *tx).await?.rows_affected() > 0;
        let unheld = !freed && {
            let held: i64 = sqlx::query_scalar(HELD_SLOTS).bind(key).bind(now).fetch_one(&mut *tx).await?;
            held == 0
        };
        let mut ready = 0;
        if freed || unheld {
            ready = sqlx::query(UNBLOCK).bind(key).bind(1_i64).execute(&mut *tx).await?.rows_affected();
        }
        tx.commit().await?;
        if ready > 0 {
            self.wake();
        }
        Ok(freed)
    }

    /// [`FlowStore::expire_slots`](jobs_core::adapter::FlowStore::expire_slots), with the
    /// forgetting of throttle counts and unique keys whose time is over: a read when there is
    /// nothing to do, else one write transaction.
    pub(crate) async fn expire(&self) -> Result<u64, SqliteError> {
        let now = time_to_micros(self.now());
        let any: bool = sqlx::query_scalar(ANY_EXPIRED).bind(now).fetch_one(self.pool()).await?;
        if !any {
            return Ok(0);
        }
        let mut tx = self.pool().begin_with(BEGIN_WRITE).await?;
        let expired: Vec<(String, i64)> = sqlx::query_as(EXPIRED_SLOTS).bind(now).fetch_all(&mut *tx).await?;
        sqlx::query(DELETE_EXPIRED_SLOTS).bind(now).execute(&mut *tx).await?;
        let mut ready = 0;
        for (key, freed) in &expired {
            ready += sqlx::query(UNBLOCK).bind(key).bind(freed).execute(&mut *tx).await?.rows_affected();
        }
        ready += sqlx::query(UNBLOCK_UNHELD).execute(&mut *tx).await?.rows_affected();
        sqlx::query(DELETE_EXPIRED_COUNTS).bind(now).execute(&mut *tx).await?;
        sqlx::query(DELETE_EXPIRED_UNIQUES).bind(now).execute(&mut *tx).await?;
        tx.commit().await?;
        if ready > 0 {
            self.wake();
        }
        Ok(ready)
    }
}
