//! A `metrics` recorder installed after a worker started still gets every run's metrics: the
//! handles each worker thread keeps for a job's runs (registered with the no-op recorder until
//! then) are registered again with the new one. In a binary of its own because it installs a
//! global recorder.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use serde_json::Value;

use jobs_core::adapters::MemoryAdapter;
use jobs_core::encoding::{ArgumentsReader, EncodeContext};
use jobs_core::{ConfiguredJob, Error, EventKind, Job, JobContext, Registry, Runtime, Worker};
use support::eventually;

struct Tick;

impl Job for Tick {
    const NAME: &'static str = "Tick";
    const QUEUE: &'static str = "ticks";
    type Output = ();

    fn to_arguments(&self, _cx: &EncodeContext<'_>) -> Result<Vec<Value>, Error> {
        Ok(Vec::new())
    }

    fn from_arguments(arguments: Vec<Value>) -> Result<Self, Error> {
        ArgumentsReader::new(Self::NAME, arguments, 0)?;
        Ok(Tick)
    }

    async fn perform(self, _ctx: JobContext) -> Result<(), Error> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recorder_installed_while_a_worker_runs_gets_the_metrics_of_later_runs() {
    // Counts the runs whose metrics were recorded: a run's perform event follows its metrics.
    let performed = Arc::new(AtomicUsize::new(0));
    let counted = performed.clone();
    let mut registry = Registry::new();
    registry.register::<Tick>().unwrap();
    let rt = Runtime::builder()
        .adapter(MemoryAdapter::new())
        .registry(registry)
        .subscribe(move |event: &jobs_core::Event<'_>| {
            if event.kind() == EventKind::Perform {
                counted.fetch_add(1, Ordering::SeqCst);
            }
        })
        .build()
        .unwrap();
    let worker = Worker::builder()
        .runtime(&rt)
        .queues(["ticks"])
        .poll_interval(Duration::from_millis(5))
        .build()
        .unwrap()
        .start();
    let enqueue = async |count: usize| {
        for _ in 0..count {
            ConfiguredJob::<Tick>::new().runtime(&rt).enqueue(Tick).await.unwrap();
        }
    };

    // Runs with no recorder installed, on both threads of the runtime.
    enqueue(40).await;
    eventually("the first runs", || performed.load(Ordering::SeqCst) == 40).await;

    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::set_global_recorder(recorder).unwrap();
    enqueue(7).await;
    eventually("the later runs", || performed.load(Ordering::SeqCst) == 47).await;
    worker.shutdown().await.unwrap();

    let series = snapshotter.snapshot().into_vec();
    let value = |name: &str, outcome: Option<&str>| {
        let (_, _, _, value) = series
            .iter()
            .find(|(key, ..)| {
                let key = key.key();
                let label = |wanted: &str| key.labels().find(|l| l.key() == wanted).map(|l| l.value().to_owned());
                key.name() == name
                    && label("jobs.class").as_deref() == Some("Tick")
                    && label("messaging.destination.name").as_deref() == Some("ticks")
                    && label("jobs.outcome").as_deref() == outcome
            })
            .unwrap_or_else(|| panic!("no {name} in {series:#?}"));
        match value {
            DebugValue::Counter(count) => usize::try_from(*count).unwrap(),
            DebugValue::Histogram(values) => values.len(),
            DebugValue::Gauge(_) => panic!("{name} is a gauge"),
        }
    };
    assert_eq!(value("jobs.processed", Some("performed")), 7);
    assert_eq!(value("messaging.process.duration", Some("performed")), 7);
    assert_eq!(value("jobs.queue.latency", None), 7);
}
