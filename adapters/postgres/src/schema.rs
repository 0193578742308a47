//! The crate's own schema: versioned migrations recorded in `<schema>.schema_migrations`,
//! applied under an advisory lock, checked at start-up, and printable as SQL.

use jobs_core::adapter::migrations::{Migration, pending};
use sqlx::{AssertSqlSafe, PgPool};

use crate::error::PostgresError;

/// Every migration, oldest first; `{schema}` in their SQL stands for the quoted schema name, so
/// checksums do not depend on the schema. A shipped migration is never edited, only followed.
const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        description: "jobs table, paused queues, maintenance",
        sql: include_str!("../migrations/0001_jobs.sql"),
    },
    Migration {
        version: 2,
        description: "index of Active Job job ids",
        sql: include_str!("../migrations/0002_job_id_index.sql"),
    },
    Migration {
        version: 3,
        description: "operations: job classes, run starts, listing indexes, processes, history",
        sql: include_str!("../migrations/0003_operations.sql"),
    },
    Migration {
        version: 4,
        description: "recurring tasks and their ticks",
        sql: include_str!("../migrations/0004_recurring.sql"),
    },
    Migration {
        version: 5,
        description: "flow control: blocked jobs, concurrency slots, unique keys, throttle counts",
        sql: include_str!("../migrations/0005_flow.sql"),
    },
    Migration {
        version: 6,
        description: "concurrency slots held under the claim that took them",
        sql: include_str!("../migrations/0006_slot_claims.sql"),
    },
    Migration {
        version: 7,
        description: "completed jobs in a table of their own",
        sql: include_str!("../migrations/0007_completed_jobs.sql"),
    },
    Migration {
        version: 8,
        description: "an index of the jobs due later than their enqueue (scheduled, retrying)",
        sql: include_str!("../migrations/0008_later_jobs.sql"),
    },
    Migration {
        version: 9,
        description: "concurrency slots look the run up by primary key, whatever the statistics",
        sql: include_str!("../migrations/0009_running_by_id.sql"),
    },
];

/// The schema version this crate creates and expects: its newest migration's.
pub const SCHEMA_VERSION: i64 = MIGRATIONS[MIGRATIONS.len() - 1].version;

/// A validated schema name and its quoted form.
#[derive(Clone, Debug)]
pub(crate) struct Schema {
    pub(crate) name: String,
    pub(crate) quoted: String,
}

impl Schema {
    pub(crate) fn new(name: &str) -> Result<Schema, jobs_core::Error> {
        let valid = !name.is_empty()
            && name.len() <= 50
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(jobs_core::Error::Config(format!(
                "invalid jobs schema name `{name}`: use 1 to 50 letters, digits and `_`, not starting with a digit"
            )));
        }
        Ok(Schema { name: name.to_owned(), quoted: format!("\"{name}\"") })
    }

    /// The advisory lock key of `purpose` in this schema: the same in every process.
    pub(crate) fn lock_key(&self, purpose: &str) -> i64 {
        let text = format!("jobs-postgres:{purpose}:{}", self.name);
        let hash =
            text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
        i64::from_ne_bytes(hash.to_ne_bytes())
    }

    fn bookkeeping(&self) -> String {
        let s = &self.quoted;
        [
            format!("CREATE SCHEMA IF NOT EXISTS {s};"),
            format!("CREATE TABLE IF NOT EXISTS {s}.schema_migrations ("),
            "    version     bigint      PRIMARY KEY,".to_owned(),
            "    description text        NOT NULL,".to_owned(),
            "    checksum    text        NOT NULL,".to_owned(),
            "    applied_at  timestamptz NOT NULL DEFAULT now()".to_owned(),
            ");".to_owned(),
        ]
        .join("\n")
    }

    fn render(&self, migration: &Migration) -> String {
        migration.sql.replace("{schema}", &self.quoted)
    }

    fn record(&self, migration: &Migration) -> String {
        format!(
            "INSERT INTO {}.schema_migrations (version, description, checksum) VALUES ({}, '{}', '{}');",
            self.quoted,
            migration.version,
            migration.description.replace('\'', "''"),
            migration.checksum()
        )
    }
}

