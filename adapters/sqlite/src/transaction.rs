//! Transactional enqueue: jobs written by the application's own transaction, visible to workers
//! only once it commits, gone if it rolls back.

use jobs_core::adapter::{NewJob, TransactionalEnqueue};
use jobs_core::{BoxFuture, Enqueued, Error, PendingJob};
use sqlx::SqliteConnection;

use crate::adapter::SqliteAdapter;

impl TransactionalEnqueue for SqliteAdapter {
    type Connection = SqliteConnection;

    fn store_in<'a>(
        &'a self,
        conn: &'a mut SqliteConnection,
        jobs: &'a [NewJob],
    ) -> BoxFuture<'a, Result<Vec<Option<String>>, Error>> {
        Box::pin(async move {
            let ids = self.insert_in(conn, &self.rows_of(jobs)).await?;
            Ok(ids.into_iter().map(|id| Some(id.to_string())).collect())
        })
    }
}

impl SqliteAdapter {
    /// Enqueues `job` with the statements of `conn` — typically the application's open
    /// transaction on the same database file (see [`from_pool`](Self::from_pool)) — with the
    /// usual callbacks, checks and logs, on the current runtime (or the one set with
    /// `.runtime(..)`). Workers see the job once the transaction commits, at their next poll
    /// (SQLite cannot tell them of a commit); a rollback leaves no trace of it.
    ///
    /// Begin the transaction with `BEGIN IMMEDIATE` (`pool.begin_with("BEGIN IMMEDIATE")`): it
    /// takes the write lock at once, waiting up to the busy timeout for another writer, where a
    /// plain `BEGIN` that reads first fails with `database is locked` if another connection wrote
    /// meanwhile.
    ///
    /// ```no_run
    /// # use jobs_core::Job;
    /// # use jobs_sqlite::SqliteAdapter;
    /// # async fn demo(pool: sqlx::SqlitePool, sqlite: SqliteAdapter, job: impl Job) -> Result<(), Box<dyn std::error::Error>> {
    /// let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    /// sqlx::query("INSERT INTO users (email) VALUES ('ada@example.com')").execute(&mut *tx).await?;
    /// sqlite.enqueue_in(&mut tx, job).await?;     // the welcome email exists iff the user does
    /// tx.commit().await?;
    /// # Ok(()) }
    /// ```
    pub async fn enqueue_in(&self, conn: &mut SqliteConnection, job: impl Into<PendingJob>) -> Result<Enqueued, Error> {
        TransactionalEnqueue::enqueue_in(self, conn, job).await
    }

    /// Enqueues many jobs with the statements of `conn`, like [`enqueue_in`](Self::enqueue_in),
    /// on the current runtime.
    pub async fn enqueue_all_in(
        &self,
        conn: &mut SqliteConnection,
        jobs: impl IntoIterator<Item = PendingJob>,
    ) -> Result<Vec<Enqueued>, Error> {
        TransactionalEnqueue::enqueue_all_in(self, conn, jobs).await
    }
}
