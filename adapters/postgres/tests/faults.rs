//! Faults: the server kills the adapter's connections (`pg_terminate_backend`, as a restart or a
//! failover does) while a worker drains; no job is lost and nothing stalls.

mod support;

use std::sync::Arc;
use std::time::Duration;

use jobs_core::{Inspect, JobState, PendingJob};
use support::{Count, Seen, TestSchema, connection, runtime, wait_until, worker};

/// Terminates every connection of the adapter (named after the test's schema); returns how many.
async fn kill_connections(schema: &TestSchema) -> i64 {
    sqlx::query_scalar(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
         WHERE application_name = $1 AND pid <> pg_backend_pid()",
    )
    .bind(&schema.name)
    .fetch_one(&mut connection().await)
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_connections_lose_no_job_and_stall_nothing() {
    const JOBS: u64 = 400;
    // What the adapter logs about the lost connections shows with --nocapture.
    let _ = tracing_subscriber::fmt().with_test_writer().try_init();
    let Some(schema) = TestSchema::new("killed_connections_lose_no_job_and_stall_nothing").await else { return };
    let postgres = schema.adapter().await;
    let seen = Arc::new(Seen::default());
    let runtime = runtime(&postgres, &seen);
    runtime.perform_all_later((0..JOBS / 2).map(|n| PendingJob::new(Count { n, millis: 5 }))).await.unwrap();
    // Polls every 30 s: after the kills, only a LISTEN connection that came back keeps it quick.
    let running = worker(&runtime, Duration::from_secs(30));

    let mut killed = 0;
    for round in 0..4 {
        wait_until("the worker to make progress", Duration::from_secs(30), || seen.sorted().len() > round * 40).await;
        killed += kill_connections(&schema).await;
        // Jobs enqueued right after the kill meet dead pooled connections: the adapter retries.
        for n in 0..JOBS / 8 {
            let n = JOBS / 2 + round as u64 * (JOBS / 8) + n;
            runtime.perform_later(Count { n, millis: 5 }).await.expect("an enqueue survives a killed connection");
        }
    }
    assert!(killed >= 4, "the test killed the adapter's connections ({killed})");

    wait_until("every job to complete", Duration::from_secs(90), || {
        let ran = seen.sorted();
        (0..JOBS).all(|n| ran.binary_search(&n).is_ok())
    })
    .await;
    let counts = loop {
        let counts = postgres.counts().await.unwrap();
        if counts.total(JobState::Completed) == JOBS {
            break counts;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    running.shutdown().await.unwrap();
    assert_eq!(counts.pending(), 0, "{counts:?}");
    assert_eq!(counts.total(JobState::Dead), 0, "{counts:?}");
    let mut distinct = seen.sorted();
    distinct.dedup();
    assert_eq!(distinct, (0..JOBS).collect::<Vec<_>>(), "every job ran, at least once");

    // The LISTEN connection came back: an enqueue wakes the idle worker long before its poll.
    let again = worker(&runtime, Duration::from_secs(30));
    tokio::time::sleep(Duration::from_millis(300)).await;
    kill_connections(&schema).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let started = std::time::Instant::now();
    runtime.perform_later(Count { n: JOBS, millis: 0 }).await.unwrap();
    wait_until("a job enqueued after the last kill", Duration::from_secs(10), || seen.sorted().contains(&JOBS)).await;
    assert!(started.elapsed() < Duration::from_secs(5), "woken after {:?}", started.elapsed());
    again.shutdown().await.unwrap();
}
