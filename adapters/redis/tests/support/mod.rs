//! What the tests of this crate share: a Redis at `JOBS_TEST_REDIS_URL` with a key prefix of
//! their own, deleted when the test ends.

#![allow(dead_code, unreachable_pub)]

use jobs_core::conformance::{service_url, unavailable};
use jobs_redis::RedisAdapter;
use jobs_redis::redis::AsyncCommands;

/// The server tests use.
pub fn url() -> String {
    service_url("JOBS_TEST_REDIS_URL", jobs_redis::DEFAULT_URL)
}

/// A fresh prefix: `jobs-test:<random>:`.
pub fn prefix() -> String {
    format!("jobs-test:{:016x}:", fastrand_u64())
}

fn fastrand_u64() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now())
}

/// An adapter on a fresh prefix, or `None` (after a notice) when Redis is unreachable.
pub async fn adapter(what: &str) -> Option<(RedisAdapter, Cleanup)> {
    let prefix = prefix();
    match RedisAdapter::builder().url(url()).prefix(&prefix).connect().await {
        Ok(redis) => {
            let cleanup = Cleanup { conn: Some(redis.connection()), prefix };
            Some((redis, cleanup))
        }
        Err(error) => unavailable("Redis", what, error),
    }
}

/// Deletes every key of a prefix when dropped (on the runtime the test runs on, or a new one).
pub struct Cleanup {
    conn: Option<jobs_redis::redis::aio::ConnectionManager>,
    prefix: String,
}

impl Cleanup {
    /// The prefix this guard deletes.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Deletes the keys now.
    pub async fn run(mut self) {
        if let Some(conn) = self.conn.take() {
            delete_prefix(conn, &self.prefix).await;
        }
    }
}

/// Deletes every key that starts with `prefix`.
pub async fn delete_prefix(mut conn: jobs_redis::redis::aio::ConnectionManager, prefix: &str) {
    let pattern = format!("{}*", prefix.replace(['*', '?', '[', ']'], "\\$0"));
    let keys: Vec<String> = match conn.keys(&pattern).await {
        Ok(keys) => keys,
        Err(_) => return,
    };
    for chunk in keys.chunks(500) {
        let _: Result<(), _> = conn.del(chunk).await;
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else { return };
        let prefix = std::mem::take(&mut self.prefix);
        // The test's runtime may be shutting down: delete from a runtime of our own.
        let _ = std::thread::spawn(move || {
            if let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() {
                runtime.block_on(delete_prefix(conn, &prefix));
            }
        })
        .join();
    }
}
