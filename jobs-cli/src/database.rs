//! Opening the backend a URL names, and the few things that differ per backend (migrations and
//! checks). Everything else goes through the operations API of the opened adapter.

#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "redis")]
mod redis;
#[cfg(feature = "sqlite")]
mod sqlite;

use std::path::PathBuf;
use std::sync::Arc;

use jobs_core::adapter::{Adapter, redact};
use jobs_core::{Error, Inspect};
use serde::Serialize;

use crate::config::Connection;
use crate::exit::Failure;

/// Which backend a URL names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Location {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL server: `postgres://` or `postgresql://`.
    Postgres(String),
    /// A Redis server: `redis://`, `rediss://` or `redis+unix://`.
    Redis(String),
}

impl Location {
    /// Reads `url`: a URL of a server, `sqlite:PATH` or `sqlite://PATH`, or a bare path (SQLite).
    pub(crate) fn parse(url: &str) -> Result<Location, Failure> {
        let url = url.trim();
        let scheme = url.split_once("://").map(|(scheme, _)| scheme.to_ascii_lowercase());
        match scheme.as_deref() {
            Some("postgres" | "postgresql") => return Ok(Location::Postgres(url.to_owned())),
            Some("redis" | "rediss" | "redis+unix") => return Ok(Location::Redis(url.to_owned())),
            _ => {}
        }
        let path = match url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
            Some(rest) => rest.split(['?', '#']).next().unwrap_or_default(),
            None if scheme.is_some() => {
                return Err(Failure::Usage(format!(
                    "unknown database URL {}: use a SQLite file (a path, or sqlite:PATH), postgres://… or redis://…",
                    redact(url)
                )));
            }
            None => url,
        };
        if path.is_empty() || path == ":memory:" {
            return Err(Failure::Usage(format!(
                "`{url}` names no file: the jobs are in a SQLite file, give its path (an in-memory database \
                 would be empty and gone when this command ends)"
            )));
        }
        Ok(Location::Sqlite(PathBuf::from(path)))
    }
}

/// Whether opening may create what is not there yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Open {
    /// Only look at what exists: a missing SQLite file or an out-of-date PostgreSQL schema is an
    /// error (operations commands).
    Existing,
    /// Create the file or schema, or bring it up to date, as an application's workers do.
    Create,
}

/// An opened backend: its adapter, and how to name it.
#[derive(Debug)]
pub(crate) struct Store {
    adapter: Arc<dyn Adapter>,
    shown: String,
}

impl Store {
    fn new(adapter: Arc<dyn Adapter>, shown: String) -> Store {
        Store { adapter, shown }
    }

    /// The adapter, for a worker.
    pub(crate) fn adapter(&self) -> &Arc<dyn Adapter> {
        &self.adapter
    }

    /// The backend as people read it, without passwords: `SQLite jobs.db`.
    pub(crate) fn shown(&self) -> &str {
        &self.shown
    }

    /// Its operations API.
    pub(crate) fn inspect(&self) -> Result<&dyn Inspect, Failure> {
        self.adapter
            .inspector()
            .ok_or_else(|| Failure::NotSupported(format!("the {} adapter cannot be inspected", self.adapter.name())))
    }

    /// What to say when `what` failed with `error`.
    pub(crate) fn failure(&self, what: &str, error: Error) -> Failure {
        Failure::operation(self.adapter.name(), what, error)
    }
}

/// Opens the backend `connection` names.
pub(crate) async fn open(connection: &Connection, mode: Open) -> Result<Store, Failure> {
    match Location::parse(&connection.url)? {
        #[cfg(feature = "sqlite")]
        Location::Sqlite(path) => sqlite::open(&path, mode).await,
        #[cfg(feature = "postgres")]
        Location::Postgres(url) => postgres::open(&url, connection.postgres_schema.as_deref(), mode).await,
        #[cfg(feature = "redis")]
        Location::Redis(url) => redis::open(&url, connection.redis_prefix.as_deref()).await,
        #[allow(unreachable_patterns)]
        other => {
            let _ = mode;
            Err(missing_feature(&other))
        }
    }
}

