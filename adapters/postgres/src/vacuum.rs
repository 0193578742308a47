//! Keeping the claim index clean. A claim and a completion each leave the row's previous version
//! dead, and its entry in the claim index (`jobs_available`) dead with it; the claimed jobs'
//! entries sit at the head of their queue's range, which is where the next claim starts reading.
//! Until VACUUM removes them every claim reads through all of them, so a draining backlog makes
//! each claim slower than the one before. Autovacuum is tuned for tables that change a little at
//! a time (and may be off); a jobs table changes every row twice in a drain.
//!
//! So claiming workers vacuum the table themselves: at most one at a time (an advisory lock),
//! once enough dead row versions have built up, and waiting ten times as long as the last vacuum
//! took before the next one, so that vacuuming costs at most a tenth of one server connection's
//! time. The check rides on claims (one atomic read per claim) and runs in the background: a
//! claim never waits for it.
//!
//! Only the jobs table needs this. Completed jobs live in `jobs_completed` (migration 7), which
//! no claim reads and no statement updates: rows are inserted at completion and deleted by age
//! (or by an operator). Its dead rows come only from pruning, a batch at a time, and cost no
//! claim anything, so the workers leave it to autovacuum, which reclaims the pruned rows' space
//! for the next inserts; on a server without autovacuum, a periodic `VACUUM` of it keeps the
//! table from growing past a retention's worth of jobs.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sqlx::Connection;

use crate::adapter::PostgresAdapter;
use crate::error::PostgresError;

/// The least time between two checks of the dead row count.
const CHECK_EVERY: Duration = Duration::from_secs(1);
/// The next vacuum waits this many times as long as the last one took.
const SPACING: u32 = 10;

/// When this process may next look at the dead row count, and whether it is vacuuming.
pub(crate) struct Vacuum {
    started: Instant,
    /// Milliseconds after `started` before which no check starts.
    next_check_ms: AtomicU64,
    running: AtomicBool,
    last_took: Mutex<Duration>,
}

impl Vacuum {
    pub(crate) fn new() -> Self {
        Vacuum {
            started: Instant::now(),
            next_check_ms: AtomicU64::new(0),
            running: AtomicBool::new(false),
            last_took: Mutex::new(Duration::ZERO),
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Takes the turn to check, if one is due and no check runs.
    fn take_turn(&self) -> bool {
        self.next_check_ms.load(Ordering::Relaxed) <= self.now_ms()
            && self.running.compare_exchange(false, true, Ordering::AcqRel, Ordering::Relaxed).is_ok()
    }

    /// Ends a turn; `took` is how long a vacuum ran, if one did.
    fn end_turn(&self, took: Option<Duration>) {
        let mut last = self.last_took.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(took) = took {
            *last = took;
        }
        let wait = CHECK_EVERY.max(*last * SPACING);
        let wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
        self.next_check_ms.store(self.now_ms().saturating_add(wait_ms), Ordering::Relaxed);
        self.running.store(false, Ordering::Release);
    }
}

/// A check in progress: ends the turn when dropped, also when its runtime drops the task.
struct Turn {
    adapter: PostgresAdapter,
    took: Option<Duration>,
}

impl Drop for Turn {
    fn drop(&mut self) {
        self.adapter.inner().vacuum.end_turn(self.took);
    }
}

impl PostgresAdapter {
    /// Starts a background check (and vacuum) of the jobs table if one is due. Called by claims.
    pub(crate) fn vacuum_when_due(&self) {
        let Some(threshold) = self.inner().settings.vacuum_after else { return };
        let vacuum = &self.inner().vacuum;
        if !vacuum.take_turn() {
            return;
        }
        let turn = Turn { adapter: self.clone(), took: None };
        tokio::spawn(async move {
            let mut turn = turn;
            match turn.adapter.vacuum_if_dead(threshold).await {
                Ok(took) => turn.took = took,
                Err(error) => {
                    tracing::warn!(target: "jobs", %error, "Vacuuming the PostgreSQL jobs table failed; the next check tries again");
                }
            }
        });
    }

    /// Vacuums the jobs table if it holds at least `threshold` dead row versions and no other
    /// worker is vacuuming it; returns how long the vacuum took, if one ran.
    async fn vacuum_if_dead(&self, threshold: u64) -> Result<Option<Duration>, PostgresError> {
        let inner = self.inner();
        let table = format!("{}.jobs", inner.schema.quoted);
        let dead: Option<i64> =
            sqlx::query_scalar("SELECT n_dead_tup FROM pg_stat_user_tables WHERE relid = $1::regclass")
                .bind(&table)
                .fetch_optional(self.pool())
                .await?;
        let dead = dead.and_then(|dead| u64::try_from(dead).ok()).unwrap_or(0);
        if dead < threshold {
            return Ok(None);
        }
        // VACUUM cannot run in a transaction, so the election is a session lock, on a connection
        // of its own that is closed afterwards (which releases the lock whatever happened).
        let mut conn = sqlx::PgConnection::connect_with(&inner.options).await?;
        let elected: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(inner.schema.lock_key("vacuum"))
            .fetch_one(&mut conn)
            .await?;
        let took = if elected {
            let start = Instant::now();
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("VACUUM (SKIP_LOCKED) {table}"))).execute(&mut conn).await?;
            let took = start.elapsed();
            tracing::debug!(target: "jobs", "Vacuumed {dead} dead row versions from {table} in {took:?}");
            Some(took)
        } else {
            None
        };
        let _ = conn.close().await;
        Ok(took)
    }
}
