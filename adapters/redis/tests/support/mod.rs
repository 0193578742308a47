//! What the tests of this crate share: a Redis at `JOBS_TEST_REDIS_URL` with a key prefix of
//! their own, deleted when the test ends.

#![allow(dead_code, unreachable_pub)]

pub mod flow;

use jobs_conformance::{service_url, unavailable};
use jobs_redis::RedisAdapter;

/// The server tests use.
pub fn url() -> String {
    service_url("JOBS_TEST_REDIS_URL", jobs_redis::DEFAULT_URL)
}

/// A fresh prefix: `jobs-test:<random>:`.
pub fn prefix() -> String {
    use std::hash::{BuildHasher, RandomState};
    format!("jobs-test:{:016x}:", RandomState::new().hash_one(std::time::SystemTime::now()))
}

/// An adapter on a fresh prefix with a guard that deletes its keys, or `None` (after a notice)
/// when Redis is unreachable.
pub async fn adapter(what: &str) -> Option<(RedisAdapter, Cleanup)> {
    match RedisAdapter::builder().url(url()).prefix(prefix()).connect().await {
        Ok(redis) => Some((redis.clone(), Cleanup(Some(redis)))),

        Err(error) => unavailable("Redis", what, error),
    }
}

/// Stops the adapter's process and deletes every key of its prefix when dropped.
pub struct Cleanup(Option<RedisAdapter>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let Some(redis) = self.0.take() else { return };
        // The test's runtime, which drives the adapter's connection, is blocked in this drop (or
        // gone): stop the adapter's heartbeat, and delete the keys over a connection of our own.
        let _ = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
            runtime.block_on(async {
                let _ = tokio::time::timeout(std::time::Duration::from_millis(50), redis.close()).await;
                let fresh = RedisAdapter::builder().url(url()).prefix(redis.prefix()).connect().await;
                if let Ok(fresh) = fresh {
                    let _ = fresh.clear().await;
                }
            });
        })
        .join();
    }
}
