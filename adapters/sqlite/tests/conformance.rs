//! The conformance suite, run against the SQLite adapter: a new database file per case, on a
//! manual clock; and the cases about real time on the system clock, SQLite's default.

use chrono::SubsecRound;
use jobs_conformance::Fixture;
use jobs_core::ManualClock;
use jobs_sqlite::SqliteAdapter;

async fn sqlite() -> Fixture {
    let dir = tempfile::tempdir().expect("a temporary directory");
    // The store keeps times in whole microseconds: so does the clock, so that the times it shows
    // are the clock's very times.
    let clock = ManualClock::new(chrono::Utc::now().trunc_subsecs(6));
    let sqlite = SqliteAdapter::builder(dir.path().join("jobs.db")).clock(clock.clone()).open().await.expect("open");
    let raw = sqlite.clone();
    Fixture::new(sqlite).clock(clock).guard(dir).raw_enqueue(move |queue, payload| {
        let raw = raw.clone();
        async move { raw.enqueue_raw(&queue, 0, &payload).await }
    })
}

jobs_conformance::conformance_suite!(sqlite_conformance, sqlite);

async fn sqlite_on_system_clock() -> Fixture {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let sqlite = SqliteAdapter::builder(dir.path().join("jobs.db")).open().await.expect("open");
    Fixture::new(sqlite).guard(dir)
}

#[test]
fn scheduled_jobs_start_on_time_on_system_clock() {
    jobs_conformance::run(
        "scheduled_jobs_start_on_time",
        sqlite_on_system_clock,
        jobs_conformance::cases::scheduled_jobs_start_on_time,
    );
}

#[test]
fn retries_start_on_time_on_system_clock() {
    jobs_conformance::run(
        "retries_start_on_time",
        sqlite_on_system_clock,
        jobs_conformance::cases::retries_start_on_time,
    );
}
