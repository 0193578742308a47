//! What can go wrong with the PostgreSQL store, and which failures are a lost connection.

/// Errors of the PostgreSQL adapter; they reach callers as the source of
/// [`jobs_core::Error::Adapter`], where [`AdapterError::downcast_ref`](jobs_core::AdapterError::downcast_ref)
/// reaches them.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PostgresError {
    /// PostgreSQL failed a statement, or the connection was lost. The message is the server's
    /// (or the driver's), without sqlx's wrapping; the `sqlx::Error` is kept here rather than
    /// as the error's `source()`, so that a printed chain does not repeat it.
    #[error("{}", describe(.0))]
    Database(sqlx::Error),
    /// The server could not be reached when connecting: refused, unknown host, no answer in
    /// time, authentication failed, database missing.
    #[error("cannot connect to PostgreSQL at {at}: {cause}")]
    Connect {
        /// Where: `host:port` (or the Unix socket) and database, never the password.
        at: String,
        /// Why, in a few words (`connection refused`, the server's message, ...).
        cause: String,
    },
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

impl From<sqlx::Error> for PostgresError {
    fn from(error: sqlx::Error) -> Self {
        PostgresError::Database(error)
    }
}

/// The message of a sqlx error, stripped of sqlx's prefixes ("error returned from database: ",
/// "error communicating with database: ") and of the server's source location ("at line 948").
pub(crate) fn describe(error: &sqlx::Error) -> String {
    let message = match error {
        sqlx::Error::Database(db) => db.message().to_owned(),
        sqlx::Error::Io(io) => io_cause(io),
        sqlx::Error::Tls(tls) => format!("TLS: {tls}"),
        sqlx::Error::PoolTimedOut => "no free connection within the acquire timeout".to_owned(),
        other => other.to_string(),
    };
    strip_location(&message).to_owned()
}

/// A socket error in lowercase words, without the OS error number.
fn io_cause(io: &std::io::Error) -> String {
    use std::io::ErrorKind;
    match io.kind() {
        ErrorKind::ConnectionRefused => "connection refused".to_owned(),
        ErrorKind::ConnectionReset => "connection reset by the server".to_owned(),
        ErrorKind::ConnectionAborted => "connection aborted".to_owned(),
        ErrorKind::TimedOut => "timed out".to_owned(),
        ErrorKind::UnexpectedEof => "the server closed the connection".to_owned(),
        _ => io.to_string(),
    }
}

/// `message` without a trailing ` at line N` (where in its own sources PostgreSQL raised it).
fn strip_location(message: &str) -> &str {
    match message.rsplit_once(" at line ") {
        Some((head, line)) if !line.is_empty() && line.bytes().all(|b| b.is_ascii_digit()) => head,
        _ => message,
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_the_servers_source_line() {
        assert_eq!(strip_location("database \"x\" does not exist at line 948"), "database \"x\" does not exist");
        assert_eq!(strip_location("syntax error at line 3 of the query"), "syntax error at line 3 of the query");
        let refused = sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        assert_eq!(describe(&refused), "connection refused");
    }
}
