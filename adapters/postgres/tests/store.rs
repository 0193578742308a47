//! What is particular to PostgreSQL: transactional enqueue, wake-ups across processes, the
//! elected maintenance.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use jobs_core::adapter::{Backend, ClaimParams};
use jobs_core::{ConfiguredJob, Inspect, JobState, PendingJob};
use support::{Count, Seen, TestSchema, runtime, wait_until, worker};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_enqueued_in_a_transaction_appears_only_when_it_commits() {
    let Some(schema) = TestSchema::new("a_job_enqueued_in_a_transaction_appears_only_when_it_commits").await else {
        return;
    };
    let postgres = schema.adapter().await;
    let seen = Arc::new(Seen::default());
    let runtime = runtime(&postgres, &seen);
    let running = worker(&runtime, Duration::from_secs(30));

    let mut tx = postgres.pool().begin().await.unwrap();
    let job = ConfiguredJob::<Count>::new().runtime(&runtime).queue("default").build(Count { n: 1, millis: 0 });
    let enqueued = postgres.enqueue_in(&mut tx, job).await.unwrap();
    let id = enqueued.provider_job_id.clone().expect("a provider id");
    let many = runtime
        .scope(postgres.enqueue_all_in(&mut tx, (2..=3).map(|n| PendingJob::new(Count { n, millis: 0 }))))
        .await
        .unwrap();
    assert_eq!(many.len(), 2);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(postgres.find(&id).await.unwrap().is_none(), "an uncommitted job is invisible");
    assert!(seen.sorted().is_empty(), "no worker ran an uncommitted job");

    let committed = Instant::now();
    tx.commit().await.unwrap();
    // The worker polls every 30 s: only the NOTIFY sent on commit makes it this quick.
    wait_until("the committed jobs to run", Duration::from_secs(10), || seen.sorted().len() == 3).await;
    assert!(committed.elapsed() < Duration::from_secs(5), "picked up {:?} after commit", committed.elapsed());
    running.shutdown().await.unwrap();
    assert_eq!(seen.sorted(), [1, 2, 3]);
    assert_eq!(postgres.find(&id).await.unwrap().unwrap().state, JobState::Completed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_enqueued_in_a_transaction_is_gone_when_it_rolls_back() {
    let Some(schema) = TestSchema::new("a_job_enqueued_in_a_transaction_is_gone_when_it_rolls_back").await else {
        return;
    };
    let postgres = schema.adapter().await;
    let seen = Arc::new(Seen::default());
    let runtime = runtime(&postgres, &seen);
    let running = worker(&runtime, Duration::from_millis(50));

    let mut tx = postgres.pool().begin().await.unwrap();
    let job = ConfiguredJob::<Count>::new().runtime(&runtime).build(Count { n: 1, millis: 0 });
    let id = postgres.enqueue_in(&mut tx, job).await.unwrap().provider_job_id.unwrap();
    tx.rollback().await.unwrap();
    runtime.perform_later(Count { n: 2, millis: 0 }).await.unwrap();
    wait_until("the job enqueued after the rollback to run", Duration::from_secs(10), || !seen.sorted().is_empty())
        .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    running.shutdown().await.unwrap();

    assert_eq!(seen.sorted(), [2], "the rolled-back job never ran");
    assert!(postgres.find(&id).await.unwrap().is_none(), "a rolled-back job leaves no row");
    assert_eq!(postgres.counts().await.unwrap().total(JobState::Completed), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_worker_wakes_on_an_enqueue_from_another_process() {
    let Some(schema) = TestSchema::new("an_idle_worker_wakes_on_an_enqueue_from_another_process").await else {
        return;
    };
    // Two adapters on one schema share nothing in memory, like two processes.
    let (working, enqueuing) = (schema.adapter().await, schema.adapter().await);
    let seen = Arc::new(Seen::default());
    let running = worker(&runtime(&working, &seen), Duration::from_secs(30));
    let other = runtime(&enqueuing, &seen);
    tokio::time::sleep(Duration::from_millis(300)).await; // the worker is idle, listening

    for n in 1..=20 {
        let started = Instant::now();
        other.perform_later(Count { n, millis: 0 }).await.unwrap();
        wait_until("the job to be picked up", Duration::from_secs(10), || seen.sorted().len() == n as usize).await;
        assert!(started.elapsed() < Duration::from_secs(2), "job {n} picked up after {:?}", started.elapsed());
    }
    // A scheduled job is picked up by polling once due (here: within the 30 s poll, woken early
    // by its own NOTIFY, then by the next poll); check that it does not run early.
    let due = other.now() + chrono::Duration::milliseconds(500);
    ConfiguredJob::<Count>::new().runtime(&other).wait_until(due).enqueue(Count { n: 99, millis: 0 }).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(seen.sorted().len(), 20, "the scheduled job waited");
    running.shutdown().await.unwrap();
}

#[tokio::test]
async fn maintenance_prunes_on_one_elected_worker_per_interval() {
    let Some(schema) = TestSchema::new("maintenance_prunes_on_one_elected_worker_per_interval").await else { return };
    let builder = schema.builder().retain_completed(Duration::ZERO).maintenance_interval(Duration::from_secs(3600));
    let (a, b) = (builder.clone().connect().await.unwrap(), builder.connect().await.unwrap());
    let seen = Arc::new(Seen::default());
    let runtime = runtime(&a, &seen);
    let complete_one = |n| {
        let (a, runtime) = (a.clone(), runtime.clone());
        async move {
            let id = runtime.perform_later(Count { n, millis: 0 }).await.unwrap().provider_job_id.unwrap();
            let queues = ["default".to_owned()];
            let params = ClaimParams { queues: &queues, limit: 1, lease: Duration::from_secs(60), worker_id: "test" };
            let claimed = a.claim(params).await.unwrap();
            assert_eq!(a.complete(&[claimed[0].ticket.clone()]).await.unwrap(), 1);
            id
        }
    };
    let first = complete_one(1).await;
    let waiting = ConfiguredJob::<Count>::new().runtime(&runtime).queue("other").enqueue(Count { n: 2, millis: 0 });
    let waiting = waiting.await.unwrap().provider_job_id.unwrap();
    tokio::time::sleep(Duration::from_millis(10)).await;
    let (ra, rb) = tokio::join!(a.rescue_expired(), b.rescue_expired());
    ra.unwrap();
    rb.unwrap();
    assert!(a.find(&first).await.unwrap().is_none(), "the elected worker pruned the completed job");
    assert_eq!(a.find(&waiting).await.unwrap().unwrap().state, JobState::Ready, "pending jobs are never pruned");

    // Within the interval nobody prunes again, whichever worker asks.
    let second = complete_one(3).await;
    tokio::time::sleep(Duration::from_millis(10)).await;
    let (ra, rb) = tokio::join!(a.rescue_expired(), b.rescue_expired());
    ra.unwrap();
    rb.unwrap();
    assert_eq!(b.find(&second).await.unwrap().unwrap().state, JobState::Completed, "pruned once per interval");
    assert_eq!(a.prune_completed(Duration::ZERO).await.unwrap(), 1, "pruning by hand ignores the election");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_enqueues_with_debounced_notifications_all_wake_the_worker() {
    let Some(schema) = TestSchema::new("concurrent_enqueues_with_debounced_notifications_all_wake_the_worker").await
    else {
        return;
    };
    let (working, enqueuing) = (schema.adapter().await, schema.adapter().await);
    let seen = Arc::new(Seen::default());
    let running = worker(&runtime(&working, &seen), Duration::from_secs(30));
    let other = runtime(&enqueuing, &seen);
    tokio::time::sleep(Duration::from_millis(300)).await;

    for round in 0..3u64 {
        let tasks: Vec<_> = (0..8u64)
            .map(|task| {
                let other = other.clone();
                tokio::spawn(async move {
                    for n in 0..25 {
                        other.perform_later(Count { n: round * 1000 + task * 100 + n, millis: 0 }).await.unwrap();
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        // Most of these enqueues left their NOTIFY to a trailing one; the worker polls every
        // 30 s, so only those make it see every job quickly.
        let expected = (round as usize + 1) * 200;
        wait_until("every concurrently enqueued job to run", Duration::from_secs(5), || {
            seen.sorted().len() == expected
        })
        .await;
    }
    running.shutdown().await.unwrap();
    let mut ran = seen.sorted();
    ran.dedup();
    assert_eq!(ran.len(), 600, "each job ran once");
}
