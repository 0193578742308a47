//! What is particular to the SQLite store: the file, its schema, several handles on one file.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use jobs_core::adapter::{Backend, ClaimParams};
use jobs_core::encoding::{ArgumentsReader, to_argument};
use jobs_core::{Error, Inspect, Job, JobContext, JobState, ManualClock, PendingJob, Registry, Runtime, Worker};
use jobs_sqlite::{SCHEMA_VERSION, SqliteAdapter, SqliteError};
use serde_json::Value;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};

/// Which jobs ran, in order.
#[derive(Default)]
struct Seen(Mutex<Vec<u64>>);

struct Count {
    n: u64,
}

impl Job for Count {
    const NAME: &'static str = "Count";
    type Output = ();

    fn to_arguments(&self, _cx: &jobs_core::encoding::EncodeContext<'_>) -> Result<Vec<Value>, Error> {
        Ok(vec![to_argument(Self::NAME, "n", &self.n)?])
    }

    fn from_arguments(arguments: Vec<Value>) -> Result<Self, Error> {
        Ok(Count { n: ArgumentsReader::new(Self::NAME, arguments, 1)?.next("n")? })
    }

    async fn perform(self, ctx: JobContext) -> Result<(), Error> {
        ctx.state::<Seen>()?.0.lock().unwrap().push(self.n);
        Ok(())
    }
}

fn runtime(sqlite: &SqliteAdapter, seen: &Arc<Seen>) -> Runtime {
    let mut registry = Registry::new();
    registry.register::<Count>().unwrap();
    Runtime::builder().adapter(sqlite.clone()).registry(registry).shared_state(seen.clone()).build().unwrap()
}

async fn raw_pool(path: &std::path::Path) -> SqlitePool {
    SqlitePool::connect_with(SqliteConnectOptions::new().filename(path)).await.unwrap()
}

async fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !condition() {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn sqlite_error(error: &Error) -> &SqliteError {
    match error {
        Error::Adapter(error) => error.downcast_ref::<SqliteError>().expect("a SqliteError"),
        other => panic!("expected an adapter error, got {other:?}"),
    }
}

#[tokio::test]
async fn opens_in_wal_mode_and_records_its_schema_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jobs.db");
    let first = SqliteAdapter::open(&path).await.unwrap();
    let second = SqliteAdapter::open(&path).await.unwrap();

    let pool = raw_pool(&path).await;
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(&pool).await.unwrap();
    assert_eq!(mode, "wal");
    let versions: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM jobs_schema_migrations").fetch_all(&pool).await.unwrap();
    assert_eq!(versions, (1..=SCHEMA_VERSION).collect::<Vec<_>>(), "opening twice migrates once");
    pool.close().await;
    first.close().await;
    second.close().await;
}

#[tokio::test]
async fn refuses_a_file_migrated_by_a_newer_version() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jobs.db");
    SqliteAdapter::open(&path).await.unwrap().close().await;
    let pool = raw_pool(&path).await;
    sqlx::query("INSERT INTO jobs_schema_migrations VALUES (?1, 'from the future', 'x', 0)")
        .bind(SCHEMA_VERSION + 1)
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;

    let error = SqliteAdapter::open(&path).await.unwrap_err();
    assert!(
        matches!(sqlite_error(&error), SqliteError::SchemaTooNew { found, supported, .. }
            if *found == SCHEMA_VERSION + 1 && *supported == SCHEMA_VERSION),
        "{error}"
    );
    assert!(error.to_string().contains("upgrade jobs-sqlite"), "{error}");
}

