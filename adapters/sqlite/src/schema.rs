//! The crate's own schema migrations: versioned, recorded in the file, checked at start-up.

use sqlx::SqlitePool;

use crate::error::SqliteError;

/// One schema change, applied once per database file.
struct Migration {
    version: i64,
    description: &'static str,
    sql: &'static str,
}

/// Every migration, oldest first; a shipped migration is never edited, only followed by new ones.
const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    description: "jobs table and paused queues",
    sql: include_str!("../migrations/0001_jobs.sql"),
}];

/// The schema version this crate creates and expects.
pub const SCHEMA_VERSION: i64 = 1;

impl Migration {
    /// FNV-1a of the SQL, to notice a recorded migration that is not the shipped one.
    fn checksum(&self) -> String {
        let hash =
            self.sql.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
        format!("{hash:016x}")
    }
}

/// Brings the file's schema up to [`SCHEMA_VERSION`] in one write transaction, so that several
/// processes starting at once migrate it once; fails if the file is newer than this crate or was
/// migrated by a different build.
pub(crate) async fn migrate(pool: &SqlitePool, path: &str) -> Result<(), SqliteError> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS jobs_schema_migrations (
            version     INTEGER PRIMARY KEY,
            description TEXT    NOT NULL,
            checksum    TEXT    NOT NULL,
            applied_at  INTEGER NOT NULL
        ) STRICT",
    )
    .execute(&mut *tx)
    .await?;
    let applied: Vec<(i64, String)> =
        sqlx::query_as("SELECT version, checksum FROM jobs_schema_migrations ORDER BY version")
            .fetch_all(&mut *tx)
            .await?;
    if let Some(&(found, _)) = applied.last()
        && found > SCHEMA_VERSION
    {
        return Err(SqliteError::SchemaTooNew { path: path.to_owned(), found, supported: SCHEMA_VERSION });
    }
    for (version, found) in &applied {
        let expected = MIGRATIONS.iter().find(|m| m.version == *version).map(Migration::checksum);
        if expected.as_ref() != Some(found) {
            return Err(SqliteError::MigrationChanged {
                path: path.to_owned(),
                version: *version,
                found: found.clone(),
                expected: expected.unwrap_or_else(|| "none".to_owned()),
            });
        }
    }
    for migration in MIGRATIONS.iter().filter(|m| !applied.iter().any(|(v, _)| *v == m.version)) {
        tracing::info!(target: "jobs", "Migrating {path} to jobs schema version {}: {}", migration.version, migration.description);
        sqlx::raw_sql(migration.sql).execute(&mut *tx).await?;
        sqlx::query(
            "INSERT INTO jobs_schema_migrations (version, description, checksum, applied_at) \
             VALUES (?1, ?2, ?3, CAST(unixepoch('subsec') * 1000000 AS INTEGER))",
        )
        .bind(migration.version)
        .bind(migration.description)
        .bind(migration.checksum())
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
