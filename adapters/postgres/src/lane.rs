//! Lanes: connections kept out of the pool for the worker's hot statements (claims, reports).
//!
//! Every statement through the pool costs a check-out and, on return, a ping. A lane holds one
//! connection across statements instead — detached from the pool, so that closing the pool never
//! waits for it; when a lane is busy (several workers in one process), the statement goes through
//! the pool. A lane whose connection was lost connects afresh next time.
//!
//! A lane's connection plans its prepared statements once (`plan_cache_mode =
//! force_generic_plan`): the claim's estimated cost depends on its queue array, so PostgreSQL
//! would otherwise plan it afresh at every claim (0.3 ms, a third of a claim at C = 10), where
//! the generic plan is the same index walk. The setting stays on the lane's connection, which
//! never goes back to the pool.

use sqlx::pool::PoolConnection;
use sqlx::{PgConnection, PgPool, Postgres};
use tokio::sync::{Mutex, MutexGuard};

/// One connection reserved for a kind of statement.
#[derive(Debug, Default)]
pub(crate) struct Lane(Mutex<Option<PgConnection>>);

/// A connection to run one statement on: the lane's, or one from the pool.
pub(crate) enum Held<'l> {
    Lane(MutexGuard<'l, Option<PgConnection>>),
    Pool(PoolConnection<Postgres>),
}

impl Lane {
    /// The lane's connection if the lane is free (connecting it if needed), else one from the pool.
    pub(crate) async fn get(&self, pool: &PgPool) -> Result<Held<'_>, sqlx::Error> {
        match self.0.try_lock() {
            Ok(mut guard) => {
                if guard.is_none() {
                    let mut conn = pool.acquire().await?.detach();
                    sqlx::raw_sql("SET plan_cache_mode = force_generic_plan").execute(&mut conn).await?;
                    *guard = Some(conn);
                }
                Ok(Held::Lane(guard))
            }
            Err(_) => Ok(Held::Pool(pool.acquire().await?)),
        }
    }

    /// Closes the lane's connection.
    pub(crate) async fn clear(&self) {
        if let Some(conn) = self.0.lock().await.take() {
            let _ = sqlx::Connection::close(conn).await;
        }
    }
}

impl Held<'_> {
    /// The connection.
    pub(crate) fn conn(&mut self) -> &mut PgConnection {
        match self {
            Held::Lane(guard) => guard.as_mut().expect("a lane holds a connection while checked out"),
            Held::Pool(conn) => conn,
        }
    }

    /// Gives up a connection that was lost: the lane connects afresh next time.
    pub(crate) fn discard(self) {
        match self {
            Held::Lane(mut guard) => drop(guard.take()),
            Held::Pool(mut conn) => conn.close_on_drop(),
        }
    }
}