/// The SQL that brings schema `schema` from version `from_version` (0: nothing there yet) to
/// [`SCHEMA_VERSION`], in one transaction, recording each migration as
/// [`PostgresAdapter::migrate`](crate::PostgresAdapter::migrate) does: for teams that apply
/// migrations with their own tool and connect with `.migrate(false)`.
///
/// ```
/// let sql = jobs_postgres::migration_sql("jobs", 0).unwrap();
/// assert!(sql.contains("CREATE TABLE \"jobs\".jobs"));
/// assert!(sql.contains("INSERT INTO \"jobs\".schema_migrations"));
/// assert!(!jobs_postgres::migration_sql("jobs", jobs_postgres::SCHEMA_VERSION).unwrap().contains("CREATE TABLE \"jobs\".jobs"));
/// ```
pub fn migration_sql(schema: &str, from_version: i64) -> Result<String, jobs_core::Error> {
    let schema = Schema::new(schema)?;
    let mut sql = format!(
        "-- jobs-postgres: schema \"{}\" from version {from_version} to {SCHEMA_VERSION}\nBEGIN;\n{}\n",
        schema.name,
        schema.bookkeeping()
    );
    for migration in MIGRATIONS.iter().filter(|m| m.version > from_version) {
        sql.push_str(&format!("\n-- migration {}: {}\n", migration.version, migration.description));
        sql.push_str(&schema.render(migration));
        sql.push_str(&schema.record(migration));
        sql.push('\n');
    }
    sql.push_str("COMMIT;\n");
    Ok(sql)
}

/// What the schema recorded: `(version, checksum)` pairs, none if it does not exist yet.
async fn applied(conn: &mut sqlx::PgConnection, schema: &Schema) -> Result<Vec<(i64, String)>, PostgresError> {
    let exists: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = $1 AND tablename = 'schema_migrations')",
    )
    .bind(&schema.name)
    .fetch_one(&mut *conn)
    .await?;
    if !exists {
        return Ok(Vec::new());
    }
    let sql = format!("SELECT version, checksum FROM {}.schema_migrations ORDER BY version", schema.quoted);
    Ok(sqlx::query_as(AssertSqlSafe(sql)).fetch_all(&mut *conn).await?)
}

fn mismatch(schema: &Schema, mismatch: jobs_core::adapter::migrations::Mismatch) -> PostgresError {
    PostgresError::SchemaMismatch { schema: schema.name.clone(), mismatch }
}

/// Brings the schema up to [`SCHEMA_VERSION`] in one transaction under an advisory lock, so that
/// processes starting at once migrate it once; returns the versions applied.
pub(crate) async fn migrate(pool: &PgPool, schema: &Schema) -> Result<Vec<i64>, PostgresError> {
    let mut tx = pool.begin().await?;
    match apply(&mut tx, schema).await {
        Ok(versions) => {
            tx.commit().await?;
            Ok(versions)
        }
        Err(error) => {
            // Roll back now, rather than when the dropped transaction's connection is next used.
            let _ = tx.rollback().await;
            Err(error)
        }
    }
}

async fn apply(tx: &mut sqlx::PgConnection, schema: &Schema) -> Result<Vec<i64>, PostgresError> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(schema.lock_key("migrate")).execute(&mut *tx).await?;
    let found = applied(&mut *tx, schema).await?;
    let todo = pending(MIGRATIONS, &found).map_err(|m| mismatch(schema, m))?;
    if todo.is_empty() {
        return Ok(Vec::new());
    }
    sqlx::raw_sql(AssertSqlSafe(schema.bookkeeping())).execute(&mut *tx).await?;
    let mut versions = Vec::new();
    for migration in todo {
        tracing::info!(target: "jobs", "Migrating PostgreSQL schema {} to jobs schema version {}: {}",
            schema.name, migration.version, migration.description);
        let sql = format!("{}\n{}", schema.render(migration), schema.record(migration));
        sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut *tx).await?;
        versions.push(migration.version);
    }
    Ok(versions)
}

/// Checks that the schema is at [`SCHEMA_VERSION`], migrated by this build.
pub(crate) async fn check(pool: &PgPool, schema: &Schema) -> Result<(), PostgresError> {
    let mut conn = pool.acquire().await?;
    let found = applied(&mut conn, schema).await?;
    let todo = pending(MIGRATIONS, &found).map_err(|m| mismatch(schema, m))?;
    if !todo.is_empty() {
        let found = found.iter().map(|(v, _)| *v).max().unwrap_or(0);
        return Err(PostgresError::SchemaOutdated { schema: schema.name.clone(), found, expected: SCHEMA_VERSION });
    }
    Ok(())
}
