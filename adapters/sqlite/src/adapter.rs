//! [`SqliteAdapter`]: the handle, and the enqueue side.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use jobs_core::adapter::{Adapter, Backend, Capabilities, FlowStore, NewJob, RecurringStore};
use jobs_core::adapter::{due_micros, duration_to_micros, time_to_micros};
use jobs_core::{BoxFuture, Clock, Error, Inspect, JobData};
use serde_json::json;
use sqlx::{SqliteConnection, SqlitePool};
use tokio::sync::Notify;

use crate::error::SqliteError;
use crate::options::SqliteBuilder;
use crate::sql::{BEGIN_WRITE, INSERT, PRUNE_COMPLETED};

/// Jobs in one SQLite file, drained by workers in one or several processes.
///
/// Cloning is cheap and shares the connections. Workers of this process wake up as soon as a job
/// is enqueued through it; workers of other processes notice within their poll interval.
/// Completed jobs stay findable through the
/// [`Inspect`] side for a retention period ([`SqliteBuilder::retain_completed`], one day by
/// default); workers prune older ones as they look for expired leases.
#[derive(Clone)]
pub struct SqliteAdapter {
    inner: Arc<Inner>,
}

struct Inner {
    pool: SqlitePool,
    clock: Arc<dyn Clock>,
    wake: Notify,
    path: PathBuf,
    retention: Duration,
}

impl fmt::Debug for SqliteAdapter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteAdapter").field("path", &self.inner.path).finish_non_exhaustive()
    }
}

/// Jobs per INSERT statement of a large batch.
const INSERT_CHUNK: usize = 5_000;

