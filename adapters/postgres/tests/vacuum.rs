//! The workers' vacuum: the jobs table and the completed jobs' table are vacuumed once their
//! dead row versions build up, and a role that may not vacuum them says so once.
//!
//! In a binary of its own: it installs the global subscriber that captures the adapter's warnings.

mod support;

use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use jobs_core::PendingJob;
use sqlx::Executor;
use support::{Count, Seen, TestSchema, runtime, wait_until, worker};

/// When `table` of the schema was last vacuumed by hand (not by autovacuum), if ever.
async fn last_vacuum(schema: &TestSchema, table: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    let mut conn = support::connection().await;
    sqlx::query_scalar("SELECT last_vacuum FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = $2")
        .bind(&schema.name)
        .bind(table)
        .fetch_one(&mut conn)
        .await
        .unwrap()
}

/// Waits (up to 30 s) until `table` has been vacuumed.
async fn until_vacuumed(schema: &TestSchema, table: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while last_vacuum(schema, table).await.is_none() {
        assert!(Instant::now() < deadline, "{table} not vacuumed within 30 s of idle claims");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Drains `n` jobs with a worker on `postgres`, then lets it claim (idle) for `idle`.
async fn drain(postgres: &jobs_postgres::PostgresAdapter, n: u64, idle: Duration) {
    let seen = Arc::new(Seen::default());
    let runtime = runtime(postgres, &seen);
    runtime.perform_all_later((0..n).map(|n| PendingJob::new(Count { n, millis: 0 }))).await.unwrap();
    let running = worker(&runtime, Duration::from_millis(50));
    wait_until("the jobs to run", Duration::from_secs(30), || seen.sorted().len() == n as usize).await;
    tokio::time::sleep(idle).await;
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claiming_workers_vacuum_the_jobs_table_once_dead_rows_build_up() {
    let Some(schema) = TestSchema::new("claiming_workers_vacuum_the_jobs_table_once_dead_rows_build_up").await else {
        return;
    };
    // Left to autovacuum (off on the test server or too slow to matter here), nobody vacuums.
    let hands_off = schema.builder().vacuum_after(None).connect().await.unwrap();
    drain(&hands_off, 300, Duration::from_secs(2)).await;
    assert_eq!(last_vacuum(&schema, "jobs").await, None, "vacuum_after(None) leaves the table to autovacuum");

    // With a threshold, a claiming worker vacuums once the dead rows are counted.
    let vacuuming = schema.builder().vacuum_after(Some(100)).connect().await.unwrap();
    let running = worker(&runtime(&vacuuming, &Arc::new(Seen::default())), Duration::from_millis(50));
    until_vacuumed(&schema, "jobs").await;
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pruned_completed_jobs_are_vacuumed_too() {
    let Some(schema) = TestSchema::new("pruned_completed_jobs_are_vacuumed_too").await else {
        return;
    };
    let hands_off = schema.builder().vacuum_after(None).connect().await.unwrap();
    drain(&hands_off, 200, Duration::ZERO).await;
    assert_eq!(hands_off.prune_completed(Duration::ZERO).await.unwrap(), 200);
    assert_eq!(last_vacuum(&schema, "jobs_completed").await, None);

    // Its pruned rows' space is reused only once vacuumed, and no claim reads it: the workers'
    // check covers it as it covers the jobs table.
    let vacuuming = schema.builder().vacuum_after(Some(150)).connect().await.unwrap();
    let running = worker(&runtime(&vacuuming, &Arc::new(Seen::default())), Duration::from_millis(50));
    until_vacuumed(&schema, "jobs_completed").await;
    running.shutdown().await.unwrap();
}

/// Warnings of the `jobs` target, from any thread, since the first call.
fn warnings() -> &'static Mutex<Vec<String>> {
    static WARNINGS: OnceLock<Arc<Mutex<Vec<String>>>> = OnceLock::new();
    WARNINGS.get_or_init(|| {
        use tracing_subscriber::Layer as _;
        use tracing_subscriber::layer::SubscriberExt as _;
        let lines = Arc::new(Mutex::new(Vec::new()));
        let writer = lines.clone();
        let layer = tracing_subscriber::fmt::layer()
            .with_ansi(false)
            .with_writer(move || Capture(writer.clone()))
            .with_filter(tracing_subscriber::filter::Targets::new().with_target("jobs", tracing::Level::WARN));
        tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer)).unwrap();
        lines
    })
}

struct Capture(Arc<Mutex<Vec<String>>>);

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().push(String::from_utf8_lossy(buf).into_owned());
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_that_may_not_vacuum_says_so_once_and_leaves_the_tables_alone() {
    let Some(schema) = TestSchema::new("a_role_that_may_not_vacuum_says_so_once_and_leaves_the_tables_alone").await
    else {
        return;
    };
    let warnings = warnings();
    let owner = schema.builder().vacuum_after(None).connect().await.unwrap();
    drain(&owner, 300, Duration::ZERO).await;

    // A role with every right on the tables but not their owner (as when migrations run as
    // another role than the workers).
    let role = format!("{}_worker", schema.name);
    let mut admin = support::connection().await;
    let name = &schema.name;
    admin.execute(sqlx::AssertSqlSafe(format!("CREATE ROLE {role} LOGIN"))).await.unwrap();
    for grant in [
        format!("GRANT USAGE ON SCHEMA {name} TO {role}"),
        format!("GRANT ALL ON ALL TABLES IN SCHEMA {name} TO {role}"),
        format!("GRANT ALL ON ALL SEQUENCES IN SCHEMA {name} TO {role}"),
        format!("GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA {name} TO {role}"),
    ] {
        admin.execute(sqlx::AssertSqlSafe(grant)).await.unwrap();
    }
    let options = support::url().parse::<sqlx::postgres::PgConnectOptions>().unwrap().username(&role);
    let worker_role =
        schema.builder().connect_options(options).migrate(false).vacuum_after(Some(100)).connect().await.unwrap();
    let said = || -> Vec<String> {
        warnings.lock().unwrap().iter().filter(|line| line.contains(&schema.name)).cloned().collect()
    };
    let running = worker(&runtime(&worker_role, &Arc::new(Seen::default())), Duration::from_millis(50));
    // The dead rows are counted once the draining connections report them (within seconds).
    wait_until("the warning", Duration::from_secs(30), || !said().is_empty()).await;
    // Checks go on every second; the warning is not repeated.
    tokio::time::sleep(Duration::from_secs(3)).await;
    running.shutdown().await.unwrap();

    assert_eq!(last_vacuum(&schema, "jobs").await, None, "nothing vacuumed");
    let said = said();
    assert_eq!(said.len(), 1, "one warning per process: {said:?}");
    assert!(said[0].contains("may not VACUUM") && said[0].contains("vacuum_after(None)"), "{said:?}");

    drop(worker_role);
    drop(owner);
    admin.execute(sqlx::AssertSqlSafe(format!("DROP OWNED BY {role}"))).await.unwrap();
    admin.execute(sqlx::AssertSqlSafe(format!("DROP ROLE {role}"))).await.unwrap();
}
