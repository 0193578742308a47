//! Helpers shared by the integration tests.
#![allow(dead_code, unreachable_pub)]

pub mod rails;
pub mod smtp;

use std::sync::Mutex;
use std::time::Duration;

use jobs::prelude::*;
use jobs::{Backoff, RetryPolicy, WorkerHandle};

/// What the jobs of a test did, in order.
#[derive(Default)]
pub struct Log(Mutex<Vec<String>>);

impl Log {
    pub fn push(&self, line: impl Into<String>) {
        self.0.lock().unwrap().push(line.into());
    }

    pub fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

/// A runtime on `memory` with a fresh [`Log`] as state.
pub fn runtime(memory: &MemoryAdapter) -> Runtime {
    Runtime::builder().adapter(memory.clone()).state(Log::default()).build().unwrap()
}

/// The runtime's log.
pub fn log(runtime: &Runtime) -> State<Log> {
    runtime.state::<Log>().unwrap()
}

/// Waits (up to 10 s) until `check` holds.
pub async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..400 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("timed out waiting for: {what}");
}

/// A worker with quick polling, three immediate default retries and a short grace period.
pub fn worker(runtime: &Runtime, queues: &[&str], concurrency: usize) -> WorkerHandle {
    worker_with(runtime, queues, concurrency, RetryPolicy::retries(3).backoff(Backoff::Fixed(Duration::ZERO)))
}

/// Like [`worker`], with a retry policy of the caller's.
pub fn worker_with(runtime: &Runtime, queues: &[&str], concurrency: usize, policy: RetryPolicy) -> WorkerHandle {
    Worker::builder()
        .runtime(runtime)
        .queues(queues.iter().copied())
        .concurrency(concurrency)
        .poll_interval(Duration::from_millis(20))
        .retry_policy(policy)
        .shutdown_grace(Duration::from_millis(200))
        .stop_timeout(Duration::from_secs(5))
        .build()
        .unwrap()
        .start()
}

/// What a test logs, as the `fmt` subscriber writes it, while the returned guard lives.
pub struct CapturedLogs {
    lines: std::sync::Arc<Mutex<Vec<u8>>>,
    _guard: tracing::subscriber::DefaultGuard,
}

impl CapturedLogs {
    /// Captures this thread's logs at `level` and above until dropped.
    pub fn start(level: tracing::Level) -> Self {
        let lines = std::sync::Arc::new(Mutex::new(Vec::new()));
        let writer = lines.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(level)
            .with_ansi(false)
            .with_writer(move || CaptureWriter(writer.clone()))
            .finish();
        let guard = tracing::subscriber::set_default(subscriber);
        tracing::callsite::rebuild_interest_cache();
        CapturedLogs { lines, _guard: guard }
    }

    /// Everything logged so far.
    pub fn text(&self) -> String {
        String::from_utf8(self.lines.lock().unwrap().clone()).unwrap()
    }
}

struct CaptureWriter(std::sync::Arc<Mutex<Vec<u8>>>);

impl std::io::Write for CaptureWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
