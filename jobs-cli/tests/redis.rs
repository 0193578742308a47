//! The `jobs` binary against Redis, under a key prefix of its own deleted at the end.

#![cfg(feature = "redis")]

mod support;

use std::sync::Arc;

use jobs_conformance::{service_url, unavailable};
use jobs_redis::RedisAdapter;
use support::{Backend, jobs};

fn url() -> String {
    service_url("JOBS_TEST_REDIS_URL", jobs_redis::DEFAULT_URL)
}

#[tokio::test(flavor = "multi_thread")]
async fn an_operator_walks_through_stats_dead_jobs_retries_and_pauses() {
    let prefix = format!("jobs-cli-test:{:016x}:", fastrand::u64(..));
    let adapter = match RedisAdapter::builder().url(url()).prefix(&prefix).connect().await {
        Ok(adapter) => adapter,
        Err(error) => return unavailable("Redis", "the CLI walk", error).unwrap_or(()),
    };
    let _cleanup = Cleanup(prefix.clone());
    let args = vec!["--database-url".to_owned(), url(), "--redis-prefix".to_owned(), prefix.clone()];
    let backend = Backend { name: "Redis", args, adapter: Arc::new(adapter.clone()) };

    let migrated = backend.jobs(&["migrate"]).expect(0);
    assert!(migrated.stdout.contains("needs no migrations"), "{}", migrated.stdout);
    backend.jobs(&["migrate", "--print-sql"]).expect(4);
    let check = backend.jobs(&["check"]).expect(0);
    assert!(check.stdout.contains("maxmemory-policy") && check.stdout.contains("noeviction"), "{}", check.stdout);

    support::walk(&backend).await;
}

/// Deletes every key of the prefix when dropped, even after a failed assertion.
struct Cleanup(String);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let prefix = self.0.clone();
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async {
                let redis = RedisAdapter::builder().url(url()).prefix(prefix).connect().await.unwrap();
                redis.clear().await.unwrap();
            });
        })
        .join();
    }
}

#[test]
fn an_unreachable_server_is_a_clear_error() {
    let run = jobs(&["--database-url", "redis://:hunter2@127.0.0.1:1", "stats"]).expect(1);
    assert!(run.stderr.contains("127.0.0.1:1"), "{}", run.stderr);
    assert!(!run.stderr.contains("hunter2") && !run.stdout.contains("hunter2"));
}