impl SqliteAdapter {
    /// Opens (creating if needed) the jobs database at `path` with default options; see
    /// [`SqliteBuilder::open`](crate::SqliteBuilder::open) for the errors.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self, Error> {
        SqliteAdapter::builder(path).open().await
    }

    /// Options for opening the jobs database at `path`.
    pub fn builder(path: impl AsRef<Path>) -> SqliteBuilder {
        SqliteBuilder::new(path.as_ref().to_owned())
    }

    /// The adapter on the application's own pool, with default options (system clock, completed
    /// jobs kept one day), its schema brought up to date: the jobs tables live in the
    /// application's database file, and [`enqueue_in`](Self::enqueue_in) writes a job in the
    /// same transaction as the application's rows. [`SqliteAdapter::pool_builder`] sets the
    /// options.
    ///
    /// The pool's connections must be set up as the adapter's own are, since SQLite settings
    /// are per connection: WAL journal mode (readers and the one writer do not block each
    /// other; other processes can drain the file) and a busy timeout (a writer waits for another
    /// instead of failing at once), on a database file. A pool that lacks one of them is a
    /// [`SqliteError::UnsuitablePool`] saying which, checked on one of its connections; set
    /// them on the pool's `SqliteConnectOptions` (`.journal_mode(SqliteJournalMode::Wal)`,
    /// `.busy_timeout(..)`), which every connection shares. `synchronous` is the application's
    /// choice: `FULL` makes a committed job survive a power loss, `NORMAL` (common with WAL) a
    /// crash of the process.
    ///
    /// ```no_run
    /// # use std::time::Duration;
    /// # use jobs_sqlite::SqliteAdapter;
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool};
    ///
    /// let options = SqliteConnectOptions::new()
    ///     .filename("app.db")
    ///     .create_if_missing(true)
    ///     .journal_mode(SqliteJournalMode::Wal)
    ///     .busy_timeout(Duration::from_secs(10));
    /// let pool = SqlitePool::connect_with(options).await?;   // the application's own
    /// let sqlite = SqliteAdapter::from_pool(pool.clone()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn from_pool(pool: SqlitePool) -> Result<Self, Error> {
        SqliteAdapter::pool_builder(pool).open().await
    }

    /// Options for the adapter on the application's own pool (see [`from_pool`](Self::from_pool)):
    /// the clock and the retention of completed jobs apply; the connection options
    /// (`busy_timeout`, `max_connections`, `synchronous`) are the pool's own.
    pub fn pool_builder(pool: SqlitePool) -> SqliteBuilder {
        SqliteBuilder::adopting(pool)
    }

    pub(crate) fn from_parts(pool: SqlitePool, clock: Arc<dyn Clock>, path: PathBuf, retention: Duration) -> Self {
        SqliteAdapter { inner: Arc::new(Inner { pool, clock, wake: Notify::new(), path, retention }) }
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Closes the connections; later calls fail.
    ///
    /// On a pool adopted with `from_pool`, this closes the application's pool too: leave it to the
    /// application, which closes its pool itself.
    pub async fn close(&self) {
        self.inner.pool.close().await;
    }

    pub(crate) fn pool(&self) -> &SqlitePool {
        &self.inner.pool
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.inner.clock.now()
    }

    pub(crate) fn retention(&self) -> Duration {
        self.inner.retention
    }

    /// Wakes this process's workers waiting for jobs.
    pub(crate) fn wake(&self) {
        self.inner.wake.notify_waiters();
        self.inner.wake.notify_one();
    }

    pub(crate) async fn woken(&self) {
        self.inner.wake.notified().await;
    }

    /// Stores a payload as it is, ready now on `queue`, without decoding it (for payloads written
    /// by other programs, and tests of undecodable ones); returns its id.
    pub async fn enqueue_raw(&self, queue: &str, priority: i32, payload: &str) -> Result<String, Error> {
        let data = JobData::from_json(payload).ok();
        let (job_id, class) = data.map_or((None, String::new()), |data| (Some(data.job_id), data.job_class));
        let row = json!({
            "job_id": job_id, "class": class, "queue": queue, "priority": priority,
            "run_at": time_to_micros(self.now()), "payload": payload,
        });
        let ids = self.insert(vec![row]).await?;
        Ok(ids[0].to_string())
    }

    /// Deletes completed jobs that finished more than `older_than` ago; returns how many.
    pub async fn prune_completed(&self, older_than: Duration) -> Result<u64, Error> {
        Ok(self.prune(older_than).await?)
    }

    pub(crate) async fn prune(&self, older_than: Duration) -> Result<u64, SqliteError> {
        let cutoff = time_to_micros(self.now()).saturating_sub(duration_to_micros(older_than));
        let done = sqlx::query(PRUNE_COMPLETED).bind(cutoff).execute(self.pool()).await?;
        Ok(done.rows_affected())
    }

    async fn insert(&self, rows: Vec<serde_json::Value>) -> Result<Vec<i64>, SqliteError> {
        let mut tx = self.pool().begin_with(BEGIN_WRITE).await?;
        let ids = self.insert_in(&mut tx, &rows).await?;
        tx.commit().await?;
        self.wake();
        Ok(ids)
    }

    /// Inserts `rows` with the statements of `conn`, committing nothing; returns their ids in order.
    pub(crate) async fn insert_in(
        &self,
        conn: &mut SqliteConnection,
        rows: &[serde_json::Value],
    ) -> Result<Vec<i64>, SqliteError> {
        let now = time_to_micros(self.now());
        let mut ids = Vec::with_capacity(rows.len());
        for chunk in rows.chunks(INSERT_CHUNK) {
            let batch = serde_json::to_string(chunk).map_err(|e| SqliteError::Malformed(e.to_string()))?;
            let mut chunk_ids: Vec<i64> =
                sqlx::query_scalar(INSERT).bind(batch).bind(now).fetch_all(&mut *conn).await?;
            // Ids are handed out in insertion order, which follows the batch's order.
            chunk_ids.sort_unstable();
            ids.extend(chunk_ids);
        }
        Ok(ids)
    }

    /// The rows to insert for encoded jobs, due now unless scheduled.
    pub(crate) fn rows_of(&self, jobs: &[NewJob]) -> Vec<serde_json::Value> {
        let now = self.now();
        jobs.iter().map(|new| SqliteAdapter::row(new, now)).collect()
    }

    /// The row [`insert_in`](SqliteAdapter::insert_in) stores for `new`, due now unless scheduled.
    pub(crate) fn row(new: &NewJob, now: DateTime<Utc>) -> serde_json::Value {
        let job = new.data();
        json!({
            "job_id": job.job_id,
            "class": job.job_class,
            "queue": job.queue_name,
            "priority": job.priority.unwrap_or(0),
            "run_at": job.scheduled_at.map_or(time_to_micros(now), due_micros),
            "payload": new.payload(),
        })
    }
}

impl Adapter for SqliteAdapter {
    fn name(&self) -> &str {
        "SQLite"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities { scheduling: true, priorities: true, durable: true, bulk: true, pause: true }
    }

    fn enqueue_all<'a>(&'a self, jobs: &'a [NewJob]) -> BoxFuture<'a, Result<Vec<Option<String>>, Error>> {
        Box::pin(async move {
            if jobs.is_empty() {
                return Ok(Vec::new());
            }
            let ids = self.insert(self.rows_of(jobs)).await?;
            Ok(ids.into_iter().map(|id| Some(id.to_string())).collect())
        })
    }

    fn backend(&self) -> Option<&dyn Backend> {
        Some(self)
    }

    fn inspector(&self) -> Option<&dyn Inspect> {
        Some(self)
    }

    fn recurring(&self) -> Option<&dyn RecurringStore> {
        Some(self)
    }

    fn flow(&self) -> Option<&dyn FlowStore> {
        Some(self)
    }
}
