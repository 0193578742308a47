//! What can go wrong with the SQLite store.

/// Errors of the SQLite adapter; they reach callers as the source of
/// [`jobs_core::Error::Adapter`], where [`AdapterError::downcast_ref`](jobs_core::AdapterError::downcast_ref)
/// reaches them.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SqliteError {
    /// SQLite failed: the file cannot be opened, the disk is full, the database stayed locked
    /// longer than the busy timeout, ...
    ///
    /// The `sqlx::Error` is kept here rather than as the error's `source()`, so that a printed
    /// chain does not repeat it.
    #[error("{}", describe(.0))]
    Database(sqlx::Error),
    /// The database file cannot be opened or created.
    #[error("cannot open the SQLite database {path}: {cause}")]
    Open {
        /// The database file, as given.
        path: String,
        /// Why: the directory does not exist, the path is a directory, SQLite's message.
        cause: String,
    },
    /// The application's pool given to [`SqliteAdapter::from_pool`](crate::SqliteAdapter::from_pool)
    /// is not set up as the jobs need (WAL journal, a busy timeout, a database file).
    #[error("this SQLite pool cannot hold jobs: {0}")]
    UnsuitablePool(String),
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

impl From<sqlx::Error> for SqliteError {
    fn from(error: sqlx::Error) -> Self {
        SqliteError::Database(error)
    }
}

/// The message of a sqlx error, without sqlx's prefixes ("error returned from database: ").
pub(crate) fn describe(error: &sqlx::Error) -> String {
    match error {
        sqlx::Error::Database(db) => db.message().to_owned(),
        sqlx::Error::Io(io) => io.to_string(),
        other => other.to_string(),
    }
}

impl From<SqliteError> for jobs_core::Error {
    fn from(error: SqliteError) -> Self {
        jobs_core::Error::adapter("SQLite", error)
    }
}
