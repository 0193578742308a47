//! What the log says at start-up: a runtime without an adapter, a worker starting and stopping.
//! In a test binary of its own, so that no other test touches the log callsites before the
//! capturing subscriber is set.

mod common;

use common::CapturedLogs;
use jobs::prelude::*;

/// Runs `f` with the log captured, and returns what was logged.
async fn captured<F: Future<Output = ()>>(f: impl FnOnce() -> F) -> String {
    let logs = CapturedLogs::start(tracing::Level::INFO);
    f().await;
    logs.text()
}

#[tokio::test]
async fn a_runtime_without_an_adapter_says_once_that_jobs_are_not_durable() {
    let logs = captured(|| async {
        let runtime = Runtime::builder().build().unwrap();
        let _ = runtime.adapter();
    })
    .await;
    let notices: Vec<&str> = logs.lines().filter(|line| line.contains("No adapter configured")).collect();
    assert_eq!(notices.len(), 1, "{logs}");
    assert!(notices[0].contains("MemoryAdapter") && notices[0].contains("not durable"), "{logs}");

    let logs = captured(|| async {
        Runtime::builder().adapter(MemoryAdapter::new()).build().unwrap();
    })
    .await;
    assert!(!logs.contains("No adapter configured"), "an explicit adapter needs no notice:\n{logs}");
}

#[tokio::test]
async fn a_worker_logs_its_start_and_its_stop() {
    let logs = captured(|| async {
        let runtime = Runtime::builder().adapter(MemoryAdapter::new()).build().unwrap();
        let worker = Worker::builder().runtime(&runtime).queues(["mailers", "default"]).concurrency(3).build().unwrap();
        worker.start().shutdown().await.unwrap();
    })
    .await;
    let started = logs.lines().find(|line| line.contains("Worker started")).unwrap_or_else(|| panic!("{logs}"));
    assert!(
        started.contains("Memory") && started.contains("mailers, default") && started.contains("concurrency 3"),
        "{logs}"
    );
    assert!(logs.contains("Worker stopped"), "{logs}");
}
