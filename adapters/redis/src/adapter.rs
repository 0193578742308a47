//! [`RedisAdapter`]: the handle, and the enqueue side.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use jobs_core::adapter::{Adapter, Backend, Capabilities, FlowStore, NewJob, RecurringStore};
use jobs_core::{BoxFuture, Error, Inspect};
use redis::aio::ConnectionManager;
use redis::{AsyncCommands, ScriptInvocation};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::envelope;
use crate::error::RedisError;
use crate::options::RedisBuilder;
use crate::process;
use crate::scripts;

/// Jobs in Redis, in Sidekiq's layout, drained by workers in any number of processes — Rust
/// ones, and Ruby ones running Sidekiq.
///
/// Cloning is cheap and shares the connection. See the [crate docs](crate) for the layout, the
/// reliable fetch and how fencing works.
#[derive(Clone)]
pub struct RedisAdapter {
    pub(crate) inner: Arc<Inner>,
}

/// What the builder decides; fixed once connected.
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    pub(crate) prefix: String,
    pub(crate) max_completed: usize,
    pub(crate) dead_max: usize,
    pub(crate) dead_timeout: Duration,
    pub(crate) process_ttl: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            prefix: String::new(),
            max_completed: 10_000,
            dead_max: 10_000,
            dead_timeout: Duration::from_secs(180 * 86_400),
            process_ttl: Duration::from_secs(60),
        }
    }
}

pub(crate) struct Inner {
    pub(crate) conn: ConnectionManager,
    pub(crate) settings: Settings,
    /// This process's name in Redis: `hostname:pid:nonce`, as Sidekiq names its processes.
    pub(crate) identity: String,
    pub(crate) wake: Arc<Notify>,
    pub(crate) url: String,
    /// Held for the whole of each worker's beat and stop, so that a beat in flight cannot list
    /// a stopped worker again.
    pub(crate) beat_lock: tokio::sync::Mutex<()>,
    /// Set once subscribed to wake-ups.
    pub(crate) subscribed: AtomicBool,
    /// The workers claiming or beating through this adapter and not stopped yet: the adapter's
    /// liveness key goes when the last one stops.
    pub(crate) workers: Mutex<std::collections::HashSet<String>>,
    /// Workers that stopped: a late beat of theirs is ignored.
    pub(crate) stopped: Mutex<std::collections::HashSet<String>>,
    /// Runs processed and failed since the last beat, which adds them to Sidekiq's counters.
    pub(crate) processed: AtomicU64,
    pub(crate) failed: AtomicU64,
    /// When a claim last promoted due scheduled jobs and retries (milliseconds since `epoch`).
    pub(crate) promoted_at: AtomicU64,
    pub(crate) epoch: std::time::Instant,
    /// Stops the background tasks when the last handle is dropped.
    pub(crate) stop: CancellationToken,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl fmt::Debug for RedisAdapter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisAdapter")
            .field("url", &self.inner.url)
            .field("prefix", &self.inner.settings.prefix)
            .field("identity", &self.inner.identity)
            .finish_non_exhaustive()
    }
}

impl RedisAdapter {
    /// Connects to the server at `url` with default options (see [`RedisBuilder::url`]).
    pub async fn connect(url: &str) -> Result<Self, Error> {
        RedisAdapter::builder().url(url).connect().await
    }

    /// Connects to the server at `REDIS_URL`, or `redis://127.0.0.1:6379`, with default options.
    pub async fn from_env() -> Result<Self, Error> {
        RedisAdapter::builder().connect().await
    }

    /// Options for connecting.
    pub fn builder() -> RedisBuilder {
        RedisBuilder::new()
    }

    pub(crate) fn from_parts(conn: ConnectionManager, settings: Settings, wake: Arc<Notify>, url: String) -> Self {
        let inner = Inner {
            conn,
            settings,
            identity: process::identity(),
            wake,
            url,
            beat_lock: tokio::sync::Mutex::new(()),
            subscribed: AtomicBool::new(false),
            workers: Mutex::default(),
            stopped: Mutex::default(),
            processed: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            promoted_at: AtomicU64::new(0),
            epoch: std::time::Instant::now(),
            stop: CancellationToken::new(),
        };
        RedisAdapter { inner: Arc::new(inner) }
    }

    /// The key prefix (empty by default).
    pub fn prefix(&self) -> &str {
        &self.inner.settings.prefix
    }

    /// This adapter's identity in Redis (`hostname:pid:nonce`, as Sidekiq names processes): its
    /// working set is `jobs:working:IDENTITY`, protected while the key `IDENTITY` lives. Workers
    /// appear in Sidekiq's process list under their own ids (see `process.rs`).
    pub fn identity(&self) -> &str {
        &self.inner.identity
    }

