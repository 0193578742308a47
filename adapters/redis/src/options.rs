//! Connecting: [`RedisBuilder`], the URL, and what the adapter checks at start-up.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use jobs_core::Error;
use jobs_core::adapter::redact;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{ConnectionAddr, IntoConnectionInfo, ProtocolVersion, PushInfo, PushKind};
use tokio::sync::Notify;

use crate::adapter::{RedisAdapter, Settings};
use crate::error::RedisError;

/// The server used when neither [`RedisBuilder::url`] nor `REDIS_URL` says otherwise.
pub const DEFAULT_URL: &str = "redis://127.0.0.1:6379";

/// Options for connecting to Redis; from [`RedisAdapter::builder`].
///
/// ```no_run
/// # use jobs_redis::RedisAdapter;
/// # async fn demo() -> Result<(), jobs_core::Error> {
/// let redis = RedisAdapter::builder()
///     .url("rediss://:secret@redis.example.com:6380/2")
///     .prefix("myapp:")
///     .max_completed(1_000)
///     .connect()
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisBuilder {
    url: Option<String>,
    pub(crate) settings: Settings,
    response_timeout: Duration,
}

impl fmt::Debug for RedisBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisBuilder")
            .field("url", &self.url.as_deref().map(redact))
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl RedisBuilder {
    pub(crate) fn new() -> Self {
        RedisBuilder { url: None, settings: Settings::default(), response_timeout: Duration::from_secs(10) }
    }

    /// The server: `redis://[[user]:password@]host[:port][/db]`, or `rediss://` for TLS (feature
    /// `tls`, on by default). Default: `REDIS_URL`, else `redis://127.0.0.1:6379`.
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.url = Some(url.into());
        self
    }

    /// Put before every key (default none, as Sidekiq). `"myapp:"` gives the keys that Sidekiq
    /// configured with redis-namespace `myapp` uses.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.settings.prefix = prefix.into();
        self
    }

    /// How many completed jobs stay findable through the inspection side: the most recent ones,
    /// in the capped sorted set `jobs:done`, scored by when they completed (default 10 000; 0
    /// keeps none and saves a copy of every job).
    pub fn max_completed(mut self, max: usize) -> Self {
        self.settings.max_completed = max;
        self
    }

    /// How many jobs the dead set keeps at most, and for how long (default 10 000 jobs and
    /// 180 days, as Sidekiq).
    pub fn dead_set_limits(mut self, max_jobs: usize, timeout: Duration) -> Self {
        self.settings.dead_max = max_jobs.max(1);
        self.settings.dead_timeout = timeout;
        self
    }

    /// How long the adapter's working set counts as alive after its last sign of life — a claim,
    /// a lease heartbeat or a worker's beat (default 60 s, as Sidekiq's processes; longer when a
    /// lease or a worker's time to live is longer). When it has expired, any other process hands
    /// the jobs it held back to their queues.
    pub fn process_ttl(mut self, ttl: Duration) -> Self {
        self.settings.process_ttl = ttl.max(Duration::from_secs(2));
        self
    }

    /// How long to wait for a reply before a command fails (default 10 s).
    pub fn response_timeout(mut self, timeout: Duration) -> Self {
        self.response_timeout = timeout;
        self
    }

    /// Connects, checks the server (Redis 6.2 or newer; warns unless `maxmemory-policy` is
    /// `noeviction`, since an evicting server may drop jobs), and returns the adapter. An
    /// unreachable server is a [`RedisError::Connect`] naming `host:port` and the cause.
    pub async fn connect(self) -> Result<RedisAdapter, Error> {
        let url = match self.url {
            Some(url) => url,
            None => std::env::var("REDIS_URL").ok().filter(|u| !u.is_empty()).unwrap_or_else(|| DEFAULT_URL.into()),
        };
        let shown = redact(&url);
        Ok(connect(&url, shown, self.settings, self.response_timeout).await?)
    }
}

