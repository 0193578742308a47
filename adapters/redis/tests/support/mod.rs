//! What the tests of this crate share: a Redis at `JOBS_TEST_REDIS_URL` with a key prefix of
//! their own, deleted when the test ends.

#![allow(dead_code, unreachable_pub)]

use jobs_core::conformance::{service_url, unavailable};
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
        // The test's runtime may be shutting down: clean up from a runtime of our own.
        let _ = std::thread::spawn(move || {
            if let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() {
                runtime.block_on(async {
                    let _ = redis.close().await;
                    let _ = redis.clear().await;
                });
            }
        })
        .join();
    }
}
