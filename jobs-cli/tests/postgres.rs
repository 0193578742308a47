//! The `jobs` binary against PostgreSQL, in a schema of its own dropped at the end.

#![cfg(feature = "postgres")]

mod support;

use std::sync::Arc;
use std::time::Duration;

use jobs_conformance::{service_url, unavailable};
use jobs_postgres::PostgresAdapter;
use sqlx::{Connection, PgConnection};
use support::{Backend, jobs, jobs_on};

fn url() -> String {
    service_url("JOBS_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")
}

/// A schema of its own, dropped (with everything in it) on drop.
struct Schema(String);

impl Schema {
    async fn new(what: &str) -> Option<Schema> {
        match tokio::time::timeout(Duration::from_secs(5), PgConnection::connect(&url())).await {
            Ok(Ok(conn)) => {
                let _ = conn.close().await;
                Some(Schema(format!("jobs_cli_test_{:016x}", fastrand::u64(..))))
            }
            Ok(Err(error)) => unavailable("PostgreSQL", what, jobs_postgres::redact(&error.to_string())),
            Err(_) => unavailable("PostgreSQL", what, "no answer within 5 s"),
        }
    }

    fn args(&self) -> Vec<String> {
        vec!["--database-url".into(), url(), "--postgres-schema".into(), self.0.clone()]
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        let name = self.0.clone();
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async {
                let mut conn = PgConnection::connect(&url()).await.unwrap();
                let drop = format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE");
                sqlx::query(sqlx::AssertSqlSafe(drop)).execute(&mut conn).await.unwrap();
            });
        })
        .join();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_operator_walks_through_stats_dead_jobs_retries_and_pauses() {
    let Some(schema) = Schema::new("an_operator_walks_through_stats_dead_jobs_retries_and_pauses").await else {
        return;
    };
    let args = schema.args();
    // Operations commands never create the schema: `migrate` does.
    let missing = jobs_on(&args, &["stats"]).expect(1);
    assert!(
        missing.stderr.contains("has no jobs tables yet") && missing.stderr.contains("run `migrate`"),
        "{}",
        missing.stderr
    );
    let sql = jobs_on(&args, &["migrate", "--print-sql"]).expect(0);
    assert!(sql.stdout.contains(&format!("CREATE TABLE \"{}\".jobs", schema.0)), "{}", sql.stdout);
    let migrated = jobs_on(&args, &["migrate"]).expect(0);
    assert!(migrated.stdout.contains("applied migration 1"), "{}", migrated.stdout);
    let again = jobs_on(&args, &["migrate"]).expect(0);
    assert!(again.stdout.contains("is up to date"), "{}", again.stdout);

    let adapter = PostgresAdapter::builder().url(url()).schema(&schema.0).connect().await.unwrap();
    let backend = Backend { name: "PostgreSQL", args, adapter: Arc::new(adapter.clone()) };
    support::walk(&backend).await;
    adapter.close().await;
}

#[test]
fn an_unreachable_server_is_a_clear_error() {
    let run = jobs(&["--database-url", "postgres://app:hunter2@127.0.0.1:1/app", "stats"]).expect(1);
    assert!(run.stderr.contains("cannot connect to PostgreSQL at 127.0.0.1:1"), "{}", run.stderr);
    assert!(!run.stderr.contains("hunter2") && !run.stdout.contains("hunter2"));
}
