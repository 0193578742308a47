//! An adapter wrapper that counts the backend calls a drain makes: per-job round trips are what
//! durable backends lose by, so every run reports how many jobs each claim and each completion
//! call carried.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use jobs::adapter::{Adapter, Backend, Capabilities, ClaimParams, ClaimedJob, Failure, NewJob, Ticket};
use jobs::{BoxFuture, Error};
use serde::{Deserialize, Serialize};

/// Forwards every call to the wrapped adapter, counting claims and completions.
#[derive(Debug)]
pub(crate) struct Counting {
    inner: Arc<dyn Adapter>,
    claims: AtomicU64,
    claimed: AtomicU64,
    completes: AtomicU64,
    completed: AtomicU64,
}

/// How many backend calls a drain made, and how many jobs they carried.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Calls {
    /// `Backend::claim` calls (including those that found nothing).
    pub(crate) claims: u64,
    /// Jobs those calls handed out.
    pub(crate) claimed: u64,
    /// `Backend::complete` calls.
    pub(crate) completes: u64,
    /// Tickets those calls carried.
    pub(crate) completed: u64,
}

impl Counting {
    /// Wraps `inner`.
    pub(crate) fn new(inner: Arc<dyn Adapter>) -> Self {
        Counting {
            inner,
            claims: AtomicU64::new(0),
            claimed: AtomicU64::new(0),
            completes: AtomicU64::new(0),
            completed: AtomicU64::new(0),
        }
    }

    /// The counts so far.
    pub(crate) fn calls(&self) -> Calls {
        Calls {
            claims: self.claims.load(Ordering::Relaxed),
            claimed: self.claimed.load(Ordering::Relaxed),
            completes: self.completes.load(Ordering::Relaxed),
            completed: self.completed.load(Ordering::Relaxed),
        }
    }

    fn backend_of_inner(&self) -> &dyn Backend {
        self.inner.backend().expect("Counting::backend only exposes itself when the inner adapter has a backend")
    }
}

impl Adapter for Counting {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }

    fn enqueue_all<'a>(&'a self, jobs: &'a [NewJob]) -> BoxFuture<'a, Result<Vec<Option<String>>, Error>> {
        self.inner.enqueue_all(jobs)
    }

    fn backend(&self) -> Option<&dyn Backend> {
        self.inner.backend().map(|_| self as &dyn Backend)
    }

    // Workers expire concurrency slots with their heartbeats on a store that keeps them, as they
    // do on the adapter itself; the bench measures that too.
    fn flow(&self) -> Option<&dyn jobs::adapter::FlowStore> {
        self.inner.flow()
    }
}

impl Backend for Counting {
    fn claim<'a>(&'a self, params: ClaimParams<'a>) -> BoxFuture<'a, Result<Vec<ClaimedJob>, Error>> {
        Box::pin(async move {
            self.claims.fetch_add(1, Ordering::Relaxed);
            let claimed = self.backend_of_inner().claim(params).await?;
            self.claimed.fetch_add(claimed.len() as u64, Ordering::Relaxed);
            Ok(claimed)
        })
    }

    fn complete<'a>(&'a self, tickets: &'a [Ticket]) -> BoxFuture<'a, Result<usize, Error>> {
        self.completes.fetch_add(1, Ordering::Relaxed);
        self.completed.fetch_add(tickets.len() as u64, Ordering::Relaxed);
        self.backend_of_inner().complete(tickets)
    }

    fn fail<'a>(&'a self, failures: &'a [Failure]) -> BoxFuture<'a, Result<usize, Error>> {
        self.backend_of_inner().fail(failures)
    }

    fn release<'a>(&'a self, tickets: &'a [Ticket]) -> BoxFuture<'a, Result<usize, Error>> {
        self.backend_of_inner().release(tickets)
    }

    fn heartbeat<'a>(&'a self, tickets: &'a [Ticket], lease: Duration) -> BoxFuture<'a, Result<usize, Error>> {
        self.backend_of_inner().heartbeat(tickets, lease)
    }

    fn rescue_expired(&self) -> BoxFuture<'_, Result<u64, Error>> {
        self.backend_of_inner().rescue_expired()
    }

    fn wait_for_jobs<'a>(&'a self, queues: &'a [String], timeout: Duration) -> BoxFuture<'a, ()> {
        self.backend_of_inner().wait_for_jobs(queues, timeout)
    }

    fn next_due<'a>(&'a self, queues: &'a [String]) -> BoxFuture<'a, Result<Option<Duration>, Error>> {
        self.backend_of_inner().next_due(queues)
    }

    fn worker_stopped<'a>(&'a self, worker_id: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        self.backend_of_inner().worker_stopped(worker_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jobs::adapters::MemoryAdapter;
    use jobs::{JobData, Runtime};

    #[tokio::test]
    async fn counts_claims_and_completions_and_forwards_everything() {
        let counting = Arc::new(Counting::new(Arc::new(MemoryAdapter::new())));
        let runtime = Runtime::builder().shared_adapter(counting.clone()).build().unwrap();
        let backend = counting.backend().expect("memory has a backend");
        let mut data = JobData::from_json(r#"{"job_class":"X","job_id":"1"}"#).unwrap();
        data.enqueued_at = Some(runtime.now());
        let job = NewJob::new(data).unwrap();
        counting.enqueue_all(&[job.clone(), job.clone(), job]).await.unwrap();
        let queues = ["default".to_owned()];
        let params = ClaimParams { queues: &queues, limit: 2, lease: Duration::from_secs(60), worker_id: "w" };
        let first = backend.claim(params).await.unwrap();
        let second = backend.claim(params).await.unwrap();
        let tickets: Vec<Ticket> = first.iter().chain(&second).map(|j| j.ticket.clone()).collect();
        assert_eq!(backend.complete(&tickets).await.unwrap(), 3);
        assert_eq!(counting.calls(), Calls { claims: 2, claimed: 3, completes: 1, completed: 3 });
        assert_eq!(counting.name(), "Memory");
    }
}
