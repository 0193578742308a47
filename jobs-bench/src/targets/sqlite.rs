//! The SQLite adapter: a new database file per run in a fresh temporary directory, removed by
//! the teardown.

use std::sync::Arc;

use jobs::sqlite::SqliteAdapter;

use crate::cli::AdapterKind;
use crate::target::{Target, Unavailable};

/// A fresh, empty SQLite store.
pub(crate) async fn open() -> Result<Target, Unavailable> {
    let dir = std::env::temp_dir().join(format!("jobs-bench-{}-{}", std::process::id(), unique()));
    let failed = |reason: String| Unavailable::Unreachable { adapter: AdapterKind::Sqlite, reason };
    std::fs::create_dir_all(&dir).map_err(|e| failed(format!("cannot create {}: {e}", dir.display())))?;
    let sqlite = SqliteAdapter::open(dir.join("jobs.db")).await.map_err(|e| failed(e.to_string()))?;
    let closing = sqlite.clone();
    Ok(Target {
        adapter: Arc::new(sqlite),
        version: format!("jobs-sqlite {} (bundled SQLite, WAL)", env!("CARGO_PKG_VERSION")),
        teardown: Some(Box::new(move || {
            Box::pin(async move {
                closing.close().await;
                let _ = std::fs::remove_dir_all(&dir);
            })
        })),
        settle: None,
    })
}

fn unique() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or_default()
}
