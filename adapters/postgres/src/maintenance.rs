//! Periodic maintenance (pruning finished jobs, old history and released unique keys), run by one worker of all that
//! share the schema: the one that wins an advisory lock once the interval has passed since the
//! last run (recorded in the schema).

use std::time::Instant;

use jobs_core::adapter::duration_to_micros;

use crate::adapter::PostgresAdapter;
use crate::error::PostgresError;
use crate::sql::Sql;

impl PostgresAdapter {
    /// Prunes finished jobs if this worker is elected and the interval has passed; returns
    /// whether it ran. Every worker calls it as it rescues expired leases.
    pub(crate) async fn maintain(&self) -> Result<bool, PostgresError> {
        let inner = self.inner();
        let interval = inner.settings.maintenance_interval;
        {
            let mut tried = inner.maintained_at.lock().unwrap_or_else(|e| e.into_inner());
            if tried.is_some_and(|at| at.elapsed() < interval) {
                return Ok(false);
            }
            *tried = Some(Instant::now());
        }
        let schema = &inner.schema.quoted;
        let mut tx = self.pool().begin().await?;
        let elected: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
            .bind(inner.schema.lock_key("maintenance"))
            .fetch_one(&mut *tx)
            .await?;
        if !elected {
            return Ok(false);
        }
        let due: bool = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT NOT EXISTS (SELECT 1 FROM {schema}.maintenance
                                WHERE task = 'prune' AND last_run_at > now() - $1 * interval '1 microsecond')"
        )))
        .bind(duration_to_micros(interval))
        .fetch_one(&mut *tx)
        .await?;
        if !due {
            return Ok(false);
        }
        let mut pruned = self.prune(&mut tx, &inner.sql.prune_completed, Some(inner.settings.retain_completed)).await?;
        pruned += self.prune(&mut tx, &inner.sql.prune_dead, inner.settings.retain_dead).await?;
        let history = self.prune_history(&mut tx).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO {schema}.maintenance (task, last_run_at) VALUES ('prune', now())
             ON CONFLICT (task) DO UPDATE SET last_run_at = excluded.last_run_at"
        )))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        let keys = self.prune_unique_keys().await?;
        if keys > 0 {
            tracing::debug!(target: "jobs", "Pruned {keys} released unique keys from PostgreSQL schema {}", inner.schema.name);
        }
        if pruned > 0 {
            tracing::info!(target: "jobs", "Pruned {pruned} finished jobs from PostgreSQL schema {}", inner.schema.name);
        }
        if history > 0 {
            tracing::debug!(target: "jobs", "Pruned {history} minutes of history from PostgreSQL schema {}", inner.schema.name);
        }
        Ok(true)
    }

    /// Runs one of the pruning statements (`prune_completed`, `prune_dead`) with `retention`, if
    /// jobs of its kind are pruned at all; returns how many it deleted.
    async fn prune(
        &self,
        conn: &mut sqlx::PgConnection,
        statement: &Sql,
        retention: Option<std::time::Duration>,
    ) -> Result<u64, PostgresError> {
        let Some(retention) = retention else { return Ok(0) };
        let deleted: i64 =
            sqlx::query_scalar(statement.get()).bind(duration_to_micros(retention)).fetch_one(conn).await?;
        Ok(u64::try_from(deleted).unwrap_or(0))
    }

    /// Deletes completed jobs that finished more than `older_than` ago, now, whoever is elected;
    /// returns how many (at most 10 000 per call).
    pub async fn prune_completed(&self, older_than: std::time::Duration) -> Result<u64, jobs_core::Error> {
        let mut conn = self.pool().acquire().await.map_err(PostgresError::from)?;
        Ok(self.prune(&mut conn, &self.inner().sql.prune_completed, Some(older_than)).await?)
    }
}
