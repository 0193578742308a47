//! Transactional enqueue: jobs written by the application's own transaction, visible to workers
//! only once it commits, gone if it rolls back.

use jobs_core::adapter::{NewJob, TransactionalEnqueue};
use jobs_core::{BoxFuture, Enqueued, Error, PendingJob};
use sqlx::PgConnection;

use crate::adapter::{PostgresAdapter, Rows, ids};
use crate::error::PostgresError;

impl TransactionalEnqueue for PostgresAdapter {
    type Connection = PgConnection;

    fn store_in<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        jobs: &'a [NewJob],
    ) -> BoxFuture<'a, Result<Vec<Option<String>>, Error>> {
        Box::pin(async move {
            let rows = Rows::of(jobs);
            // Inside the application's transaction every queue is notified: the NOTIFY is sent
            // when it commits, which only the application knows.
            let wake = rows.distinct_queues();
            let stored = self.insert(&mut *conn, &rows, &wake).await.map_err(PostgresError::from)?;
            Ok(ids(stored))
        })
    }
}

impl PostgresAdapter {
    /// Enqueues `job` with the statements of `conn` — typically the application's open
    /// transaction — with the usual callbacks, checks and logs, on the current runtime (or the one
    /// set with `.runtime(..)`). Workers see the job only once the transaction commits (their
    /// wake-up is sent on commit too); a rollback leaves no trace of it.
    ///
    /// `job` is a job value (default queue and priority) or a [`PendingJob`], e.g. from
    /// `MyJob::set().queue("low").wait(delay).build(MyJob { .. })`.
    ///
    /// ```no_run
    /// # use jobs_core::{Job, PendingJob};
    /// # use jobs_postgres::PostgresAdapter;
    /// # async fn demo(postgres: PostgresAdapter, job: impl Job) -> Result<(), Box<dyn std::error::Error>> {
    /// let mut tx = postgres.pool().begin().await?;
    /// sqlx::query("INSERT INTO users (email) VALUES ('ada@example.com')").execute(&mut *tx).await?;
    /// postgres.enqueue_in(&mut tx, job).await?;     // the welcome email exists iff the user does
    /// tx.commit().await?;
    /// # Ok(()) }
    /// ```
    pub async fn enqueue_in(&self, conn: &mut PgConnection, job: impl Into<PendingJob>) -> Result<Enqueued, Error> {
        TransactionalEnqueue::enqueue_in(self, conn, job).await
    }

    /// Enqueues many jobs with one statement of `conn`, like [`enqueue_in`](Self::enqueue_in),
    /// on the current runtime.
    pub async fn enqueue_all_in(
        &self,
        conn: &mut PgConnection,
        jobs: impl IntoIterator<Item = PendingJob>,
    ) -> Result<Vec<Enqueued>, Error> {
        TransactionalEnqueue::enqueue_all_in(self, conn, jobs).await
    }
}
