//! [`PostgresAdapter`]: the handle, and the enqueue side.

use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use jobs_core::adapter::{Adapter, Backend, Capabilities, FlowStore, NewJob, RecurringStore};
use jobs_core::adapter::{due_micros, micros_to_time};
use jobs_core::{BoxFuture, Error, Inspect, JobData};
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgExecutor};

use crate::error::{LastDisconnect, PostgresError, is_disconnect};
use crate::lane::Lane;
use crate::listener::Wakeups;
use crate::notify::Debounce;
use crate::options::PostgresBuilder;
use crate::schema::{self, Schema};
use crate::sql::Statements;
use crate::vacuum::Vacuum;

/// Jobs in a PostgreSQL schema, drained by workers on any number of machines.
///
/// Cloning is cheap and shares the connections. Workers claim in batches with
/// `FOR UPDATE SKIP LOCKED`, wake up on `LISTEN`/`NOTIFY` (polling while the LISTEN connection is
/// down), and read every time from the server's clock. [`PostgresAdapter::enqueue_in`] enqueues
/// inside the application's own transaction.
#[derive(Clone)]
pub struct PostgresAdapter {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) pool: PgPool,
    pub(crate) options: PgConnectOptions,
    pub(crate) schema: Schema,
    pub(crate) sql: Statements,
    pub(crate) channel: String,
    pub(crate) settings: Settings,
    pub(crate) wakeups: Arc<Wakeups>,
    pub(crate) debounce: Arc<Debounce>,
    /// Connections kept for claims, and for completions, failures and heartbeats.
    pub(crate) claim_lane: Lane,
    pub(crate) report_lane: Lane,
    /// When this process last tried to run periodic maintenance.
    pub(crate) maintained_at: Mutex<Option<Instant>>,
    /// When this process may next check whether the jobs table needs a vacuum.
    pub(crate) vacuum: Vacuum,
    display: String,
    pub(crate) disconnects: Arc<LastDisconnect>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.wakeups.stop();
    }
}

/// Settings of the worker side.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Settings {
    pub(crate) retain_completed: Duration,
    pub(crate) retain_dead: Option<Duration>,
    pub(crate) maintenance_interval: Duration,
    pub(crate) synchronous_worker_commits: bool,
    pub(crate) vacuum_after: Option<u64>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            retain_completed: Duration::from_secs(86_400),
            retain_dead: Some(Duration::from_secs(180 * 86_400)),
            maintenance_interval: Duration::from_secs(60),
            synchronous_worker_commits: false,
            vacuum_after: Some(10_000),
        }
    }
}

impl fmt::Debug for PostgresAdapter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresAdapter")
            .field("server", &self.inner.display)
            .field("schema", &self.inner.schema.name)
            .finish_non_exhaustive()
    }
}

impl PostgresAdapter {
    /// Connects to the server at `url` with default options, creating or upgrading the `jobs`
    /// schema.
    pub async fn connect(url: &str) -> Result<Self, Error> {
        PostgresAdapter::builder().url(url).connect().await
    }

    /// The adapter on the application's own pool, with default options (schema `jobs`, created
    /// or upgraded): the jobs tables live in the application's database, and
    /// [`enqueue_in`](Self::enqueue_in) writes a job in the same transaction as the
    /// application's rows. For a schema or settings of your own,
    /// `PostgresAdapter::builder().pool(pool).schema("background").connect()`.
    ///
    /// The adapter runs its statements through `pool`, schema-qualified, so the pool's
    /// `search_path` does not matter. A worker also opens, from the pool's connect options, one
    /// connection for `LISTEN` and keeps up to two detached from the pool for its claims and
    /// reports: count three connections per worker process beyond the pool's `max_connections`
    /// when sizing the server's `max_connections`. A pool that is closed or cannot reach its
    /// server is an error here.
    ///
    /// ```no_run
    /// # use jobs_postgres::PostgresAdapter;
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// let pool = sqlx::PgPool::connect("postgres://app@db.internal/app").await?;   // the app's own
    /// let postgres = PostgresAdapter::from_pool(pool.clone()).await?;
    /// jobs_core::Runtime::builder().adapter(postgres).build()?.install();
    /// # Ok(()) }
    /// ```
    pub async fn from_pool(pool: PgPool) -> Result<Self, Error> {
        PostgresAdapter::builder().pool(pool).connect().await
    }

