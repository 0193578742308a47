//! `WorkerHandle::quiet`: a quiet worker finishes the jobs it holds, claims nothing more, shows
//! as quiet, and stays listed until it is shut down.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::Notify;

use jobs_core::adapters::MemoryAdapter;
use jobs_core::encoding::{ArgumentsReader, EncodeContext, to_argument};
use jobs_core::{ConfiguredJob, Error, Inspect, Job, JobContext, ProcessState, Registry, Runtime, Worker};

/// What the jobs did, and the gate a held job waits for.
#[derive(Default)]
struct Log {
    lines: Mutex<Vec<String>>,
    gate: Notify,
}

impl Log {
    fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }
}

/// Logs its start, waits for the gate when `hold`, logs its end.
struct Step {
    label: String,
    hold: bool,
}

impl Job for Step {
    const NAME: &'static str = "Step";
    type Output = ();

    fn to_arguments(&self, _cx: &EncodeContext<'_>) -> Result<Vec<Value>, Error> {
        Ok(vec![to_argument(Self::NAME, "label", &self.label)?, to_argument(Self::NAME, "hold", &self.hold)?])
    }

    fn from_arguments(arguments: Vec<Value>) -> Result<Self, Error> {
        let mut reader = ArgumentsReader::new(Self::NAME, arguments, 2)?;
        Ok(Step { label: reader.next("label")?, hold: reader.next("hold")? })
    }

    async fn perform(self, ctx: JobContext) -> Result<(), Error> {
        let log = ctx.state::<Log>()?;
        log.lines.lock().unwrap().push(format!("{} started", self.label));
        if self.hold {
            log.gate.notified().await;
        }
        log.lines.lock().unwrap().push(format!("{} finished", self.label));
        Ok(())
    }
}

async fn eventually(what: &str, check: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !check() {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn a_quiet_worker_finishes_what_it_holds_and_claims_nothing_more() {
    let memory = MemoryAdapter::new();
    let log = Arc::new(Log::default());
    let mut registry = Registry::new();
    registry.register::<Step>().unwrap();
    let rt = Runtime::builder().adapter(memory.clone()).registry(registry).shared_state(log.clone()).build().unwrap();
    let enqueue =
        |label: &str, hold| ConfiguredJob::<Step>::new().runtime(&rt).enqueue(Step { label: label.into(), hold });
    enqueue("held", true).await.unwrap();
    let handle = Worker::builder()
        .runtime(&rt)
        .poll_interval(Duration::from_millis(10))
        .lease(Duration::from_millis(300))
        .build()
        .unwrap()
        .start();
    assert_eq!(handle.state(), ProcessState::Running);
    eventually("the held job to start", || log.lines() == ["held started"]).await;
    let listed = memory.processes().await.unwrap();
    assert_eq!(
        listed.iter().map(|p| (p.id.as_str(), p.state)).collect::<Vec<_>>(),
        [(handle.id(), ProcessState::Running)]
    );

    handle.quiet();
    handle.quiet();
    assert_eq!(handle.state(), ProcessState::Quiet);
    enqueue("after quiet", false).await.unwrap();
    log.gate.notify_one();
    eventually("the held job to finish", || log.lines() == ["held started", "held finished"]).await;
    let quiet = |p: &jobs_core::ProcessInfo| p.id == handle.id() && p.state == ProcessState::Quiet;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !memory.processes().await.unwrap().iter().any(quiet) {
        assert!(tokio::time::Instant::now() < deadline, "the process entry never showed the worker quiet");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(memory.pending(), 1, "the job enqueued after quiet waits");
    assert!(!handle.is_finished(), "a quiet worker keeps running until it is shut down");

    handle.shutdown().await.unwrap();
    assert_eq!(log.lines(), ["held started", "held finished"], "nothing ran after quiet");
    assert!(memory.processes().await.unwrap().is_empty(), "a stopped worker leaves the list");
}
