//! The adapter on the application's own pool: its tables next to the application's, a job
//! enqueued in the application's transaction, a pool that cannot serve refused up front.

mod support;

use std::sync::Arc;
use std::time::Duration;

use jobs_core::{ConfiguredJob, Inspect, JobState};
use jobs_postgres::PostgresAdapter;
use sqlx::postgres::PgPoolOptions;
use support::{Count, Seen, TestSchema, runtime, url, wait_until, worker};

/// The application's pool, its connections named after the test's schema (so the schema's
/// drop finds them).
async fn app_pool(schema: &TestSchema) -> sqlx::PgPool {
    let options: sqlx::postgres::PgConnectOptions = url().parse().unwrap();
    PgPoolOptions::new().max_connections(3).connect_with(options.application_name(&schema.name)).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_on_the_apps_pool_commit_and_roll_back_with_the_apps_rows() {
    let Some(schema) = TestSchema::new("jobs_on_the_apps_pool_commit_and_roll_back_with_the_apps_rows").await else {
        return;
    };
    let pool = app_pool(&schema).await;
    let postgres = PostgresAdapter::builder().pool(pool.clone()).schema(&schema.name).connect().await.unwrap();
    let signups = format!("\"{}\".signups", schema.name);
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE TABLE {signups} (email text PRIMARY KEY)")))
        .execute(&pool)
        .await
        .unwrap();
    let seen = Arc::new(Seen::default());
    let runtime = runtime(&postgres, &seen);
    let running = worker(&runtime, Duration::from_millis(50));
    let insert = format!("INSERT INTO {signups} (email) VALUES ($1)");

    // The application's transaction, on the application's pool: the row and the job together.
    let mut tx = pool.begin().await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(insert.clone())).bind("ada@example.com").execute(&mut *tx).await.unwrap();
    let job = ConfiguredJob::<Count>::new().runtime(&runtime).build(Count { n: 1, millis: 0 });
    let kept = postgres.enqueue_in(&mut tx, job).await.unwrap().provider_job_id.unwrap();
    assert!(postgres.find(&kept).await.unwrap().is_none(), "an uncommitted job is invisible to the adapter");
    tx.commit().await.unwrap();

    let mut tx = pool.begin().await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(insert)).bind("bob@example.com").execute(&mut *tx).await.unwrap();
    let job = ConfiguredJob::<Count>::new().runtime(&runtime).build(Count { n: 2, millis: 0 });
    let dropped = postgres.enqueue_in(&mut tx, job).await.unwrap().provider_job_id.unwrap();
    tx.rollback().await.unwrap();

    wait_until("the committed job to run", Duration::from_secs(10), || seen.sorted() == [1]).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    running.shutdown().await.unwrap();
    assert_eq!(seen.sorted(), [1], "only the committed job ran");
    assert_eq!(postgres.find(&kept).await.unwrap().unwrap().state, JobState::Completed);
    assert!(postgres.find(&dropped).await.unwrap().is_none(), "a rolled-back job leaves no row");
    let emails: Vec<String> =
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT email FROM {signups}"))).fetch_all(&pool).await.unwrap();
    assert_eq!(emails, ["ada@example.com"]);
    drop(postgres);
    pool.close().await;
}

#[tokio::test]
async fn a_closed_pool_is_refused_with_a_clear_error() {
    let Some(schema) = TestSchema::new("a_closed_pool_is_refused_with_a_clear_error").await else {
        return;
    };
    let pool = app_pool(&schema).await;
    pool.close().await;
    let error = PostgresAdapter::builder().pool(pool).schema(&schema.name).connect().await.unwrap_err();
    assert!(error.to_string().contains("closed pool"), "{error}");
}