    /// Options for connecting; the URL defaults to `DATABASE_URL`.
    pub fn builder() -> PostgresBuilder {
        PostgresBuilder::default()
    }

    pub(crate) fn from_parts(
        pool: PgPool,
        options: PgConnectOptions,
        schema: Schema,
        settings: Settings,
        display: String,
        disconnects: Arc<LastDisconnect>,
    ) -> Self {
        let sql = Statements::new(&schema.quoted, settings.synchronous_worker_commits);
        let channel = format!("jobs:{}", schema.name);
        let inner = Inner {
            pool,
            options,
            sql,
            channel,
            schema,
            settings,
            wakeups: Arc::default(),
            debounce: Arc::default(),
            claim_lane: Lane::default(),
            report_lane: Lane::default(),
            maintained_at: Mutex::new(None),
            vacuum: Vacuum::new(),
            display,
            disconnects,
        };
        PostgresAdapter { inner: Arc::new(inner) }
    }

    pub(crate) fn inner(&self) -> &Inner {
        &self.inner
    }

    /// The schema holding this adapter's tables.
    pub fn schema(&self) -> &str {
        &self.inner.schema.name
    }

    /// The connection pool, for the application's own statements and transactions.
    pub fn pool(&self) -> &PgPool {
        &self.inner.pool
    }

    /// Applies pending migrations to the schema; returns the versions applied (none when it is
    /// up to date already).
    pub async fn migrate(&self) -> Result<Vec<i64>, Error> {
        Ok(schema::migrate(&self.inner.pool, &self.inner.schema).await?)
    }

    /// Closes the connections and stops listening; later calls fail.
    ///
    /// On a pool adopted with `from_pool`, this closes the application's pool too: leave it to the
    /// application, which closes its pool itself.
    pub async fn close(&self) {
        self.inner.wakeups.stop();
        self.inner.claim_lane.clear().await;
        self.inner.report_lane.clear().await;
        self.inner.pool.close().await;
    }

    /// Stores a payload as it is, ready now on `queue`, without decoding it (for payloads written
    /// by other programs, and tests of undecodable ones); returns its id.
    pub async fn enqueue_raw(&self, queue: &str, priority: i32, payload: &str) -> Result<String, Error> {
        let data = JobData::from_json(payload).ok();
        let rows = Rows {
            job_ids: vec![data.as_ref().map(|data| data.job_id.as_str())],
            classes: vec![data.as_ref().map_or("", |data| data.job_class.as_str())],
            queues: vec![queue],
            priorities: vec![priority],
            run_at: vec![None],
            payloads: vec![payload],
        };
        let ids = self.insert_debounced(&rows).await?;
        Ok(ids[0].to_string())
    }

