//! Jobs inside an axum service: `POST /signups` writes the sign-up and enqueues its welcome job
//! in the same transaction of the application's own sqlx pool, and a worker in the same process
//! performs it. An address already registered fails the request after the job was written: the
//! rollback leaves neither the sign-up nor the job.
//!
//! ```text
//! cargo run --example axum                      # serves on 127.0.0.1:3000, worker included
//! curl -X POST localhost:3000/signups -H 'content-type: application/json' -d '{"email":"ada@example.com"}'
//! cargo run --example axum -- --once            # CI: serves on a free port, signs up over HTTP, waits for
//!                                               # the job, checks a duplicate leaves no job, drops its schema
//! cargo run --example axum -- --web-only        # no worker in this process; run one beside it:
//! JOBS_DATABASE_URL=$DATABASE_URL cargo run --example axum -- work --queues signups --postgres-schema axum_example
//! ```
//!
//! `DATABASE_URL` names the server (default `postgres://postgres@127.0.0.1:5432/test`); the
//! application's tables and the jobs tables live in the schema `axum_example` (`--once` uses
//! one of its own and drops it).

#[path = "app.rs"]
mod app;
#[path = "client.rs"]
mod client;

use std::net::SocketAddr;
use std::time::Duration;

use jobs::prelude::*;
use jobs::{Inspect, JobState, WorkerHandle};
use tracing_subscriber::EnvFilter;

const SCHEMA: &str = "axum_example";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .init();
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let mode = std::env::args().nth(1).unwrap_or_default();
    match mode.as_str() {
        "--once" => once(&url).await,
        "" | "--web-only" => serve(&url, mode.is_empty()).await,
        // Any other command is the jobs command line of this binary (`work`, `stats`, ...): its
        // worker knows this binary's jobs, and gets the application's pool as their state.
        _ => {
            let pool = app::pool(&url, SCHEMA)?;
            let exit = jobs::cli::Cli::new().name("axum").configure(move |runtime| runtime.state(pool)).run().await;
            std::process::exit(i32::from(exit.code()))
        }
    }
}

/// Serves on 127.0.0.1:3000 until SIGINT or SIGTERM, with a worker unless `--web-only`.
async fn serve(url: &str, with_worker: bool) -> Result<(), Box<dyn std::error::Error>> {
    let app = app::start(app::pool(url, SCHEMA)?, SCHEMA).await?;
    let worker = with_worker.then(|| worker(&app)).transpose()?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    tracing::info!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app::router(app)).with_graceful_shutdown(jobs::shutdown_signal()).await?;
    if let Some(worker) = worker {
        worker.shutdown().await?;
    }
    Ok(())
}

/// The worker of this process, on the app's runtime.
fn worker(app: &app::App) -> Result<WorkerHandle, jobs::Error> {
    Ok(Worker::builder().runtime(&app.runtime).queues(["signups"]).concurrency(5).build()?.start())
}

/// Serves on a free port, signs up twice with one address over HTTP, checks that the first
/// sign-up's job ran and saw its row and that the second left no job, then drops its schema.
async fn once(url: &str) -> Result<(), Box<dyn std::error::Error>> {
    let schema = format!("axum_example_{:08x}", std::process::id());
    let pool = app::pool(url, &schema)?;
    let result = self_test(pool.clone(), &schema).await;
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))).execute(&pool).await?;
    pool.close().await;
    result
}

async fn self_test(pool: sqlx::PgPool, schema: &str) -> Result<(), Box<dyn std::error::Error>> {
    let app = app::start(pool.clone(), schema).await?;
    let worker = worker(&app)?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr: SocketAddr = listener.local_addr()?;
    let server = tokio::spawn(axum::serve(listener, app::router(app.clone())).into_future());

    let (status, body) = client::post_json(addr, "/signups", r#"{"email":"ada@example.com"}"#).await?;
    println!("POST /signups ada@example.com -> {status} {body}");
    let signup: app::Signup = serde_json::from_str(&body)?;
    let (status, body) = client::post_json(addr, "/signups", r#"{"email":"ada@example.com"}"#).await?;
    println!("POST /signups ada@example.com again -> {status} {body}");
    if status != 409 {
        return Err(format!("a duplicate sign-up answered {status}, not 409").into());
    }

    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let welcomed: Option<bool> = sqlx::query_scalar("SELECT welcomed_at IS NOT NULL FROM signups WHERE id = $1")
            .bind(signup.id)
            .fetch_optional(&pool)
            .await?;
        if welcomed == Some(true) {
            break;
        }
        if tokio::time::Instant::now() > deadline {
            return Err("the welcome job did not run within 30 s".into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    worker.shutdown().await?;
    server.abort();
    let counts = app.jobs.counts().await?;
    let signups: i64 = sqlx::query_scalar("SELECT count(*) FROM signups").fetch_one(&pool).await?;
    println!("sign-ups stored: {signups}; jobs completed: {}", counts.total(JobState::Completed));
    if (signups, counts.total(JobState::Completed), counts.pending()) != (1, 1, 0) {
        return Err(format!("expected one sign-up and one completed job, found {signups} and {counts:?}").into());
    }
    println!("the welcome job of sign-up {} ran and saw its row; the rolled-back sign-up left no job", signup.id);
    Ok(())
}
