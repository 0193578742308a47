//! What can go wrong with the PostgreSQL store, and which failures are a lost connection.

/// Errors of the PostgreSQL adapter; they reach callers as the source of
/// [`jobs_core::Error::Adapter`], where they can be downcast.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PostgresError {
    /// PostgreSQL failed, or could not be reached.
    #[error("{0}")]
    Database(#[from] sqlx::Error),
    /// The schema is older than this jobs-postgres and migrations are not applied at start-up.
    #[error(
        "the jobs schema {schema} is at version {found}, this jobs-postgres needs version {expected}: \
         run PostgresAdapter::migrate, apply jobs_postgres::migration_sql({schema:?}, {found}), or connect \
         with .migrate(true)"
    )]
    SchemaOutdated {
        /// The schema's name.
        schema: String,
        /// The newest version recorded in the schema (0: none).
        found: i64,
        /// The version this crate ships.
        expected: i64,
    },
    /// The schema was migrated by a newer jobs-postgres, or by a different build.
    #[error("the jobs schema {schema} does not fit this jobs-postgres: {mismatch}")]
    SchemaMismatch {
        /// The schema's name.
        schema: String,
        /// What does not fit.
        mismatch: jobs_core::adapter::migrations::Mismatch,
    },
    /// A stored value cannot be read back (a job's error history, its state).
    #[error("malformed data in the jobs table: {0}")]
    Malformed(String),
}

impl From<PostgresError> for jobs_core::Error {
    fn from(error: PostgresError) -> Self {
        jobs_core::Error::adapter("PostgreSQL", error)
    }
}

/// True when `error` means the connection was lost (killed, server restarting, network), so the
/// statement can be tried again on a new connection.
pub(crate) fn is_disconnect(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_) => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            // 57P01 admin_shutdown (pg_terminate_backend), 57P02 crash_shutdown,
            // 57P03 cannot_connect_now (starting up), class 08: connection exceptions.
            matches!(&*code, "57P01" | "57P02" | "57P03") || code.starts_with("08")
        }),
        _ => false,
    }
}

/// When a statement last met a lost connection: until they are used again, connections that were
/// idle since before then are pinged before use, since a restart or a kill takes all of them.
#[derive(Debug, Default)]
pub(crate) struct LastDisconnect(std::sync::Mutex<Option<std::time::Instant>>);

impl LastDisconnect {
    pub(crate) fn seen(&self) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(std::time::Instant::now());
    }

    /// Whether a connection idle for `idle` may have been cut off without anyone noticing.
    pub(crate) fn suspects(&self, idle: std::time::Duration) -> bool {
        idle > std::time::Duration::from_secs(10)
            || self.0.lock().unwrap_or_else(|e| e.into_inner()).is_some_and(|at| at.elapsed() <= idle)
    }
}
