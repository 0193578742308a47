//! The conformance suite, run against the SQLite adapter: a new database file per case, on a
//! manual clock.

use jobs_conformance::Fixture;
use jobs_core::ManualClock;
use jobs_sqlite::SqliteAdapter;

async fn sqlite() -> Fixture {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let clock = ManualClock::new(chrono::Utc::now());
    let sqlite = SqliteAdapter::builder(dir.path().join("jobs.db")).clock(clock.clone()).open().await.expect("open");
    let raw = sqlite.clone();
    Fixture::new(sqlite).clock(clock).guard(dir).raw_enqueue(move |queue, payload| {
        let raw = raw.clone();
        async move { raw.enqueue_raw(&queue, 0, &payload).await }
    })
}

jobs_conformance::conformance_suite!(sqlite_conformance, sqlite);
