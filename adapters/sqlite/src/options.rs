//! Opening a database file: [`SqliteBuilder`].

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use jobs_core::{Clock, Error, SystemClock};
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::adapter::SqliteAdapter;
use crate::adopt;
use crate::schema;

/// Options for opening a jobs database file; from [`SqliteAdapter::builder`].
///
/// ```no_run
/// # use std::time::Duration;
/// # use jobs_sqlite::{SqliteAdapter, Synchronous};
/// # async fn demo() -> Result<(), jobs_core::Error> {
/// let sqlite = SqliteAdapter::builder("/var/lib/myapp/jobs.db")
///     .busy_timeout(Duration::from_secs(30))
///     .synchronous(Synchronous::Normal)
///     .retain_completed(Duration::from_secs(3600))
///     .open()
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct SqliteBuilder {
    path: PathBuf,
    clock: Arc<dyn Clock>,
    busy_timeout: Duration,
    max_connections: u32,
    synchronous: SqliteSynchronous,
    retention: Duration,
    /// The application's pool, adopted instead of opening one.
    pool: Option<SqlitePool>,
}

impl SqliteBuilder {
    pub(crate) fn new(path: PathBuf) -> Self {
        SqliteBuilder {
            path,
            clock: Arc::new(SystemClock),
            busy_timeout: Duration::from_secs(10),
            max_connections: 4,
            synchronous: SqliteSynchronous::Full,
            retention: Duration::from_secs(86_400),
            pool: None,
        }
    }

    pub(crate) fn adopting(pool: SqlitePool) -> Self {
        SqliteBuilder { pool: Some(pool), ..SqliteBuilder::new(PathBuf::new()) }
    }

    /// Where schedules and leases read the time (default: the system clock). Every process
    /// sharing a file must agree on the time.
    pub fn clock(self, clock: impl Clock) -> Self {
        self.shared_clock(Arc::new(clock))
    }

    /// The clock, already shared.
    pub fn shared_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// How long a connection waits for another process's write to finish before failing
    /// (default 10 s).
    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }

    /// How many connections this process keeps open (default 4; SQLite runs one writer at a time).
    pub fn max_connections(mut self, connections: u32) -> Self {
        self.max_connections = connections.max(1);
        self
    }

    /// When commits reach the disk (default `Full`: an enqueued job survives a power loss;
    /// `Normal` survives a process crash and is faster).
    pub fn synchronous(mut self, synchronous: SqliteSynchronous) -> Self {
        self.synchronous = synchronous;
        self
    }

    /// How long completed jobs stay findable before workers prune them (default one day).
    pub fn retain_completed(mut self, retention: Duration) -> Self {
        self.retention = retention;
        self
    }

    /// Opens (creating if needed) the file in WAL mode and brings its schema up to date; for a
    /// builder from [`SqliteAdapter::pool_builder`], checks the application's pool instead of
    /// opening one (see [`SqliteAdapter::from_pool`]).
    ///
    /// An empty path is an [`Error::Config`] (SQLite would open a temporary database, lost on
    /// close); a file that cannot be opened is a [`SqliteError::Open`](crate::SqliteError::Open)
    /// naming the path and why (its directory does not exist, it is a directory, ...).
    pub async fn open(self) -> Result<SqliteAdapter, Error> {
        if let Some(pool) = self.pool {
            let path = adopt::check(&pool).await?;
            schema::migrate(&pool, &path.display().to_string()).await?;
            return Ok(SqliteAdapter::from_parts(pool, self.clock, path, self.retention));
        }
        let path = self.path.display().to_string();
        if path.is_empty() {
            return Err(Error::Config(
                "SqliteAdapter::open needs a file path: an empty one would be a temporary database, \
                 lost when it closes (use MemoryAdapter for jobs that need not survive)"
                    .into(),
            ));
        }
        let unopenable = |cause: String| crate::SqliteError::Open { path: path.clone(), cause };
        if self.path.is_dir() {
            return Err(unopenable("it is a directory, not a file".into()).into());
        }
        match self.path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() && !dir.is_dir() => {
                let what = if dir.exists() { "is not a directory" } else { "does not exist" };
                return Err(unopenable(format!("the directory {} {what}", dir.display())).into());
            }
            _ => {}
        }
        let options = SqliteConnectOptions::new()
            .filename(&self.path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(self.synchronous)
            .busy_timeout(self.busy_timeout);
        let pool = SqlitePoolOptions::new()
            .max_connections(self.max_connections)
            .acquire_timeout(self.busy_timeout + Duration::from_secs(30))
            .connect_with(options)
            .await
            .map_err(|error| unopenable(crate::error::describe(&error)))?;
        schema::migrate(&pool, &path).await?;
        Ok(SqliteAdapter::from_parts(pool, self.clock, self.path, self.retention))
    }
}
