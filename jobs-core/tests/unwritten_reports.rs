//! A store that falls behind on writing completions holds the worker's claims back: the worker
//! does not run ahead of it with jobs whose completions only pile up in memory (each one a job
//! that runs again should the process die).

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::Notify;

use jobs_core::adapter::{Adapter, Backend, Capabilities, ClaimParams, ClaimedJob, Failure, NewJob, Ticket};
use jobs_core::adapters::MemoryAdapter;
use jobs_core::encoding::EncodeContext;
use jobs_core::{BoxFuture, Error, Job, JobContext, PendingJob, Registry, Runtime, Worker};
use support::eventually;

/// How many no-op jobs have run.
#[derive(Default)]
struct Ran(AtomicUsize);

/// Counts itself.
struct Tick;

impl Job for Tick {
    const NAME: &'static str = "Tick";
    type Output = ();

    fn to_arguments(&self, _cx: &EncodeContext<'_>) -> Result<Vec<Value>, Error> {
        Ok(Vec::new())
    }

    fn from_arguments(_arguments: Vec<Value>) -> Result<Self, Error> {
        Ok(Tick)
    }

    async fn perform(self, ctx: JobContext) -> Result<(), Error> {
        ctx.state::<Ran>()?.0.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

/// The memory adapter, whose completions wait while `stalled` (a store that cannot keep up).
#[derive(Clone, Debug, Default)]
struct Stalling {
    memory: MemoryAdapter,
    stalled: Arc<AtomicBool>,
    resumed: Arc<Notify>,
}

impl Adapter for Stalling {
    fn name(&self) -> &str {
        "Stalling"
    }

    fn capabilities(&self) -> Capabilities {
        self.memory.capabilities()
    }

    fn enqueue_all<'a>(&'a self, jobs: &'a [NewJob]) -> BoxFuture<'a, Result<Vec<Option<String>>, Error>> {
        self.memory.enqueue_all(jobs)
    }

    fn backend(&self) -> Option<&dyn Backend> {
        Some(self)
    }
}

impl Backend for Stalling {
    fn claim<'a>(&'a self, params: ClaimParams<'a>) -> BoxFuture<'a, Result<Vec<ClaimedJob>, Error>> {
        self.memory.claim(params)
    }

    fn complete<'a>(&'a self, tickets: &'a [Ticket]) -> BoxFuture<'a, Result<usize, Error>> {
        Box::pin(async move {
            while self.stalled.load(Ordering::SeqCst) {
                let resumed = self.resumed.notified();
                if !self.stalled.load(Ordering::SeqCst) {
                    break;
                }
                resumed.await;
            }
            self.memory.complete(tickets).await
        })
    }

    fn fail<'a>(&'a self, failures: &'a [Failure]) -> BoxFuture<'a, Result<usize, Error>> {
        self.memory.fail(failures)
    }

    fn release<'a>(&'a self, tickets: &'a [Ticket]) -> BoxFuture<'a, Result<usize, Error>> {
        self.memory.release(tickets)
    }

    fn heartbeat<'a>(&'a self, tickets: &'a [Ticket], lease: Duration) -> BoxFuture<'a, Result<usize, Error>> {
        self.memory.heartbeat(tickets, lease)
    }

    fn rescue_expired(&self) -> BoxFuture<'_, Result<u64, Error>> {
        self.memory.rescue_expired()
    }
}

#[tokio::test]
async fn a_worker_runs_no_further_ahead_of_a_store_that_stalls_on_completions() {
    const JOBS: usize = 20_000;
    let store = Stalling::default();
    store.stalled.store(true, Ordering::SeqCst);
    let ran = Arc::new(Ran::default());
    let mut registry = Registry::new();
    registry.register::<Tick>().unwrap();
    let rt = Runtime::builder().adapter(store.clone()).registry(registry).shared_state(ran.clone()).build().unwrap();
    rt.perform_all_later((0..JOBS).map(|_| PendingJob::new(Tick))).await.unwrap();

    let handle =
        Worker::builder().runtime(&rt).concurrency(10).lease(Duration::from_secs(600)).build().unwrap().start();
    // The worker runs jobs until its unwritten completions reach the limit, then stops claiming.
    let count = || ran.0.load(Ordering::SeqCst);
    eventually("jobs to run", || count() >= 1_000).await;
    let mut last = count();
    loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        if count() == last {
            break;
        }
        last = count();
    }
    assert!(last < 4_000, "{last} jobs ran while not one completion could be written");

    // Once the store keeps up again, every job runs and is completed.
    store.stalled.store(false, Ordering::SeqCst);
    store.resumed.notify_waiters();
    eventually("every job to run", || count() == JOBS).await;
    handle.shutdown().await.unwrap();
    assert_eq!(store.memory.pending(), 0, "every job was completed in the store");
}