    /// Runs a statement, again on a new connection if the connection was lost (killed, server
    /// restarted), with a short backoff; logs each retry.
    pub(crate) async fn retrying<T, F, Fut>(&self, what: &str, mut statement: F) -> Result<T, PostgresError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, sqlx::Error>>,
    {
        let mut delay = Duration::from_millis(20);
        for attempt in 1.. {
            match statement().await {
                Err(error) if attempt < 5 && is_disconnect(&error) => {
                    self.inner.disconnects.seen();
                    tracing::warn!(target: "jobs", %error,
                        "PostgreSQL connection lost during {what}; retrying on a new connection in {delay:?}");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 4).min(Duration::from_secs(2));
                }
                result => return Ok(result?),
            }
        }
        unreachable!("the loop returns")
    }

    /// Inserts the rows and wakes workers of the `wake` queues, in one statement.
    pub(crate) async fn insert<'e>(
        &self,
        executor: impl PgExecutor<'e>,
        rows: &Rows<'_>,
        wake: &[&str],
    ) -> Result<Vec<i64>, sqlx::Error> {
        sqlx::query_scalar(self.inner.sql.insert.get())
            .bind(&rows.job_ids)
            .bind(&rows.queues)
            .bind(&rows.priorities)
            .bind(&rows.run_at)
            .bind(&rows.payloads)
            .bind(&self.inner.channel)
            .bind(wake)
            .bind(&rows.classes)
            .fetch_all(executor)
            .await
    }
}

impl PostgresAdapter {
    /// Inserts with the pool, notifying as [`crate::notify`] decides.
    async fn insert_debounced(&self, rows: &Rows<'_>) -> Result<Vec<i64>, PostgresError> {
        let pending = self.inner.debounce.begin(rows.distinct_queues(), self.pool(), &self.inner.channel);
        let wake = pending.notified();
        let ids = self.retrying("enqueue", || self.insert(self.pool(), rows, &wake)).await?;
        drop(wake);
        pending.stored();
        Ok(ids)
    }
}

/// Jobs to insert, column by column, as the insert statement takes them: borrowed from the jobs,
/// so that a bulk enqueue copies each payload once, into the statement.
#[derive(Debug, Default)]
pub(crate) struct Rows<'a> {
    job_ids: Vec<Option<&'a str>>,
    classes: Vec<&'a str>,
    queues: Vec<&'a str>,
    priorities: Vec<i32>,
    run_at: Vec<Option<DateTime<Utc>>>,
    payloads: Vec<&'a str>,
}

impl<'a> Rows<'a> {
    /// The queues of the rows, each once.
    pub(crate) fn distinct_queues(&self) -> Vec<&'a str> {
        let mut queues = self.queues.clone();
        queues.sort_unstable();
        queues.dedup();
        queues
    }

    pub(crate) fn of(jobs: impl IntoIterator<Item = &'a NewJob>) -> Rows<'a> {
        let jobs = jobs.into_iter();
        let capacity = jobs.size_hint().0;
        let mut rows = Rows {
            job_ids: Vec::with_capacity(capacity),
            classes: Vec::with_capacity(capacity),
            queues: Vec::with_capacity(capacity),
            priorities: Vec::with_capacity(capacity),
            run_at: Vec::with_capacity(capacity),
            payloads: Vec::with_capacity(capacity),
        };
        for new in jobs {
            let job = new.data();
            rows.job_ids.push(Some(job.job_id.as_str()));
            rows.classes.push(job.job_class.as_str());
            rows.queues.push(job.queue_name.as_str());
            rows.priorities.push(job.priority.unwrap_or(0));
            // Rounded up to the microseconds PostgreSQL keeps, so that it never runs early.
            rows.run_at.push(job.scheduled_at.map(|at| micros_to_time(due_micros(at))));
            rows.payloads.push(new.payload());
        }
        rows
    }
}

pub(crate) fn ids(ids: Vec<i64>) -> Vec<Option<String>> {
    ids.into_iter().map(|id| Some(id.to_string())).collect()
}

impl Adapter for PostgresAdapter {
    fn name(&self) -> &str {
        "Postgres"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities { scheduling: true, priorities: true, durable: true, bulk: true, pause: true }
    }

    fn enqueue_all<'a>(&'a self, jobs: &'a [NewJob]) -> BoxFuture<'a, Result<Vec<Option<String>>, Error>> {
        Box::pin(async move {
            if jobs.is_empty() {
                return Ok(Vec::new());
            }
            let rows = Rows::of(jobs);
            Ok(ids(self.insert_debounced(&rows).await?))
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
