//! `EnqueueSink`: somewhere other than the runtime's adapter to store an enqueue's jobs.

use crate::contract::{BoxFuture, Capabilities, Error, NewJob};

/// Where an enqueue stores its jobs instead of the runtime's adapter: a database transaction,
/// for one, so that jobs become visible only if it commits. See
/// [`PendingJob::enqueue_into`](crate::PendingJob::enqueue_into) and
/// [`Runtime::perform_all_into`](crate::Runtime::perform_all_into); adapters that offer it
/// (PostgreSQL's transactional enqueue) implement it, applications rarely do.
pub trait EnqueueSink: Send {
    /// The name in logs, like [`Adapter::name`](crate::contract::Adapter::name).
    fn name(&self) -> &str;

    /// What the sink can store; scheduled jobs need `scheduling`.
    fn capabilities(&self) -> Capabilities;

    /// Stores the jobs, encoded once by the runtime; returns their provider ids in order. Either
    /// all are stored or it fails.
    fn store<'a>(&'a mut self, jobs: &'a [NewJob]) -> BoxFuture<'a, Result<Vec<Option<String>>, Error>>;
}
