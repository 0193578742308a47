//! Jobs on PostgreSQL: a sign-up that writes the user and its welcome email in one transaction
//! (and one that rolls back, leaving neither), a bulk enqueue, a scheduled job, and a worker that
//! drains them all, woken by LISTEN/NOTIFY.
//!
//! ```text
//! cargo run --example postgres                                # DATABASE_URL, or the local server
//! cargo run --example postgres -- postgres://me@db/app        # another server
//! cargo run --example postgres -- --print-sql                 # the schema's SQL, for your migration tool
//! ```
//!
//! Everything lives in the schema `jobs_example`, dropped at the end.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use jobs::prelude::*;
use jobs::{Inspect, JobState};
use tracing_subscriber::EnvFilter;

const SCHEMA: &str = "jobs_example";

/// How many jobs ran, shared with them as application state.
#[derive(Default)]
struct Performed(AtomicUsize);

/// Welcomes a user who signed up.
#[job(queue = "mailers")]
async fn send_welcome_email(user_id: i64, address: String, performed: State<Performed>) {
    println!("  welcome mail to {address} (user {user_id})");
    performed.0.fetch_add(1, Ordering::Relaxed);
}

/// Resizes an image; enqueued in bulk.
#[job(queue = "images")]
async fn resize_image(name: String, performed: State<Performed>) {
    let _ = name;
    performed.0.fetch_add(1, Ordering::Relaxed);
}

/// Sends a reminder; scheduled.
#[job]
async fn remind(text: String, ctx: &JobContext, performed: State<Performed>) {
    let late = ctx.data().scheduled_at.map(|at| (jobs::Runtime::current().unwrap().now() - at).num_milliseconds());
    println!("  reminder: {text} ({} ms after its time)", late.unwrap_or_default());
    performed.0.fetch_add(1, Ordering::Relaxed);
}

/// Creates the user and enqueues the welcome email in one transaction; `commit` decides.
async fn sign_up(postgres: &PostgresAdapter, address: &str, commit: bool) -> Result<(), Box<dyn std::error::Error>> {
    let mut tx = postgres.pool().begin().await?;
    let user_id: i64 = sqlx::query_scalar("INSERT INTO jobs_example.users (email) VALUES ($1) RETURNING id")
        .bind(address)
        .fetch_one(&mut *tx)
        .await?;
    postgres.enqueue_in(&mut tx, SendWelcomeEmail { user_id, address: address.to_owned() }).await?;
    if commit {
        tx.commit().await?;
        println!("signed up {address}: user and welcome mail committed together");
    } else {
        tx.rollback().await?;
        println!("sign-up of {address} rolled back: no user, no mail");
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The Rails-style log lines ("Enqueued ..", "Performed .. in 1.20ms"), on stderr; RUST_LOG
    // picks what shows (default `info`; `RUST_LOG=jobs=debug` for more, `RUST_LOG=off` for none).
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .with_writer(std::io::stderr)
        .init();
    let arg = std::env::args().nth(1);
    if arg.as_deref() == Some("--print-sql") {
        print!("{}", jobs::postgres::migration_sql("jobs", 0)?);
        return Ok(());
    }
    let url = arg
        .or_else(|| std::env::var("DATABASE_URL").ok())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    println!("Connecting to {} (schema {SCHEMA})", jobs::postgres::redact(&url));
    let postgres = PostgresAdapter::builder().url(&url).schema(SCHEMA).connect().await?;
    sqlx::query("CREATE TABLE IF NOT EXISTS jobs_example.users (id bigserial PRIMARY KEY, email text NOT NULL)")
        .execute(postgres.pool())
        .await?;
    let performed = std::sync::Arc::new(Performed::default());
    Runtime::builder().adapter(postgres.clone()).shared_state(performed.clone()).build()?.install();

    sign_up(&postgres, "ada@example.com", true).await?;
    sign_up(&postgres, "mallory@example.com", false).await?;
    let images = (0..100).map(|n| PendingJob::new(ResizeImage { name: format!("img-{n}.png") }));
    perform_all_later(images).await?;
    println!("enqueued 100 image resizes in one statement");
    Remind::set().wait(Duration::from_secs(1)).perform_later("stand up".into()).await?;
    println!("scheduled a reminder in 1 s");

    let started = Instant::now();
    let worker = Worker::builder().queues(["mailers", "images", "default"]).concurrency(10).build()?.start();
    while performed.0.load(Ordering::Relaxed) < 102 {
        assert!(started.elapsed() < Duration::from_secs(60), "the jobs did not run within a minute");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    worker.shutdown().await?;
    let counts = postgres.counts().await?;
    println!(
        "done in {:.1} s: {} jobs completed, {} pending, {} dead",
        started.elapsed().as_secs_f64(),
        counts.total(JobState::Completed),
        counts.pending(),
        counts.total(JobState::Dead)
    );
    sqlx::query("DROP SCHEMA jobs_example CASCADE").execute(postgres.pool()).await?;
    postgres.close().await;
    Ok(())
}
