//! The crate's own schema migrations: versioned, recorded in the file, checked at start-up.

use jobs_core::adapter::migrations::{Migration, Mismatch, pending};
use sqlx::SqlitePool;

use crate::error::SqliteError;
use crate::sql::{APPLIED_MIGRATIONS, BEGIN_WRITE, CREATE_MIGRATIONS, RECORD_MIGRATION};

/// Every migration, oldest first; a shipped migration is never edited, only followed by new ones.
const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        description: "jobs table and paused queues",
        sql: include_str!("../migrations/0001_jobs.sql"),
    },
    Migration {
        version: 2,
        description: "index of Active Job job ids",
        sql: include_str!("../migrations/0002_job_id_index.sql"),
    },
    Migration {
        version: 3,
        description: "job classes, run start times, listing indexes, worker processes and history",
        sql: include_str!("../migrations/0003_operations.sql"),
    },
    Migration {
        version: 4,
        description: "recurring tasks and their ticks",
        sql: include_str!("../migrations/0004_recurring.sql"),
    },
    Migration {
        version: 5,
        description: "flow control: the blocked state, concurrency slots, unique keys, throttle counts",
        sql: include_str!("../migrations/0005_flow.sql"),
    },
    Migration {
        version: 6,
        description: "concurrency slots held under the claim that took them",
        sql: include_str!("../migrations/0006_slot_claims.sql"),
    },
];

/// The schema version this crate creates and expects: its newest migration's.
pub const SCHEMA_VERSION: i64 = MIGRATIONS[MIGRATIONS.len() - 1].version;

/// Brings the file's schema up to [`SCHEMA_VERSION`] in one write transaction, so that several
/// processes starting at once migrate it once; fails if the file is newer than this crate or was
/// migrated by a different build.
pub(crate) async fn migrate(pool: &SqlitePool, path: &str) -> Result<(), SqliteError> {
    let mut tx = pool.begin_with(BEGIN_WRITE).await?;
    sqlx::query(CREATE_MIGRATIONS).execute(&mut *tx).await?;
    let applied: Vec<(i64, String)> = sqlx::query_as(APPLIED_MIGRATIONS).fetch_all(&mut *tx).await?;
    let todo = pending(MIGRATIONS, &applied).map_err(|mismatch| match mismatch {
        Mismatch::Changed { version, found, expected } => {
            SqliteError::MigrationChanged { path: path.to_owned(), version, found, expected }
        }
        Mismatch::TooNew { found, supported } => SqliteError::SchemaTooNew { path: path.to_owned(), found, supported },
        other => SqliteError::Malformed(other.to_string()),
    })?;
    for migration in todo {
        tracing::info!(target: "jobs", "Migrating {path} to jobs schema version {}: {}", migration.version, migration.description);
        sqlx::raw_sql(migration.sql).execute(&mut *tx).await?;
        sqlx::query(RECORD_MIGRATION)
            .bind(migration.version)
            .bind(migration.description)
            .bind(migration.checksum())
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}
