//! `metrics`: the names, units and labels of every series, pinned with a recording recorder, and
//! the gauges a worker samples from the store as jobs are enqueued and drained. In a binary of its
//! own because it installs a global recorder (once, shared by the tests, which use queues and
//! classes of their own).

use std::sync::OnceLock;
use std::time::Duration;

use jobs::adapters::{JobFilter, MemoryAdapter, TestAdapter};
use jobs::prelude::*;
use jobs::telemetry;
use metrics::Unit;
use metrics_util::MetricKind;
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};

#[job(queue = "mailers", discard_on(std::io::Error))]
async fn send_digest(user: String) -> Result<(), std::io::Error> {
    if user == "nobody" { Err(std::io::Error::other("no such user")) } else { Ok(()) }
}

#[job(queue = "gauged")]
async fn tally(fail: bool) -> Result<(), std::io::Error> {
    if fail { Err(std::io::Error::other("tally failed")) } else { Ok(()) }
}

/// One recorded series: kind, name, labels (sorted), unit, value.
#[derive(Debug)]
struct Series {
    kind: MetricKind,
    name: String,
    labels: Vec<(String, String)>,
    unit: Option<Unit>,
    value: DebugValue,
}

fn snapshotter() -> &'static Snapshotter {
    static SNAPSHOTTER: OnceLock<Snapshotter> = OnceLock::new();
    SNAPSHOTTER.get_or_init(|| {
        let recorder = DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        metrics::set_global_recorder(recorder).unwrap();
        telemetry::describe_metrics();
        snapshotter
    })
}

/// Taken by each test for its whole run: a snapshot drains the recorder's counters, so a test
/// polling the gauges would take the counts another test is about to check.
async fn one_at_a_time() -> tokio::sync::MutexGuard<'static, ()> {
    static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    SERIAL.lock().await
}

fn snapshot() -> Vec<Series> {
    snapshotter()
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, unit, _, value)| {
            let (kind, key) = key.into_parts();
            let mut labels: Vec<_> = key.labels().map(|l| (l.key().to_owned(), l.value().to_owned())).collect();
            labels.sort();
            Series { kind, name: key.name().to_owned(), labels, unit, value }
        })
        .collect()
}

fn labels(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut labels: Vec<_> = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    labels.sort();
    labels
}

/// The series `name` with exactly `pairs` as labels.
fn find<'a>(series: &'a [Series], name: &str, pairs: &[(&str, &str)]) -> &'a Series {
    let wanted = labels(pairs);
    series
        .iter()
        .find(|s| s.name == name && s.labels == wanted)
        .unwrap_or_else(|| panic!("no {name} {wanted:?} in {series:#?}"))
}

#[tokio::test]
async fn counts_and_times_jobs_under_their_documented_names_units_and_labels() {
    let _serial = one_at_a_time().await;
    snapshotter();
    let jobs = TestAdapter::new();
    let rt = Runtime::builder().adapter(jobs.clone()).build().unwrap();
    rt.scope(async {
        SendDigest::perform_later("ada".into()).await.unwrap();
        SendDigest::perform_later("nobody".into()).await.unwrap();
        jobs.perform_enqueued_jobs(JobFilter::any()).await.unwrap();
    })
    .await;

    let series = snapshot();
    let job = [("messaging.destination.name", "mailers"), ("jobs.class", "SendDigest")];
    let with = |extra: &[(&'static str, &'static str)]| [&job[..], extra].concat();

    let sent = find(&series, "messaging.client.sent.messages", &with(&[("messaging.operation.name", "enqueue")]));
    assert_eq!((sent.kind, &sent.value, sent.unit), (MetricKind::Counter, &DebugValue::Counter(2), Some(Unit::Count)));
    let performed = find(&series, "jobs.processed", &with(&[("jobs.outcome", "performed")]));
    assert_eq!((performed.kind, &performed.value), (MetricKind::Counter, &DebugValue::Counter(1)));
    let discarded = find(&series, "jobs.processed", &with(&[("jobs.outcome", "discarded")]));
    assert_eq!(discarded.value, DebugValue::Counter(1));
    assert_eq!(find(&series, "jobs.discarded", &job).value, DebugValue::Counter(1));

    for outcome in ["performed", "discarded"] {
        let duration = find(
            &series,
            "messaging.process.duration",
            &with(&[("messaging.operation.name", "perform"), ("jobs.outcome", outcome)]),
        );
        assert_eq!((duration.kind, duration.unit), (MetricKind::Histogram, Some(Unit::Seconds)));
        assert!(matches!(&duration.value, DebugValue::Histogram(h) if h.len() == 1), "{duration:?}");
    }
    let latency = find(&series, "jobs.queue.latency", &job);
    assert_eq!(latency.unit, Some(Unit::Seconds));
    assert!(matches!(&latency.value, DebugValue::Histogram(h) if h.len() == 2), "{latency:?}");
    // No series of another name or label set for this job class.
    let mut ours: Vec<&str> = series
        .iter()
        .filter(|s| s.labels.contains(&("jobs.class".into(), "SendDigest".into())))
        .map(|s| s.name.as_str())
        .collect();
    ours.sort();
    assert_eq!(
        ours,
        [
            "jobs.discarded",
            "jobs.processed",
            "jobs.processed",
            "jobs.queue.latency",
            "messaging.client.sent.messages",
            "messaging.process.duration",
            "messaging.process.duration"
        ]
    );
}

