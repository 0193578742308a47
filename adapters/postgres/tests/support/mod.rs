//! What the PostgreSQL tests share: the server's URL, a fresh schema per test, dropped at the end.

#![allow(dead_code, unreachable_pub)]

use std::time::Duration;

use jobs_conformance::{service_url, unavailable};
use jobs_postgres::{PostgresAdapter, PostgresBuilder};
use sqlx::{Connection, PgConnection};

/// Where the test server is: `JOBS_TEST_POSTGRES_URL`, or the local server.
pub fn url() -> String {
    service_url("JOBS_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")
}

/// A schema of its own for one test: a random name, dropped (with everything in it) on drop.
pub struct TestSchema {
    pub name: String,
}

impl TestSchema {
    /// A fresh schema name, or `None` (after a skip notice, or a panic under
    /// `JOBS_REQUIRE_SERVICES=1`) when the server is unreachable.
    pub async fn new(what: &str) -> Option<TestSchema> {
        let reached = tokio::time::timeout(Duration::from_secs(5), PgConnection::connect(&url())).await;
        match reached {
            Ok(Ok(conn)) => {
                let _ = conn.close().await;
                Some(TestSchema { name: format!("jobs_test_{:016x}", fastrand::u64(..)) })
            }
            Ok(Err(error)) => unavailable("PostgreSQL", what, jobs_postgres::redact(&error.to_string())),
            Err(_) => unavailable("PostgreSQL", what, "no answer within 5 s"),
        }
    }

    /// A builder for this schema, whose connections are named after it (to find them in
    /// `pg_stat_activity`).
    pub fn builder(&self) -> PostgresBuilder {
        PostgresAdapter::builder().url(url()).schema(&self.name).application_name(&self.name).max_connections(5)
    }

    /// An adapter on this schema with default settings.
    pub async fn adapter(&self) -> PostgresAdapter {
        self.builder().connect().await.expect("connect to the test server")
    }
}

impl Drop for TestSchema {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop is synchronous: drop the schema from a thread with a runtime of its own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(async {
                let mut conn = PgConnection::connect(&url()).await?;
                // Connections of the test that are still open (named after the schema) go first.
                sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1")
                    .bind(&name)
                    .execute(&mut conn)
                    .await?;
                sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE")))
                    .execute(&mut conn)
                    .await?;
                conn.close().await?;
                Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop test schema {}: {dropped:?}", self.name);
        }
    }
}

/// Which jobs ran (by number), in order, possibly more than once.
#[derive(Default)]
pub struct Seen(pub std::sync::Mutex<Vec<u64>>);

impl Seen {
    /// The numbers that ran, sorted, duplicates kept.
    pub fn sorted(&self) -> Vec<u64> {
        let mut ran = self.0.lock().unwrap().clone();
        ran.sort_unstable();
        ran
    }
}

/// A job that notes its number in [`Seen`], after `millis` of work.
pub struct Count {
    pub n: u64,
    pub millis: u64,
}

impl jobs_core::Job for Count {
    const NAME: &'static str = "Count";
    type Output = ();

    fn to_arguments(
        &self,
        _cx: &jobs_core::encoding::EncodeContext<'_>,
    ) -> Result<Vec<serde_json::Value>, jobs_core::Error> {
        Ok(vec![serde_json::json!(self.n), serde_json::json!(self.millis)])
    }

    fn from_arguments(arguments: Vec<serde_json::Value>) -> Result<Self, jobs_core::Error> {
        let mut reader = jobs_core::encoding::ArgumentsReader::new(Self::NAME, arguments, 2)?;
        Ok(Count { n: reader.next("n")?, millis: reader.next("millis")? })
    }

    async fn perform(self, ctx: jobs_core::JobContext) -> Result<(), jobs_core::Error> {
        if self.millis > 0 {
            tokio::time::sleep(Duration::from_millis(self.millis)).await;
        }
        ctx.state::<Seen>()?.0.lock().unwrap().push(self.n);
        Ok(())
    }
}

/// A runtime on `adapter` that knows [`Count`] and records into `seen`.
pub fn runtime(adapter: &PostgresAdapter, seen: &std::sync::Arc<Seen>) -> jobs_core::Runtime {
    let mut registry = jobs_core::Registry::new();
    registry.register::<Count>().unwrap();
    jobs_core::Runtime::builder()
        .adapter(adapter.clone())
        .registry(registry)
        .shared_state(seen.clone())
        .build()
        .unwrap()
}

/// A worker of `default` on `runtime` that polls rarely, so that only wake-ups make it quick.
pub fn worker(runtime: &jobs_core::Runtime, poll: Duration) -> jobs_core::WorkerHandle {
    jobs_core::Worker::builder()
        .runtime(runtime)
        .concurrency(10)
        .poll_interval(poll)
        .lease(Duration::from_secs(2))
        .build()
        .unwrap()
        .start()
}

/// Waits until `condition` holds, for at most `limit`.
pub async fn wait_until(what: &str, limit: Duration, mut condition: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + limit;
    while !condition() {
        assert!(tokio::time::Instant::now() < deadline, "timed out after {limit:?} waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The [`PostgresError`](jobs_postgres::PostgresError) inside an adapter error.
pub fn postgres_error(error: &jobs_core::Error) -> &jobs_postgres::PostgresError {
    match error {
        jobs_core::Error::Adapter(error) => error.downcast_ref().expect("a PostgresError"),
        other => panic!("expected an adapter error, got {other:?}"),
    }
}

/// A plain connection to the test server, for looking behind the adapter's back.
pub async fn connection() -> PgConnection {
    PgConnection::connect(&url()).await.expect("connect to the test server")
}

/// A job of class `Count` with Active Job id `job_id` and `priority`, on queue `default`.
pub fn new_job(job_id: &str, priority: i32) -> jobs_core::adapter::NewJob {
    let json = format!(
        r#"{{"job_class":"Count","job_id":"{job_id}","queue_name":"default","priority":{priority},"arguments":[0,0]}}"#
    );
    jobs_core::adapter::NewJob::new(jobs_core::JobData::from_json(&json).unwrap()).unwrap()
}

/// Claims up to `limit` ready jobs of `default` with a lease of `lease`, by their Active Job ids.
pub async fn claim(
    adapter: &PostgresAdapter,
    limit: usize,
    lease: Duration,
) -> std::collections::HashMap<String, jobs_core::adapter::Ticket> {
    use jobs_core::adapter::{Backend, ClaimParams};
    let queues = ["default".to_owned()];
    let params = ClaimParams { queues: &queues, limit, lease, worker_id: "test" };
    let claimed = adapter.claim(params).await.expect("claim");
    claimed.into_iter().map(|job| (jobs_core::JobData::from_json(&job.payload).unwrap().job_id, job.ticket)).collect()
}
