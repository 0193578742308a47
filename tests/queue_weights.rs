//! Queue weights and several pools per process, on the memory adapter.

mod common;

use std::sync::Mutex;
use std::time::Duration;

use common::{Log, eventually, log, runtime};
use jobs::prelude::*;

#[job]
async fn record(label: String, log: State<Log>) {
    log.push(label);
}

async fn enqueue_on(rt: &Runtime, queue: &str, count: usize) {
    let queue = queue.to_owned();
    rt.scope(async move {
        for _ in 0..count {
            Record::set().queue(queue.as_str()).perform_later(queue.clone()).await.unwrap();
        }
    })
    .await;
}

#[tokio::test]
async fn weighted_queues_serve_both_in_proportion_and_never_starve_the_light_one() {
    let memory = MemoryAdapter::new();
    let rt = runtime(&memory);
    enqueue_on(&rt, "critical", 200).await;
    enqueue_on(&rt, "default", 200).await;
    let handle = Worker::builder()
        .runtime(&rt)
        .weighted_queues([("critical", 3), ("default", 1)])
        .concurrency(1)
        .prefetch(0)
        .poll_interval(Duration::from_millis(20))
        .build()
        .unwrap()
        .start();
    eventually("every job performed", || log(&rt).lines().len() == 400).await;
    handle.shutdown().await.unwrap();
    // One job per claim (no claim-ahead): while both have a backlog, `default` comes first one
    // claim in four. With claim-ahead, a claim takes a batch from the queue drawn first, and the
    // proportion holds over many claims rather than over these 120 jobs.
    // Strict order would run all 200 `critical` jobs first.
    let first = log(&rt).lines()[..120].iter().filter(|queue| *queue == "default").count();
    assert!((12..=50).contains(&first), "{first} of the first 120 jobs came from `default` (expected ~30)");
}

#[tokio::test]
async fn a_bad_weight_is_a_config_error_that_says_why() {
    let rt = runtime(&MemoryAdapter::new());
    let error = Worker::builder().runtime(&rt).weighted_queues([("critical", 0), ("default", 1)]).build().unwrap_err();
    assert!(matches!(&error, jobs::Error::Config(m) if m.contains("`critical` has weight 0")), "{error}");
    let error = Worker::builder().runtime(&rt).weighted_queues([("a", 1), ("a", 2)]).build().unwrap_err();
    assert!(error.to_string().contains("weighted twice"), "{error}");
}

/// Jobs running now and the most ever running at once, per queue.
#[derive(Default)]
struct Gauge(Mutex<std::collections::HashMap<String, (usize, usize)>>);

#[job]
async fn hold(queue: String, gauge: State<Gauge>, log: State<Log>) {
    {
        let mut counts = gauge.0.lock().unwrap();
        let (now, most) = counts.entry(queue.clone()).or_default();
        *now += 1;
        *most = (*most).max(*now);
    }
    tokio::time::sleep(Duration::from_millis(30)).await;
    gauge.0.lock().unwrap().get_mut(&queue).unwrap().0 -= 1;
    log.push(queue);
}

#[tokio::test]
async fn two_workers_over_one_runtime_are_two_pools_with_their_own_concurrency() {
    let memory = MemoryAdapter::new();
    let rt = Runtime::builder().adapter(memory.clone()).state(Log::default()).state(Gauge::default()).build().unwrap();
    rt.scope(async {
        for _ in 0..8 {
            Hold::set().queue("default").perform_later("default".into()).await.unwrap();
            Hold::set().queue("mailers").perform_later("mailers".into()).await.unwrap();
        }
    })
    .await;
    let pool = |queue: &str, concurrency| {
        Worker::builder()
            .runtime(&rt)
            .queues([queue])
            .concurrency(concurrency)
            .poll_interval(Duration::from_millis(20))
            .build()
            .unwrap()
            .start()
    };
    let (default, mailers) = (pool("default", 4), pool("mailers", 1));
    eventually("every job performed", || log(&rt).lines().len() == 16).await;
    default.shutdown().await.unwrap();
    mailers.shutdown().await.unwrap();
    let counts = rt.state::<Gauge>().unwrap().0.lock().unwrap().clone();
    assert_eq!(counts["mailers"].1, 1, "the mailers pool never ran two at once");
    assert!(counts["default"].1 <= 4, "the default pool stayed within its concurrency: {counts:?}");
}