/// Polls the gauges until `done` holds for them.
async fn until(what: &str, done: impl Fn(&dyn Fn(&str, &[(&str, &str)]) -> Option<f64>) -> bool) {
    for _ in 0..250 {
        let series = snapshot();
        let gauge = |name: &str, pairs: &[(&str, &str)]| {
            let wanted = labels(pairs);
            series.iter().find(|s| s.name == name && s.labels == wanted).and_then(|s| match s.value {
                DebugValue::Gauge(value) => Some(value.into_inner()),
                _ => None,
            })
        };
        if done(&gauge) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the gauges never showed {what}: {:#?}", snapshot());
}

#[tokio::test]
async fn a_worker_samples_queue_gauges_from_the_store_as_jobs_come_and_go() {
    let _serial = one_at_a_time().await;
    snapshotter();
    let memory = MemoryAdapter::new();
    let rt = Runtime::builder().adapter(memory.clone()).build().unwrap();
    let queue = [("messaging.destination.name", "gauged")];
    let state = |s: &'static str| [("messaging.destination.name", "gauged"), ("jobs.state", s)];

    // A worker on another queue samples the whole store.
    let sampler = Worker::builder()
        .runtime(&rt)
        .queues(["elsewhere"])
        .concurrency(3)
        .gauges_interval(Some(Duration::from_millis(20)))
        .build()
        .unwrap()
        .start();
    rt.scope(async {
        Tally::perform_later(false).await.unwrap();
        Tally::perform_later(false).await.unwrap();
        Tally::perform_later(true).await.unwrap();
        Tally::set().wait(Duration::from_secs(3600)).perform_later(false).await.unwrap();
    })
    .await;
    until("3 ready and 1 scheduled", |gauge| {
        gauge("jobs.queue.size", &state("ready")) == Some(3.0)
            && gauge("jobs.queue.size", &state("scheduled")) == Some(1.0)
            && gauge("jobs.dead", &queue) == Some(0.0)
            && gauge("jobs.queue.oldest_ready_age", &queue).is_some()
            && gauge("jobs.worker.concurrency", &[]).is_some()
            && gauge("jobs.worker.busy", &[]) == Some(0.0)
    })
    .await;

    // Drained by a worker of its own (no retries: the failing one goes to the dead set).
    let drainer = Worker::builder()
        .runtime(&rt)
        .queues(["gauged"])
        .retry_policy(jobs::RetryPolicy::none())
        .gauges_interval(None)
        .build()
        .unwrap()
        .start();
    until("the queue drained, one dead", |gauge| {
        gauge("jobs.queue.size", &state("ready")) == Some(0.0)
            && gauge("jobs.queue.size", &state("running")) == Some(0.0)
            && gauge("jobs.queue.size", &state("scheduled")) == Some(1.0)
            && gauge("jobs.dead", &queue) == Some(1.0)
            && gauge("jobs.queue.oldest_ready_age", &queue) == Some(0.0)
    })
    .await;
    drainer.shutdown().await.unwrap();
    sampler.shutdown().await.unwrap();
}

#[test]
fn a_zero_gauges_interval_is_refused() {
    let rt = Runtime::builder().adapter(MemoryAdapter::new()).build().unwrap();
    let error = Worker::builder().runtime(&rt).gauges_interval(Some(Duration::ZERO)).build().unwrap_err();
    assert!(error.to_string().contains("gauges interval"), "{error}");
}