async fn connect(url: &str, shown: String, settings: Settings, timeout: Duration) -> Result<RedisAdapter, RedisError> {
    let info = url.into_connection_info()?;
    let at = match info.addr() {
        ConnectionAddr::Tcp(host, port) | ConnectionAddr::TcpTls { host, port, .. } => format!("{host}:{port}"),
        ConnectionAddr::Unix(path) => path.display().to_string(),
        other => other.to_string(),
    };
    let redis_settings = info.redis_settings().clone().set_protocol(ProtocolVersion::RESP3);
    let client = redis::Client::open(info.set_redis_settings(redis_settings))?;

    let wake = Arc::new(Notify::new());
    let woken = wake.clone();
    let config = ConnectionManagerConfig::new()
        .set_response_timeout(Some(timeout))
        .set_connection_timeout(Some(Duration::from_secs(5)))
        .set_number_of_retries(2)
        .set_max_delay(Duration::from_secs(1))
        .set_automatic_resubscription()
        .set_push_sender(move |push: PushInfo| {
            if push.kind == PushKind::Message {
                woken.notify_waiters();
                woken.notify_one();
            }
            Ok::<(), std::convert::Infallible>(())
        });
    let mut conn = ConnectionManager::new_with_config(client, config).await.map_err(|error| {
        let cause = if error.is_connection_refusal() {
            "connection refused".to_owned()
        } else if error.is_timeout() {
            "no answer in time".to_owned()
        } else {
            redact(&error.to_string())
        };
        RedisError::Connect { at, cause }
    })?;
    check_server(&mut conn, &shown).await?;
    Ok(RedisAdapter::from_parts(conn, settings, wake, shown))
}

/// Refuses servers without RPOP's count (6.2); warns when eviction could drop jobs.
async fn check_server(conn: &mut ConnectionManager, shown: &str) -> Result<(), RedisError> {
    let info: String = redis::cmd("INFO").query_async(conn).await?;
    if let Some(policy) = evicting_policy(&info)? {
        tracing::warn!(
            target: "jobs",
            "Redis at {shown} has maxmemory-policy {policy}: when it runs out of memory it may evict jobs. \
             Set `maxmemory-policy noeviction` (as Sidekiq advises) on a server that holds jobs."
        );
    }
    Ok(())
}

/// From the server's `INFO`: an error when it is older than 6.2, else its `maxmemory-policy`
/// unless that is `noeviction`.
fn evicting_policy(info: &str) -> Result<Option<&str>, RedisError> {
    let field = |name: &str| {
        info.lines().find_map(|line| line.strip_prefix(name).and_then(|rest| rest.strip_prefix(':'))).map(str::trim)
    };
    let version = field("redis_version").unwrap_or("0");
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    if (parts.next().unwrap_or(0), parts.next().unwrap_or(0)) < (6, 2) {
        return Err(RedisError::TooOld { found: version.to_owned() });
    }
    Ok(field("maxmemory_policy").filter(|p| *p != "noeviction"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warns_about_every_policy_but_noeviction() {
        let info = |version: &str, policy: &str| {
            format!("# Server\r\nredis_version:{version}\r\n# Memory\r\nmaxmemory_policy:{policy}\r\n")
        };
        assert_eq!(evicting_policy(&info("7.0.15", "noeviction")).unwrap(), None);
        assert_eq!(evicting_policy(&info("7.2.4", "allkeys-lru")).unwrap(), Some("allkeys-lru"));
        assert_eq!(evicting_policy(&info("6.2.0", "volatile-ttl")).unwrap(), Some("volatile-ttl"));
        assert!(matches!(evicting_policy(&info("6.0.16", "noeviction")), Err(RedisError::TooOld { .. })));
    }

    #[test]
    fn debug_never_shows_the_password() {
        let builder = RedisBuilder::new().url("redis://app:hunter2@cache:6379/1");
        let shown = format!("{builder:?}");
        assert!(shown.contains("redis://app:***@cache:6379/1") && !shown.contains("hunter2"), "{shown}");
    }
}
