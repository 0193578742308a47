//! Helpers shared by the integration tests.
#![allow(dead_code, unreachable_pub)]

pub mod rails;
pub mod smtp;

use std::cell::RefCell;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex, Once};
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

/// What a capture logged, as written.
type Lines = Arc<Mutex<Vec<u8>>>;

thread_local! {
    /// The capture of this thread's test, if one runs: its level and what it logged.
    static CAPTURE: RefCell<Option<(tracing::Level, Lines)>> = const { RefCell::new(None) };
}

/// What a test logs, as the `fmt` subscriber writes it, while the returned guard lives.
///
/// One subscriber is installed for the whole test binary, and it writes each event to the
/// capture of the thread that logged it. (A subscriber per test, set as the thread's default,
/// raced with tests on other threads over tracing's per-callsite interest cache: an event could
/// go unseen.) The tests run jobs on their own thread (`#[tokio::test]`'s current-thread runtime).
pub struct CapturedLogs {
    lines: Lines,
    _this_thread: PhantomData<*const ()>,
}

impl CapturedLogs {
    /// Captures this thread's logs at `level` and above until dropped.
    pub fn start(level: tracing::Level) -> Self {
        static INSTALL: Once = Once::new();
        INSTALL.call_once(|| {
            use tracing_subscriber::Layer as _;
            use tracing_subscriber::layer::SubscriberExt as _;
            let capturing = tracing_subscriber::filter::filter_fn(|meta| {
                CAPTURE.with(|capture| capture.borrow().as_ref().is_some_and(|(level, _)| meta.level() <= level))
            });
            let layer =
                tracing_subscriber::fmt::layer().with_ansi(false).with_writer(|| CaptureWriter).with_filter(capturing);
            tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer))
                .expect("no other global subscriber in the integration tests");
        });
        let lines = Arc::new(Mutex::new(Vec::new()));
        CAPTURE.with(|capture| *capture.borrow_mut() = Some((level, lines.clone())));
        CapturedLogs { lines, _this_thread: PhantomData }
    }

    /// Everything logged so far.
    pub fn text(&self) -> String {
        String::from_utf8(self.lines.lock().unwrap().clone()).unwrap()
    }
}

impl Drop for CapturedLogs {
    fn drop(&mut self) {
        CAPTURE.with(|capture| capture.borrow_mut().take());
    }
}

/// Writes to the capture of the thread that logs, if any.
struct CaptureWriter;

impl std::io::Write for CaptureWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        CAPTURE.with(|capture| {
            if let Some((_, lines)) = capture.borrow().as_ref() {
                lines.lock().unwrap().extend_from_slice(buf);
            }
        });
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