#[tokio::test]
async fn refuses_a_file_whose_recorded_migration_differs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jobs.db");
    SqliteAdapter::open(&path).await.unwrap().close().await;
    let pool = raw_pool(&path).await;
    sqlx::query("UPDATE jobs_schema_migrations SET checksum = 'edited'").execute(&pool).await.unwrap();
    pool.close().await;

    let error = SqliteAdapter::open(&path).await.unwrap_err();
    assert!(matches!(sqlite_error(&error), SqliteError::MigrationChanged { version: 1, .. }), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_survive_closing_and_reopening_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jobs.db");
    let seen = Arc::new(Seen::default());
    let before = SqliteAdapter::open(&path).await.unwrap();
    let jobs = [PendingJob::new(Count { n: 1 }), PendingJob::new(Count { n: 2 })];
    runtime(&before, &seen).perform_all_later(jobs).await.unwrap();
    before.close().await;
    drop(before);

    let after = SqliteAdapter::open(&path).await.unwrap();
    assert_eq!(after.counts().await.unwrap().get("default", JobState::Ready), 2);
    let runtime = runtime(&after, &seen);
    let worker = Worker::builder().runtime(&runtime).poll_interval(Duration::from_millis(20)).build().unwrap().start();
    wait_until("the stored jobs to run", || seen.0.lock().unwrap().len() == 2).await;
    worker.shutdown().await.unwrap();
    let mut ran = seen.0.lock().unwrap().clone();
    ran.sort_unstable();
    assert_eq!(ran, [1, 2], "each stored job ran once");
    assert_eq!(after.counts().await.unwrap().get("default", JobState::Completed), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_handles_on_one_file_run_each_job_once() {
    const JOBS: u64 = 300;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jobs.db");
    let seen = Arc::new(Seen::default());
    let (one, two) = (SqliteAdapter::open(&path).await.unwrap(), SqliteAdapter::open(&path).await.unwrap());
    let (first, second) = (runtime(&one, &seen), runtime(&two, &seen));
    first.perform_all_later((0..JOBS).map(|n| PendingJob::new(Count { n }))).await.unwrap();

    let workers: Vec<_> = [&first, &second, &first, &second]
        .into_iter()
        .map(|rt| {
            Worker::builder()
                .runtime(rt)
                .concurrency(4)
                .poll_interval(Duration::from_millis(20))
                .build()
                .unwrap()
                .start()
        })
        .collect();
    wait_until("every job to run", || seen.0.lock().unwrap().len() >= JOBS as usize).await;
    for worker in workers {
        worker.shutdown().await.unwrap();
    }

    let mut ran = seen.0.lock().unwrap().clone();
    ran.sort_unstable();
    assert_eq!(ran, (0..JOBS).collect::<Vec<_>>(), "each job ran exactly once");
    let counts = two.counts().await.unwrap();
    assert_eq!((counts.get("default", JobState::Completed), counts.pending()), (JOBS, 0), "{counts:?}");
}

#[tokio::test]
async fn completed_jobs_are_pruned_after_their_retention() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(chrono::Utc::now());
    let sqlite = SqliteAdapter::builder(dir.path().join("jobs.db"))
        .clock(clock.clone())
        .retain_completed(Duration::from_secs(3600))
        .open()
        .await
        .unwrap();
    let seen = Arc::new(Seen::default());
    let runtime = runtime(&sqlite, &seen);
    let done = runtime.perform_later(Count { n: 1 }).await.unwrap().provider_job_id.unwrap();
    let queues = ["default".to_owned()];
    let params = ClaimParams { queues: &queues, limit: 1, lease: Duration::from_secs(60), worker_id: "test" };
    let claimed = sqlite.claim(params).await.unwrap();
    assert_eq!(sqlite.complete(&[claimed[0].ticket.clone()]).await.unwrap(), 1);
    let waiting = runtime.perform_later(Count { n: 2 }).await.unwrap().provider_job_id.unwrap();

    clock.advance(Duration::from_secs(1800));
    sqlite.rescue_expired().await.unwrap();
    assert_eq!(sqlite.find(&done).await.unwrap().unwrap().state, JobState::Completed, "kept within retention");
    clock.advance(Duration::from_secs(1801));
    sqlite.rescue_expired().await.unwrap();
    assert!(sqlite.find(&done).await.unwrap().is_none(), "pruned after retention");
    assert_eq!(sqlite.find(&waiting).await.unwrap().unwrap().state, JobState::Ready, "pending jobs are never pruned");
    assert_eq!(sqlite.prune_completed(Duration::ZERO).await.unwrap(), 0);
}

/// The application's pool on `path`, set up as the adapter needs (WAL, a busy timeout).
async fn app_pool(path: &std::path::Path) -> SqlitePool {
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
        .busy_timeout(Duration::from_secs(10));
    SqlitePool::connect_with(options).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_on_the_apps_pool_commit_and_roll_back_with_the_apps_rows() {
    let dir = tempfile::tempdir().unwrap();
    let pool = app_pool(&dir.path().join("app.db")).await;
    let sqlite = SqliteAdapter::from_pool(pool.clone()).await.unwrap();
    assert_eq!(sqlite.path(), dir.path().join("app.db"), "the adapter names the pool's file");
    sqlx::query("CREATE TABLE signups (email TEXT PRIMARY KEY)").execute(&pool).await.unwrap();
    let seen = Arc::new(Seen::default());
    let rt = runtime(&sqlite, &seen);

    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.unwrap();
    sqlx::query("INSERT INTO signups (email) VALUES ('ada@example.com')").execute(&mut *tx).await.unwrap();
    let kept = rt.scope(sqlite.enqueue_in(&mut tx, Count { n: 1 })).await.unwrap().provider_job_id.unwrap();
    let many = (2..=3).map(|n| PendingJob::new(Count { n }));
    assert_eq!(rt.scope(sqlite.enqueue_all_in(&mut tx, many)).await.unwrap().len(), 2);
    tx.commit().await.unwrap();

    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.unwrap();
    sqlx::query("INSERT INTO signups (email) VALUES ('bob@example.com')").execute(&mut *tx).await.unwrap();
    let dropped = rt.scope(sqlite.enqueue_in(&mut tx, Count { n: 4 })).await.unwrap().provider_job_id.unwrap();
    tx.rollback().await.unwrap();

    assert_eq!(sqlite.find(&kept).await.unwrap().unwrap().state, JobState::Ready, "committed with the row");
    assert!(sqlite.find(&dropped).await.unwrap().is_none(), "a rolled-back job leaves no row");
    let running = Worker::builder().runtime(&rt).poll_interval(Duration::from_millis(20)).build().unwrap().start();
    wait_until("the committed jobs to run", || seen.0.lock().unwrap().len() == 3).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    running.shutdown().await.unwrap();
    let mut ran = seen.0.lock().unwrap().clone();
    ran.sort_unstable();
    assert_eq!(ran, [1, 2, 3], "only the committed jobs ran");
    let emails: Vec<String> = sqlx::query_scalar("SELECT email FROM signups").fetch_all(&pool).await.unwrap();
    assert_eq!(emails, ["ada@example.com"]);
}

#[tokio::test]
async fn a_pool_the_jobs_cannot_use_is_refused_saying_why() {
    let dir = tempfile::tempdir().unwrap();
    let unsuitable = |error: Error| match sqlite_error(&error) {
        SqliteError::UnsuitablePool(why) => why.clone(),
        other => panic!("expected UnsuitablePool, got {other:?}"),
    };
    let options = SqliteConnectOptions::new()
        .filename(dir.path().join("plain.db"))
        .create_if_missing(true)
        .journal_mode(sqlx::sqlite::SqliteJournalMode::Delete);
    let rollback_journal = SqlitePool::connect_with(options).await.unwrap();
    let why = unsuitable(SqliteAdapter::from_pool(rollback_journal).await.unwrap_err());
    assert!(why.contains("not WAL") && why.contains("journal_mode"), "{why}");

    let options = SqliteConnectOptions::new()
        .filename(dir.path().join("impatient.db"))
        .create_if_missing(true)
        .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
        .busy_timeout(Duration::ZERO);
    let why = unsuitable(SqliteAdapter::from_pool(SqlitePool::connect_with(options).await.unwrap()).await.unwrap_err());
    assert!(why.contains("no busy timeout"), "{why}");

    let memory = SqlitePool::connect("sqlite::memory:").await.unwrap();
    let why = unsuitable(SqliteAdapter::from_pool(memory).await.unwrap_err());
    assert!(why.contains("in-memory"), "{why}");

    let closed = app_pool(&dir.path().join("closed.db")).await;
    closed.close().await;
    let why = unsuitable(SqliteAdapter::from_pool(closed).await.unwrap_err());
    assert!(why.contains("closed"), "{why}");
}
