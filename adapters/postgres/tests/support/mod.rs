//! What the PostgreSQL tests share: the server's URL, a fresh schema per test, dropped at the end.

#![allow(dead_code, unreachable_pub)]

use std::time::Duration;

use jobs_core::conformance::{service_url, unavailable};
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