/// Creates the schema or brings it up to date; returns what to print. With `print_sql`, the SQL
/// that would do it from version `from`, for the database's own migration tool.
pub(crate) async fn migrate(connection: &Connection, print_sql: bool, from: i64) -> Result<String, Failure> {
    match Location::parse(&connection.url)? {
        #[cfg(feature = "sqlite")]
        Location::Sqlite(path) => sqlite::migrate(&path, print_sql).await,
        #[cfg(feature = "postgres")]
        Location::Postgres(url) => {
            postgres::migrate(&url, connection.postgres_schema.as_deref(), print_sql, from).await
        }
        #[cfg(feature = "redis")]
        Location::Redis(_) if print_sql => {
            Err(Failure::NotSupported("Redis has no schema: there is no SQL to print".into()))
        }
        #[cfg(feature = "redis")]
        Location::Redis(url) => {
            let store = redis::open(&url, connection.redis_prefix.as_deref()).await?;
            Ok(format!("{} needs no migrations: its keys are created as jobs arrive", store.shown()))
        }
        #[allow(unreachable_patterns)]
        other => {
            let _ = (print_sql, from);
            Err(missing_feature(&other))
        }
    }
}

/// One finding of `check`.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Finding {
    /// What was checked: `connection`, `schema`, `maxmemory-policy`, `inspect`.
    pub(crate) check: &'static str,
    /// Whether it is fine.
    pub(crate) ok: bool,
    /// What was found, and what to do when it is not fine.
    pub(crate) detail: String,
}

impl Finding {
    pub(crate) fn ok(check: &'static str, detail: impl Into<String>) -> Finding {
        Finding { check, ok: true, detail: detail.into() }
    }

    pub(crate) fn failed(check: &'static str, detail: impl Into<String>) -> Finding {
        Finding { check, ok: false, detail: detail.into() }
    }
}

/// Connects and checks what could make the backend unfit for jobs; returns the store when it
/// could be opened, and every finding.
pub(crate) async fn check(connection: &Connection) -> Result<(Option<Store>, Vec<Finding>), Failure> {
    match Location::parse(&connection.url)? {
        #[cfg(feature = "sqlite")]
        Location::Sqlite(path) => Ok(sqlite::check(&path).await),
        #[cfg(feature = "postgres")]
        Location::Postgres(url) => Ok(postgres::check(&url, connection.postgres_schema.as_deref()).await),
        #[cfg(feature = "redis")]
        Location::Redis(url) => Ok(redis::check(&url, connection.redis_prefix.as_deref()).await),
        #[allow(unreachable_patterns)]
        other => Err(missing_feature(&other)),
    }
}

#[allow(dead_code)]
fn missing_feature(location: &Location) -> Failure {
    let (backend, feature) = match location {
        Location::Sqlite(_) => ("SQLite", "sqlite"),
        Location::Postgres(_) => ("PostgreSQL", "postgres"),
        Location::Redis(_) => ("Redis", "redis"),
    };
    Failure::Usage(format!(
        "this program was built without {backend} support: enable the `{feature}` feature of the jobs crate"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_their_backend() {
        let sqlite = |p: &str| Ok(Location::Sqlite(PathBuf::from(p)));
        assert_eq!(Location::parse("jobs.db").map_err(|e| e.to_string()), sqlite("jobs.db"));
        assert_eq!(Location::parse("/var/lib/app/jobs.db").map_err(|e| e.to_string()), sqlite("/var/lib/app/jobs.db"));
        assert_eq!(Location::parse("sqlite:jobs.db").map_err(|e| e.to_string()), sqlite("jobs.db"));
        assert_eq!(
            Location::parse("sqlite://data/jobs.db?mode=rwc").map_err(|e| e.to_string()),
            sqlite("data/jobs.db")
        );
        assert_eq!(Location::parse("sqlite:///tmp/jobs.db").map_err(|e| e.to_string()), sqlite("/tmp/jobs.db"));
        assert!(matches!(Location::parse("postgres://app@db/app"), Ok(Location::Postgres(_))));
        assert!(matches!(Location::parse("postgresql://db/app"), Ok(Location::Postgres(_))));
        assert!(matches!(Location::parse("redis://127.0.0.1:6379/2"), Ok(Location::Redis(_))));
        assert!(matches!(Location::parse("rediss://cache:6380"), Ok(Location::Redis(_))));
    }

    #[test]
    fn unknown_urls_are_usage_errors_without_passwords() {
        let error = Location::parse("mysql://app:hunter2@db/app").unwrap_err();
        assert!(matches!(error, Failure::Usage(_)));
        let message = error.to_string();
        assert!(message.contains("mysql://app:***@db/app") && !message.contains("hunter2"), "{message}");
        for nothing in ["", "sqlite:", "sqlite::memory:", ":memory:"] {
            assert!(matches!(Location::parse(nothing), Err(Failure::Usage(_))), "{nothing}");
        }
    }
}
