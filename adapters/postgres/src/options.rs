//! Connecting: [`PostgresBuilder`].

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use jobs_core::Error;
use jobs_core::adapter::redact;
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::adapter::{PostgresAdapter, Settings};
use crate::error::{LastDisconnect, PostgresError, describe};
use crate::schema::{self, Schema};

/// Options for connecting to PostgreSQL; from [`PostgresAdapter::builder`].
///
/// ```no_run
/// # use std::time::Duration;
/// # use jobs_postgres::PostgresAdapter;
/// # async fn demo() -> Result<(), jobs_core::Error> {
/// let postgres = PostgresAdapter::builder()
///     .url("postgres://app@db.internal/app")
///     .schema("background")
///     .max_connections(20)
///     .retain_completed(Duration::from_secs(3600))
///     .connect()
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct PostgresBuilder {
    url: Option<String>,
    options: Option<PgConnectOptions>,
    schema: String,
    application_name: String,
    max_connections: u32,
    acquire_timeout: Duration,
    migrate: bool,
    settings: Settings,
    /// The application's pool, adopted instead of connecting.
    pool: Option<PgPool>,
}

impl std::fmt::Debug for PostgresBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresBuilder")
            .field("url", &self.url.as_deref().map(redact))
            .field("schema", &self.schema)
            .field("application_name", &self.application_name)
            .field("max_connections", &self.max_connections)
            .field("migrate", &self.migrate)
            .field("adopts_a_pool", &self.pool.is_some())
            .finish_non_exhaustive()
    }
}

impl Default for PostgresBuilder {
    fn default() -> Self {
        PostgresBuilder {
            url: None,
            options: None,
            schema: "jobs".to_owned(),
            application_name: "jobs".to_owned(),
            max_connections: 10,
            acquire_timeout: Duration::from_secs(10),
            migrate: true,
            settings: Settings::default(),
            pool: None,
        }
    }
}

