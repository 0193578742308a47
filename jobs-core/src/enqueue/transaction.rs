//! Transactional enqueue, shared by the SQL adapters: jobs written through a connection the
//! application holds (its open transaction), visible to workers only once it commits.

use crate::contract::{Adapter, BoxFuture, Capabilities, Error, NewJob};
use crate::enqueue::{EnqueueSink, Enqueued, PendingJob};
use crate::runtime::Runtime;

/// An adapter that can store jobs through a connection of the application's, usually inside its
/// transaction. Implementing [`store_in`](Self::store_in) gives
/// [`enqueue_in`](Self::enqueue_in) and [`enqueue_all_in`](Self::enqueue_all_in), with the usual
/// callbacks, checks, logs and events; the PostgreSQL and SQLite adapters implement it.
pub trait TransactionalEnqueue: Adapter + Sized {
    /// The connection the jobs are written through (`sqlx::PgConnection`, `sqlx::SqliteConnection`;
    /// a `&mut Transaction` derefs to it).
    type Connection: Send + ?Sized;

    /// Stores the jobs, encoded once by the runtime, with statements of `conn`; returns their
    /// provider ids in order. Either all are stored or it fails; nothing is committed here.
    fn store_in<'a>(
        &'a self,
        conn: &'a mut Self::Connection,
        jobs: &'a [NewJob],
    ) -> BoxFuture<'a, Result<Vec<Option<String>>, Error>>;

    /// Enqueues `job` with the statements of `conn` on the current runtime (or the one set with
    /// `.runtime(..)` on a [`PendingJob`]): a rollback leaves no trace of it.
    fn enqueue_in(
        &self,
        conn: &mut Self::Connection,
        job: impl Into<PendingJob>,
    ) -> impl Future<Output = Result<Enqueued, Error>> + Send {
        let job = job.into();
        async move { job.enqueue_into(&mut InConnection { adapter: self, conn }).await }
    }

    /// Enqueues many jobs with the statements of `conn`, in one call of
    /// [`store_in`](Self::store_in), on the current runtime.
    fn enqueue_all_in(
        &self,
        conn: &mut Self::Connection,
        jobs: impl IntoIterator<Item = PendingJob>,
    ) -> impl Future<Output = Result<Vec<Enqueued>, Error>> + Send {
        let jobs: Vec<PendingJob> = jobs.into_iter().collect();
        async move { Runtime::current()?.perform_all_into(jobs, &mut InConnection { adapter: self, conn }).await }
    }
}

/// The [`EnqueueSink`] of a [`TransactionalEnqueue`] adapter and a connection.
struct InConnection<'c, A: TransactionalEnqueue> {
    adapter: &'c A,
    conn: &'c mut A::Connection,
}

impl<A: TransactionalEnqueue> EnqueueSink for InConnection<'_, A> {
    fn name(&self) -> &str {
        self.adapter.name()
    }

    fn capabilities(&self) -> Capabilities {
        self.adapter.capabilities()
    }

    fn store<'a>(&'a mut self, jobs: &'a [NewJob]) -> BoxFuture<'a, Result<Vec<Option<String>>, Error>> {
        self.adapter.store_in(self.conn, jobs)
    }
}