    /// The server's URL, its password hidden.
    pub fn url(&self) -> &str {
        &self.inner.url
    }

    /// A connection to the server, sharing the adapter's (for an application's own commands).
    pub fn connection(&self) -> ConnectionManager {
        self.inner.conn.clone()
    }

    /// Stores a payload as it is (possibly not JSON), ready now on `queue`, without decoding it:
    /// for payloads written by other programs, and tests of undecodable ones. Returns its jid.
    pub async fn enqueue_raw(&self, queue: &str, payload: &str) -> Result<String, Error> {
        let jid = envelope::new_jid();
        let job = envelope::write_raw(queue, payload, &jid, envelope::seconds(Utc::now()));
        let mut call = self.invocation(&scripts::ENQUEUE);
        call.arg(queue).arg(0).arg("").arg(job);
        self.run::<i64>(&call).await?;
        Ok(jid)
    }

    /// Deletes every key under this adapter's prefix — its queues, jobs, processes and counters —
    /// and returns how many; refuses when the prefix is empty (that would be the whole database).
    /// For tests and benchmarks that give each run a prefix of its own.
    pub async fn clear(&self) -> Result<u64, Error> {
        let prefix = &self.inner.settings.prefix;
        if prefix.is_empty() {
            return Err(Error::Config("RedisAdapter::clear needs a key prefix; this adapter has none".into()));
        }
        let mut pattern = String::with_capacity(prefix.len() + 1);
        for c in prefix.chars() {
            if matches!(c, '*' | '?' | '[' | ']' | '\\') {
                pattern.push('\\');
            }
            pattern.push(c);
        }
        pattern.push('*');
        let keys: Vec<String> = {
            let mut conn = self.inner.conn.clone();
            let mut iter: redis::AsyncIter<'_, String> = conn.scan_match(&pattern).await.map_err(RedisError::from)?;
            let mut keys = Vec::new();
            while let Some(key) = iter.next_item().await {
                keys.push(key.map_err(RedisError::from)?);
            }
            keys
        };
        let mut conn = self.inner.conn.clone();
        let mut deleted = 0;
        for chunk in keys.chunks(500) {
            deleted += conn.del::<_, u64>(chunk).await.map_err(RedisError::from)?;
        }
        Ok(deleted)
    }

    /// A call of `script` with the arguments every script takes first (see `lua/common.lua`).
    pub(crate) fn invocation<'a>(&'a self, script: &'a redis::Script) -> ScriptInvocation<'a> {
        let settings = &self.inner.settings;
        let mut call = script.prepare_invoke();
        call.arg(&settings.prefix)
            .arg(settings.dead_max)
            .arg(settings.dead_timeout.as_secs())
            .arg(&self.inner.identity);
        call
    }

    pub(crate) async fn run<T: redis::FromRedisValue>(&self, call: &ScriptInvocation<'_>) -> Result<T, RedisError> {
        let mut conn = self.inner.conn.clone();
        Ok(call.invoke_async(&mut conn).await?)
    }

    pub(crate) fn key(&self, name: &str) -> String {
        format!("{}{name}", self.inner.settings.prefix)
    }
}

impl Adapter for RedisAdapter {
    fn name(&self) -> &str {
        "Redis"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities { scheduling: true, priorities: true, durable: true, bulk: true, pause: true }
    }

    /// Stores every job in one script call, atomically: due jobs go to their queue (in priority
    /// order), later ones to the `schedule` set.
    fn enqueue_all<'a>(&'a self, jobs: &'a [NewJob]) -> BoxFuture<'a, Result<Vec<Option<String>>, Error>> {
        Box::pin(async move {
            if jobs.is_empty() {
                return Ok(Vec::new());
            }
            let now = envelope::seconds(Utc::now());
            let mut call = self.invocation(&scripts::ENQUEUE);
            let mut jids = Vec::with_capacity(jobs.len());
            for new in jobs {
                jids.push(Some(push_new(&mut call, new, now)));
            }
            self.run::<i64>(&call).await?;
            Ok(jids)
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

/// Adds a new job to `call` as `store.lua` takes it (queue, priority, due time, envelope) under a
/// new jid, which it returns.
pub(crate) fn push_new(call: &mut ScriptInvocation<'_>, new: &NewJob, now: f64) -> String {
    let (job, payload) = (new.data(), new.payload());
    let later = job.scheduled_at.is_some_and(|at| envelope::seconds(at) > now);
    let jid = envelope::new_jid();
    let stored = envelope::write(job, payload, &jid, now, later);
    let due = job.scheduled_at.map(envelope::due_score).unwrap_or_default();
    call.arg(&job.queue_name).arg(job.priority.unwrap_or(0)).arg(due).arg(stored);
    jid
}
