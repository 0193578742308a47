//! Adopting the application's pool: checking that its connections are set up as the jobs need.

use std::path::PathBuf;

use sqlx::SqlitePool;

use crate::error::SqliteError;

/// Checks one of `pool`'s connections (SQLite settings are per connection; a pool's connections
/// share its connect options): WAL journal mode, a busy timeout, a database file. Returns the
/// file's path.
pub(crate) async fn check(pool: &SqlitePool) -> Result<PathBuf, SqliteError> {
    let unsuitable = |why: String| SqliteError::UnsuitablePool(why);
    if pool.is_closed() {
        return Err(unsuitable("the pool is closed".into()));
    }
    let mut conn = pool.acquire().await?;
    let files: Vec<(i64, String, String)> = sqlx::query_as("PRAGMA database_list").fetch_all(&mut *conn).await?;
    let file = files.into_iter().find(|(_, name, _)| name == "main").map(|(_, _, file)| file).unwrap_or_default();
    if file.is_empty() {
        return Err(unsuitable(
            "it opens an in-memory or temporary database, which each connection sees apart and \
             which is lost on close: give it a file (SqliteConnectOptions::filename)"
                .into(),
        ));
    }
    let journal: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(&mut *conn).await?;
    if !journal.eq_ignore_ascii_case("wal") {
        return Err(unsuitable(format!(
            "{file} is in journal mode {journal}, not WAL, so a writer would block every reader: \
             set SqliteConnectOptions::journal_mode(SqliteJournalMode::Wal)"
        )));
    }
    let busy_ms: i64 = sqlx::query_scalar("PRAGMA busy_timeout").fetch_one(&mut *conn).await?;
    if busy_ms <= 0 {
        return Err(unsuitable(
            "its connections have no busy timeout, so a write fails at once while another is \
             under way: set SqliteConnectOptions::busy_timeout (the adapter's default is 10 s)"
                .into(),
        ));
    }
    Ok(PathBuf::from(file))
}
