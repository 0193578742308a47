//! The postgres adapter: each run gets a schema of its own on the server at
//! `JOBS_BENCH_POSTGRES_URL` (default: the local server), dropped by the teardown.

use std::sync::Arc;
use std::time::Duration;

use jobs::postgres::PostgresAdapter;
use sqlx::Connection;

use crate::cli::AdapterKind;
use crate::target::{Target, Unavailable};

fn url() -> String {
    std::env::var("JOBS_BENCH_POSTGRES_URL")
        .ok()
        .filter(|url| !url.is_empty())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

fn unreachable(reason: impl std::fmt::Display) -> Unavailable {
    Unavailable::Unreachable { adapter: AdapterKind::Postgres, reason: jobs::postgres::redact(&reason.to_string()) }
}

/// A fresh, empty postgres store, or why there is none.
pub(crate) async fn open() -> Result<Target, Unavailable> {
    let url = url();
    let mut probe = tokio::time::timeout(Duration::from_secs(5), sqlx::PgConnection::connect(&url))
        .await
        .map_err(|_| unreachable("no answer within 5 s"))?
        .map_err(unreachable)?;
    let server: String = sqlx::query_scalar("SHOW server_version").fetch_one(&mut probe).await.map_err(unreachable)?;
    let _ = probe.close().await;
    let schema = format!("jobs_bench_{:08x}{:08x}", std::process::id(), nanos());
    let adapter = PostgresAdapter::builder()
        .url(&url)
        .schema(&schema)
        .application_name("jobs-bench")
        .connect()
        .await
        .map_err(unreachable)?;
    let pool = adapter.pool().clone();
    let (settle_pool, jobs) = (pool.clone(), format!("\"{schema}\".jobs"));
    Ok(Target {
        adapter: Arc::new(adapter),
        version: format!("jobs-postgres {}, PostgreSQL {server}", env!("CARGO_PKG_VERSION")),
        teardown: Some(Box::new(move || {
            Box::pin(async move {
                let drop = format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
                if let Err(error) = sqlx::query(sqlx::AssertSqlSafe(drop)).execute(&pool).await {
                    eprintln!("could not drop benchmark schema {schema}: {error}");
                }
                pool.close().await;
            })
        })),
        settle: Some(Box::new(move || {
            let (pool, vacuum) = (settle_pool.clone(), format!("VACUUM (ANALYZE) {jobs}"));
            Box::pin(async move {
                sqlx::raw_sql(sqlx::AssertSqlSafe(vacuum)).execute(&pool).await.map(drop).map_err(|e| e.to_string())
            })
        })),
    })
}

fn nanos() -> u32 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos())
}
