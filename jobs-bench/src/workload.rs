//! The jobs being measured, and the in-process state they report to.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use jobs::prelude::*;
use tokio::sync::{Notify, mpsc};

/// Counts completed burn-down jobs and wakes the bench when the last one is done; holds the CPU
/// each job spins first.
#[derive(Debug)]
pub(crate) struct Counter {
    done: AtomicU64,
    target: u64,
    finished: Notify,
    work: Duration,
}

impl Counter {
    /// A counter that is finished after `target` jobs, each spinning `work` of CPU first.
    pub(crate) fn new(target: u64, work: Duration) -> Self {
        Counter { done: AtomicU64::new(0), target, finished: Notify::new(), work }
    }

    /// Spins the job's CPU work, then counts the job.
    fn record(&self) {
        if !self.work.is_zero() {
            let started = Instant::now();
            while started.elapsed() < self.work {
                std::hint::spin_loop();
            }
        }
        if self.done.fetch_add(1, Ordering::Relaxed) + 1 == self.target {
            self.finished.notify_one();
        }
    }

    /// How many jobs have run so far.
    pub(crate) fn done(&self) -> u64 {
        self.done.load(Ordering::Relaxed)
    }

    /// Waits until `target` jobs have run; fails when no job ran for `stall`.
    pub(crate) async fn wait(&self, stall: Duration) -> Result<(), String> {
        let mut last = self.done();
        let mut last_progress = Instant::now();
        while self.done() < self.target {
            let _ = tokio::time::timeout(Duration::from_millis(250), self.finished.notified()).await;
            let now = self.done();
            if now != last {
                (last, last_progress) = (now, Instant::now());
            } else if last_progress.elapsed() >= stall {
                return Err(format!("stalled: {now} of {} jobs done, none in {stall:?}", self.target));
            }
        }
        Ok(())
    }
}

/// Receives the start time of each `Ping` job.
#[derive(Debug)]
pub(crate) struct Probe {
    started: mpsc::UnboundedSender<(u64, Instant)>,
}

impl Probe {
    /// A probe and the receiving end of its start times.
    pub(crate) fn new() -> (Self, mpsc::UnboundedReceiver<(u64, Instant)>) {
        let (started, receiver) = mpsc::unbounded_channel();
        (Probe { started }, receiver)
    }
}

/// The burn-down job: does nothing but count itself.
#[job(name = "BenchNoop")]
pub(crate) async fn noop(counter: State<Counter>) {
    counter.record();
}

/// The burn-down job under a concurrency limit (`--limit-keys`): two at once per key.
#[job(name = "BenchLimited", limits_concurrency(to = 2, key = |job| job.key))]
pub(crate) async fn limited(key: u64, counter: State<Counter>) {
    let _ = key;
    counter.record();
}

/// The registry of a burn-down: the one job class it drains, so that a run without a limit pays
/// nothing for the limited class (the worker checks payloads for flow keys only when a class of
/// its registry declares flow control).
pub(crate) fn burn_down_registry(limited: bool) -> Result<jobs::Registry, jobs::Error> {
    let mut registry = jobs::Registry::new();
    if limited {
        registry.register::<Limited>()?;
    } else {
        registry.register::<Noop>()?;
    }
    Ok(registry)
}

/// The pickup-latency job: reports when it started.
#[job(name = "BenchPing")]
pub(crate) async fn ping(seq: u64, probe: State<Probe>) {
    let _ = probe.started.send((seq, Instant::now()));
}
