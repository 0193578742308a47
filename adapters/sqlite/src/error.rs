//! What can go wrong with the SQLite store.

/// Errors of the SQLite adapter; they reach callers as the source of
/// [`jobs_core::Error::Adapter`], where they can be downcast.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SqliteError {
    /// SQLite failed: the file cannot be opened, the disk is full, the database stayed locked
    /// longer than the busy timeout, ...
    #[error("{0}")]
    Database(#[from] sqlx::Error),
    /// The file was migrated by a newer jobs-sqlite than this one.
    #[error(
        "the jobs schema of {path} is at version {found}, newer than version {supported} that this \
         jobs-sqlite knows: upgrade jobs-sqlite, or use another database file"
    )]
    SchemaTooNew {
        /// The database file.
        path: String,
        /// The newest schema version recorded in the file.
        found: i64,
        /// The newest schema version this crate ships.
        supported: i64,
    },
    /// A migration recorded in the file is not the one this crate ships under that version.
    #[error(
        "migration {version} recorded in {path} differs from the one this jobs-sqlite ships \
         (checksum {found}, expected {expected}): the file was migrated by another build"
    )]
    MigrationChanged {
        /// The database file.
        path: String,
        /// The migration's version.
        version: i64,
        /// The checksum recorded in the file.
        found: String,
        /// The checksum of the migration this crate ships.
        expected: String,
    },
    /// A stored value cannot be read back (a job's error history, its state).
    #[error("malformed data in the jobs table: {0}")]
    Malformed(String),
}

impl From<SqliteError> for jobs_core::Error {
    fn from(error: SqliteError) -> Self {
        jobs_core::Error::adapter("SQLite", error)
    }
}
