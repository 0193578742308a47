//! The axum example's service, driven over HTTP: a sign-up commits its row and its welcome job
//! together, the job runs and sees the row; a sign-up that fails after its job was enqueued rolls
//! both back. Uses the example's own router and job (`examples/axum/app.rs`), in a schema of its
//! own on `JOBS_TEST_POSTGRES_URL` (default: the local server), dropped at the end.

#[path = "../examples/axum/app.rs"]
#[allow(dead_code)]
mod app;
#[path = "../examples/axum/client.rs"]
mod client;

use std::time::Duration;

use jobs::{Inspect, JobState, Worker};
use jobs_conformance::{service_url, unavailable};
use sqlx::{Connection, PgConnection};

fn url() -> String {
    service_url("JOBS_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")
}

/// Drops the test's schema, whatever the test's fate.
struct DropSchema(String);

impl Drop for DropSchema {
    fn drop(&mut self) {
        let schema = self.0.clone();
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(async {
                let mut conn = PgConnection::connect(&url()).await?;
                let drop = format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
                sqlx::query(sqlx::AssertSqlSafe(drop)).execute(&mut conn).await?;
                conn.close().await?;
                Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop test schema {}: {dropped:?}", self.0);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_up_over_http_commits_its_job_and_a_failed_one_leaves_none() {
    let what = "a_sign_up_over_http_commits_its_job_and_a_failed_one_leaves_none";
    match tokio::time::timeout(Duration::from_secs(5), PgConnection::connect(&url())).await {
        Ok(Ok(conn)) => conn.close().await.unwrap(),
        Ok(Err(error)) => {
            return unavailable("PostgreSQL", what, jobs::postgres::redact(&error.to_string())).unwrap_or(());
        }
        Err(_) => return unavailable("PostgreSQL", what, "no answer within 5 s").unwrap_or(()),
    }
    let schema = format!("jobs_test_axum_{:016x}", fastrand_u64());
    let _guard = DropSchema(schema.clone());
    let pool = app::pool(&url(), &schema).unwrap();
    let app = app::start(pool.clone(), &schema).await.unwrap();
    let worker = Worker::builder()
        .runtime(&app.runtime)
        .queues(["signups"])
        .poll_interval(Duration::from_millis(50))
        .build()
        .unwrap()
        .start();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(axum::serve(listener, app::router(app.clone())).into_future());

    let (status, body) = client::post_json(addr, "/signups", r#"{"email":"ada@example.com"}"#).await.unwrap();
    assert_eq!(status, 201, "{body}");
    let signup: app::Signup = serde_json::from_str(&body).unwrap();
    let (status, body) = client::post_json(addr, "/signups", r#"{"email":"ada@example.com"}"#).await.unwrap();
    assert_eq!((status, body.as_str()), (409, "ada@example.com is already registered"));
    let (status, _) = client::post_json(addr, "/signups", "not json").await.unwrap();
    assert_eq!(status, 400, "a body that is not JSON is refused before any write");

    let job = app.jobs.find(&signup.job_id).await.unwrap().expect("the committed job is stored under its job id");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let welcomed: bool = sqlx::query_scalar("SELECT welcomed_at IS NOT NULL FROM signups WHERE id = $1")
            .bind(signup.id)
            .fetch_one(&pool)
            .await
            .unwrap();
        if welcomed {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the welcome job did not run: {job:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    worker.shutdown().await.unwrap();
    server.abort();

    let done = app.jobs.find(&signup.job_id).await.unwrap().unwrap();
    assert_eq!((done.state, done.errors.len()), (JobState::Completed, 0), "the job saw its row: {done:?}");
    let counts = app.jobs.counts().await.unwrap();
    let stored: u64 = JobState::ALL.iter().map(|state| counts.total(*state)).sum();
    assert_eq!(stored, 1, "the rolled-back sign-up left no job: {counts:?}");
    let signups: i64 = sqlx::query_scalar("SELECT count(*) FROM signups").fetch_one(&pool).await.unwrap();
    assert_eq!(signups, 1, "the rolled-back sign-up left no row");
    pool.close().await;
}

/// A random number for the schema's name, without a dependency for it.
fn fastrand_u64() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now())
}
