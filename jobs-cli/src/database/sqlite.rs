//! SQLite: a file; its schema is brought up to date whenever a program opens it.

use std::path::Path;
use std::sync::Arc;

use jobs_sqlite::{SCHEMA_VERSION, SqliteAdapter};

use super::{Finding, Open, Store};
use crate::exit::Failure;

pub(super) async fn open(path: &Path, mode: Open) -> Result<Store, Failure> {
    if mode == Open::Existing && !path.exists() {
        return Err(Failure::Failed(format!(
            "no jobs database at {}: check the path (relative to {}), or create it with `migrate`",
            path.display(),
            std::env::current_dir().map(|d| d.display().to_string()).unwrap_or_else(|_| "here".into())
        )));
    }
    let sqlite = SqliteAdapter::open(path).await.map_err(|e| Failure::Failed(e.to_string()))?;
    Ok(Store::new(Arc::new(sqlite), format!("SQLite {}", path.display())))
}

pub(super) async fn migrate(path: &Path, print_sql: bool) -> Result<String, Failure> {
    if print_sql {
        return Err(Failure::NotSupported(
            "SQLite applies its migrations itself, in one transaction, whenever a program opens the file: \
             there is no SQL to print (--print-sql is for PostgreSQL)"
                .into(),
        ));
    }
    let existed = path.exists();
    let store = open(path, Open::Create).await?;
    let verb = if existed { "is" } else { "created, and" };
    Ok(format!("{} {verb} at jobs schema version {SCHEMA_VERSION}", store.shown()))
}

pub(super) async fn check(path: &Path) -> (Option<Store>, Vec<Finding>) {
    match open(path, Open::Existing).await {
        Ok(store) => {
            let findings = vec![
                Finding::ok("connection", format!("opened {}", store.shown())),
                Finding::ok(
                    "schema",
                    format!("jobs schema version {SCHEMA_VERSION} (SQLite migrates the file whenever it is opened)"),
                ),
            ];
            (Some(store), findings)
        }
        Err(failure) => (None, vec![Finding::failed("connection", failure.to_string())]),
    }
}