impl PostgresBuilder {
    /// The server's URL, `postgres://user:password@host:port/database?...` (default: the
    /// `DATABASE_URL` environment variable). Never printed with its password.
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.url = Some(url.into());
        self
    }

    /// Connection options built by hand, instead of a URL.
    pub fn connect_options(mut self, options: PgConnectOptions) -> Self {
        self.options = Some(options);
        self
    }

    /// Uses the application's own pool instead of opening one: the adapter's statements, and
    /// [`enqueue_in`](PostgresAdapter::enqueue_in) inside the application's transactions, go
    /// through `pool`. [`connect`](Self::connect) then opens no pool, and the URL, connect options,
    /// `application_name`, `max_connections` and `acquire_timeout` given here are not used; the
    /// schema, migrations and the worker's settings are. See
    /// [`PostgresAdapter::from_pool`] for what the pool must allow.
    pub fn pool(mut self, pool: PgPool) -> Self {
        self.pool = Some(pool);
        self
    }

    /// The schema that holds the crate's tables (default `jobs`): letters, digits and `_`, not
    /// starting with a digit. Created by the migrations if missing.
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = schema.into();
        self
    }

    /// The `application_name` of the adapter's connections, as `pg_stat_activity` shows it
    /// (default `jobs`).
    pub fn application_name(mut self, name: impl Into<String>) -> Self {
        self.application_name = name.into();
        self
    }

    /// How many connections this adapter keeps at most (default 10), besides one for LISTEN.
    pub fn max_connections(mut self, connections: u32) -> Self {
        self.max_connections = connections.max(1);
        self
    }

    /// How long a statement waits for a free connection, or for a new one, before failing
    /// (default 10 s).
    pub fn acquire_timeout(mut self, timeout: Duration) -> Self {
        self.acquire_timeout = timeout;
        self
    }

    /// Whether [`connect`](Self::connect) applies pending migrations (default `true`). With
    /// `false`, it only checks that the schema is at [`SCHEMA_VERSION`](crate::SCHEMA_VERSION) and
    /// fails if not: for teams that apply [`migration_sql`](crate::migration_sql) with their own
    /// migration tool.
    pub fn migrate(mut self, migrate: bool) -> Self {
        self.migrate = migrate;
        self
    }

    /// How long completed jobs stay findable before the elected worker deletes them (default
    /// one day).
    pub fn retain_completed(mut self, retention: Duration) -> Self {
        self.settings.retain_completed = retention;
        self
    }

    /// How long dead jobs stay in the dead set before the elected worker deletes them (default
    /// 180 days, as Sidekiq); `None` keeps them until deleted by hand.
    pub fn retain_dead(mut self, retention: Option<Duration>) -> Self {
        self.settings.retain_dead = retention;
        self
    }

    /// How often periodic maintenance (pruning finished jobs) runs, on one worker of all that
    /// share the schema, elected with an advisory lock (default every minute).
    pub fn maintenance_interval(mut self, interval: Duration) -> Self {
        self.settings.maintenance_interval = interval;
        self
    }

    /// Whether the worker's writes — claims, completions, failures, heartbeats, rescues — wait
    /// for the server to flush them to disk before they return (default `false`; enqueues always
    /// wait). Without the wait a claim or a completion costs no disk flush, several times faster
    /// on most disks; if the *server* crashes, the last few hundred milliseconds of them may be
    /// lost, which at-least-once delivery absorbs: a lost claim leaves the job ready, a lost
    /// completion or failure leaves it running until its lease expires and it is rescued, so a
    /// job may run once more, and none is lost. The same holds for the flow-control writes of
    /// workers: a lost throttle count allows a few more starts, a lost slot release frees the
    /// slot after its hold time, a lost slot lets one more job of its key run once. `true` makes
    /// every write durable on return.
    pub fn synchronous_worker_commits(mut self, synchronous: bool) -> Self {
        self.settings.synchronous_worker_commits = synchronous;
        self
    }

    /// When workers vacuum the jobs table themselves: once it holds this many dead row versions
    /// (default 10 000; `None` leaves it to autovacuum). Every claim and completion leaves one,
    /// and until a vacuum removes their index entries each claim reads through those of the jobs
    /// claimed before it, so a long drain slows down claim by claim. One worker at a time
    /// vacuums, in the background, waiting three times as long as its last vacuum took before the
    /// next. The completed jobs' table is vacuumed by the same rule (its dead rows are the pruned
    /// ones). A role that may not vacuum a table (not its owner) skips it, with one warning per
    /// process; see the README's "PostgreSQL" section.
    pub fn vacuum_after(mut self, dead_rows: Option<u64>) -> Self {
        self.settings.vacuum_after = dead_rows;
        self
    }

    fn resolve_options(&self) -> Result<PgConnectOptions, Error> {
        let options = match (&self.options, &self.url) {
            (Some(options), _) => options.clone(),
            (None, Some(url)) => parse(url)?,
            (None, None) => match std::env::var("DATABASE_URL") {
                Ok(url) if !url.is_empty() => parse(&url)?,
                _ => {
                    return Err(Error::Config(
                        "no PostgreSQL URL: pass one to PostgresAdapter::connect or .url(..), or set DATABASE_URL"
                            .into(),
                    ));
                }
            },
        };
        Ok(options.application_name(&self.application_name))
    }

    /// Connects, then brings the schema up to date (or checks it, with `.migrate(false)`).
    ///
    /// An unreachable server fails at once with [`PostgresError::Connect`], naming `host:port`
    /// and the cause (`connection refused`, the server's message), or after the
    /// [acquire timeout](Self::acquire_timeout) when the server does not answer at all.
    pub async fn connect(self) -> Result<PostgresAdapter, Error> {
        let schema = Schema::new(&self.schema)?;
        if let Some(pool) = self.pool.clone() {
            return self.adopt(pool, schema).await;
        }
        let options = self.resolve_options()?;
        first_connection(&options, self.acquire_timeout).await?;
        let disconnects = Arc::new(LastDisconnect::default());
        let suspect = disconnects.clone();
        let pool = PgPoolOptions::new()
            .max_connections(self.max_connections)
            .acquire_timeout(self.acquire_timeout)
            // Ping only connections idle for a while, or since a statement met a lost connection
            // (the server may have restarted meanwhile); statements that meet a dead connection
            // anyway are retried on a new one.
            .test_before_acquire(false)
            .before_acquire(move |conn, meta| {
                let ping = suspect.suspects(meta.idle_for);
                Box::pin(async move {
                    if ping {
                        sqlx::Connection::ping(conn).await?;
                    }
                    Ok(true)
                })
            })
            .connect_with(options.clone())
            .await
            .map_err(PostgresError::from)?;
        if self.migrate {
            schema::migrate(&pool, &schema).await?;
        } else {
            schema::check(&pool, &schema).await?;
        }
        let display = format!("{}:{}/{}", options.get_host(), options.get_port(), options.get_database().unwrap_or(""));
        Ok(PostgresAdapter::from_parts(pool, options, schema, self.settings, display, disconnects))
    }

    /// The adapter on the application's `pool`: its schema brought up to date (or checked).
    async fn adopt(self, pool: PgPool, schema: Schema) -> Result<PostgresAdapter, Error> {
        if pool.is_closed() {
            return Err(Error::Config("PostgresAdapter::from_pool was given a closed pool".into()));
        }
        let options = (*pool.connect_options()).clone();
        let at = format!("{}:{}", options.get_host(), options.get_port());
        // A pool that cannot reach its server fails here with where and why, not at a first job.
        let reached = match tokio::time::timeout(self.acquire_timeout, pool.acquire()).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(error)) => Err(describe(&error)),
            Err(_) => Err(format!("no connection from the pool within {:?}", self.acquire_timeout)),
        };
        reached.map_err(|cause| PostgresError::Connect { at, cause: redact(&cause) })?;
        if self.migrate {
            schema::migrate(&pool, &schema).await?;
        } else {
            schema::check(&pool, &schema).await?;
        }
        let display = format!("{}:{}/{}", options.get_host(), options.get_port(), options.get_database().unwrap_or(""));
        let disconnects = Arc::new(LastDisconnect::default());
        Ok(PostgresAdapter::from_parts(pool, options, schema, self.settings, display, disconnects))
    }

    /// Connects and applies pending migrations, then disconnects; returns the versions applied.
    /// For a deploy step that migrates before workers start with `.migrate(false)`.
    pub async fn run_migrations(self) -> Result<Vec<i64>, Error> {
        let schema = Schema::new(&self.schema)?;
        let options = self.resolve_options()?;
        first_connection(&options, self.acquire_timeout).await?;
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(self.acquire_timeout)
            .connect_with(options)
            .await
            .map_err(PostgresError::from)?;
        let applied = schema::migrate(&pool, &schema).await;
        pool.close().await;
        Ok(applied?)
    }
}

/// Opens and closes one connection, so that an unreachable server fails at once with where and
/// why (a pool retries until its acquire timeout, then only says that it timed out).
async fn first_connection(options: &PgConnectOptions, timeout: Duration) -> Result<(), PostgresError> {
    let at = match options.get_socket() {
        Some(socket) => format!("{}/{}", socket.display(), options.get_database().unwrap_or("")),
        None => format!("{}:{}", options.get_host(), options.get_port()),
    };
    match tokio::time::timeout(timeout, sqlx::ConnectOptions::connect(options)).await {
        Ok(Ok(conn)) => {
            let _ = sqlx::Connection::close(conn).await;
            Ok(())
        }
        Ok(Err(error)) => Err(PostgresError::Connect { at, cause: redact(&describe(&error)) }),
        Err(_) => Err(PostgresError::Connect { at, cause: format!("no answer within {timeout:?}") }),
    }
}

fn parse(url: &str) -> Result<PgConnectOptions, Error> {
    PgConnectOptions::from_str(url).map_err(|error| {
        // The parser's message never repeats the URL, but say which one without its password.
        Error::Config(format!("invalid PostgreSQL URL {}: {error}", redact(url)))
    })
}
