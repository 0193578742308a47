//! Enqueueing: `perform_later`, `set()` options, bulk `perform_all_later`, and enqueues into a
//! sink such as a database transaction.
//!
//! Above the [`runtime`](crate::runtime) handle, the [`encoding`](crate::encoding) and the
//! [`contract`](crate::contract). Every enqueue goes through one pipeline: encode each job
//! once, run the enqueue callbacks, hand the encoded jobs to the store in one call.

mod callbacks;
mod options;
mod pending;
mod pipeline;
mod sink;
mod transaction;
pub(crate) mod unique;

pub(crate) use options::EnqueueOptions;
pub(crate) use options::for_each_arity;
pub use options::{ConfiguredJob, MAX_ARGUMENTS};
pub(crate) use pending::job_data_of;
pub use pending::{Enqueued, PendingJob};
pub use sink::EnqueueSink;
pub use transaction::TransactionalEnqueue;

use crate::contract::{Error, Job};
use crate::runtime::Runtime;

/// Enqueues many jobs, of one or several classes, in one adapter call, on the current runtime.
///
/// ```no_run
/// # use jobs_core::{PendingJob, perform_all_later, Job};
/// # async fn demo<A: Job, B: Job>(a: A, b: B) -> Result<(), jobs_core::Error> {
/// let handles = perform_all_later([PendingJob::new(a), PendingJob::new(b)]).await?;
/// # Ok(()) }
/// ```
pub async fn perform_all_later(jobs: impl IntoIterator<Item = PendingJob>) -> Result<Vec<Enqueued>, Error> {
    pipeline::enqueue_all(&Runtime::current()?, jobs.into_iter().collect()).await
}

impl PendingJob {
    /// Enqueues this one job on the current runtime (or the one set in its options).
    pub async fn enqueue(self) -> Result<Enqueued, Error> {
        let runtime = self.options.runtime()?;
        one(pipeline::enqueue_all(&runtime, vec![self]).await?)
    }

    /// Enqueues this one job into `sink` instead of the runtime's adapter — a database
    /// transaction, for one — with the same callbacks, checks, logs and events; on the current
    /// runtime (or the one set in its options).
    pub async fn enqueue_into(self, sink: &mut dyn EnqueueSink) -> Result<Enqueued, Error> {
        let runtime = self.options.runtime()?;
        one(pipeline::enqueue_all_into(&runtime, vec![self], sink).await?)
    }
}

impl Runtime {
    /// Enqueues `job` on this runtime's adapter with its default queue and priority.
    pub async fn perform_later<J: Job>(&self, job: J) -> Result<Enqueued, Error> {
        one(pipeline::enqueue_all(self, vec![PendingJob::new(job)]).await?)
    }

    /// Enqueues many jobs, of one or several classes, in one adapter call.
    pub async fn perform_all_later(&self, jobs: impl IntoIterator<Item = PendingJob>) -> Result<Vec<Enqueued>, Error> {
        pipeline::enqueue_all(self, jobs.into_iter().collect()).await
    }

    /// Enqueues many jobs into `sink` (a database transaction, for one) instead of this
    /// runtime's adapter, with the same checks, logs and events as [`Runtime::perform_all_later`].
    pub async fn perform_all_into(
        &self,
        jobs: impl IntoIterator<Item = PendingJob>,
        sink: &mut dyn EnqueueSink,
    ) -> Result<Vec<Enqueued>, Error> {
        pipeline::enqueue_all_into(self, jobs.into_iter().collect(), sink).await
    }
}

fn one(mut handles: Vec<Enqueued>) -> Result<Enqueued, Error> {
    Ok(handles.pop().expect("one job in, one handle out"))
}
