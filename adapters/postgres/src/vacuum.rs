//! Keeping the claim index clean. A claim and a completion each leave the row's previous version
//! dead, and its entry in the claim index (`jobs_available`) dead with it; the claimed jobs'
//! entries sit at the head of their queue's range, which is where the next claim starts reading.
//! Until VACUUM removes them every claim reads through all of them, so a draining backlog makes
//! each claim slower than the one before. Autovacuum is tuned for tables that change a little at
//! a time (and may be off); a jobs table changes every row twice in a drain.
//!
//! So claiming workers vacuum the table themselves: at most one at a time (an advisory lock),
//! once enough dead row versions have built up, and waiting three times as long as the last vacuum
//! took before the next one, so that vacuuming costs at most a quarter of one server connection's
//! time. The check rides on claims (one atomic read per claim) and runs in the background: a
//! claim never waits for it.
//!
//! A vacuum reads every index of the table whole, so its time grows with the jobs stored, not
//! with the dead ones; a backlog of a million scheduled jobs makes each one take about a second.
//! Between two vacuums the claims read through the dead entries of every job claimed since the
//! last, so the spacing trades vacuum time for claim time: with a spacing of ten, a drain beside a
//! million scheduled jobs let 230 000 dead entries gather and its claims read ~1 500 index pages
//! each (27 % slower than without the backlog); with three, 10 % (BENCHMARKS.md).
//!
//! Completed jobs live in `jobs_completed` (migration 7), which no claim reads and no statement
//! updates: rows are inserted at completion and deleted by age (or by an operator). Its dead rows
//! come only from pruning and cost no claim anything, but until a vacuum their space is not reused,
//! so on a server without autovacuum the table would grow by every job ever completed. The same
//! check covers it: either table is vacuumed once it holds the threshold's dead row versions.
//!
//! `VACUUM` by a role that may not vacuum a table (not its owner) only warns and does nothing, so
//! the check asks first, and skips such a table with one warning per process.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sqlx::Connection;

use crate::adapter::PostgresAdapter;
use crate::error::PostgresError;

/// The least time between two checks of the dead row count.
const CHECK_EVERY: Duration = Duration::from_secs(1);
/// The next vacuum waits this many times as long as the last one took.
const SPACING: u32 = 3;
/// The tables the workers vacuum, in the schema.
const TABLES: [&str; 2] = ["jobs", "jobs_completed"];
/// $1: the tables' qualified names. Each one's dead row versions, and whether this role may
/// vacuum it: its owner (or a member of the owner's role, superusers included), the database's
/// owner, or from PostgreSQL 17 a role granted `MAINTAIN` on it.
const DEAD_ROWS: &str = "SELECT t.name, coalesce(s.n_dead_tup, 0),
        pg_has_role(c.relowner, 'USAGE')
        OR pg_has_role((SELECT datdba FROM pg_database WHERE datname = current_database()), 'USAGE')
        OR CASE WHEN current_setting('server_version_num')::int >= 170000
                THEN has_table_privilege(c.oid, 'MAINTAIN') ELSE false END
    FROM unnest($1::text[]) AS t(name)
    JOIN pg_class c ON c.oid = to_regclass(t.name)
    LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid";

/// When this process may next look at the dead row count, and whether it is vacuuming.
pub(crate) struct Vacuum {
    started: Instant,
    /// Milliseconds after `started` before which no check starts.
    next_check_ms: AtomicU64,
    running: AtomicBool,
    last_took: Mutex<Duration>,
    /// Whether this process said that it may not vacuum a table.
    refused: AtomicBool,
}

impl Vacuum {
    pub(crate) fn new() -> Self {
        Vacuum {
            started: Instant::now(),
            next_check_ms: AtomicU64::new(0),
            running: AtomicBool::new(false),
            last_took: Mutex::new(Duration::ZERO),
            refused: AtomicBool::new(false),
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

    /// Vacuums each table of [`TABLES`] that holds at least `threshold` dead row versions, if no
    /// other worker is vacuuming; returns how long the vacuums took, if any ran.
    async fn vacuum_if_dead(&self, threshold: u64) -> Result<Option<Duration>, PostgresError> {
        let inner = self.inner();
        let tables: Vec<String> = TABLES.iter().map(|table| format!("{}.{table}", inner.schema.quoted)).collect();
        let rows: Vec<(String, i64, bool)> = sqlx::query_as(DEAD_ROWS).bind(&tables).fetch_all(self.pool()).await?;
        let mut due = Vec::new();
        for (table, dead, allowed) in rows {
            let dead = u64::try_from(dead).unwrap_or(0);
            if dead < threshold {
                continue;
            }
            if allowed {
                due.push((table, dead));
            } else if !inner.vacuum.refused.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    target: "jobs",
                    "This PostgreSQL role may not VACUUM {table} (it is not the table's owner), which holds \
                     {dead} dead row versions: workers leave it to autovacuum. Connect as the owner, or set \
                     vacuum_after(None) to silence this."
                );
            }
        }
        if due.is_empty() {
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
            for (table, dead) in due {
                let one = Instant::now();
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("VACUUM (SKIP_LOCKED) {table}"))).execute(&mut conn).await?;
                tracing::debug!(target: "jobs", "Vacuumed {dead} dead row versions from {table} in {:?}", one.elapsed());
            }
            Some(start.elapsed())
        } else {
            None
        };
        let _ = conn.close().await;
        Ok(took)
    }
}
