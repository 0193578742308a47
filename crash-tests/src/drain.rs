//! The stop signal of a worker process that works a SQLite file until nothing is left to do.

use std::time::Duration;

use jobs_core::Inspect;
use jobs_sqlite::SqliteAdapter;

/// Completes once `sqlite` holds no pending job (every job completed or dead), or on SIGTERM /
/// SIGINT like any worker; for [`Worker::run_until`](jobs_core::Worker::run_until).
pub async fn until_drained(sqlite: &SqliteAdapter) {
    let drained = async {
        loop {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if sqlite.counts().await.is_ok_and(|counts| counts.pending() == 0) {
                return;
            }
        }
    };
    tokio::select! {
        () = drained => {}
        () = jobs_core::shutdown_signal() => {}
    }
}
