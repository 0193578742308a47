//! Records as job arguments: a sqlx model gets a global id in one line, jobs receive it by
//! reference (`gid://shop/User/1`) and load it fresh from a real SQLite table when they run; a
//! record deleted in between fails its job with a DeserializationError, which `discard_on` drops.
//!
//! ```text
//! cargo run --example global_id
//! ```

use std::sync::Mutex;
use std::time::Duration;

use jobs::prelude::*;
use jobs::{DeserializationError, JobError};
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use tracing_subscriber::EnvFilter;

/// A row of the `users` table.
#[derive(Debug, sqlx::FromRow)]
struct User {
    id: i64,
    name: String,
    email: String,
}

// `impl GlobalId for User`: model `User`, key `id`, loaded from table `users` with the runtime's pool.
jobs::sqlx_global_id!(User, table = "users", key = id: i64, pool = SqlitePool);

/// Lines the jobs write, shared with them as application state.
#[derive(Default)]
struct Journal(Mutex<Vec<String>>);

/// Greets a user; only the user's global id is in the payload. A user deleted meanwhile is no
/// reason to retry: the job is discarded.
#[job(queue = "mailers", discard_on(DeserializationError, with = user_gone))]
async fn send_welcome_email(user: Global<User>, greeting: String, journal: State<Journal>) {
    let line = format!("{greeting}, {} <{}>!", user.name, user.email);
    println!("  performed: {line}");
    journal.0.lock().unwrap().push(line);
}

async fn user_gone(ctx: &JobContext, error: &JobError) {
    let line = format!("discarded {} {}: {}", ctx.job_class(), ctx.data().arguments[0], error);
    println!("  {line}");
    ctx.state::<Journal>().unwrap().0.lock().unwrap().push(line);
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The Rails-style log lines ("Enqueued ..", "Performed .. in 1.20ms"), on stderr; RUST_LOG
    // picks what shows (default `info`; `RUST_LOG=jobs=debug` for more, `RUST_LOG=off` for none).
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .with_writer(std::io::stderr)
        .init();
    let path = std::env::temp_dir().join(format!("jobs-global-id-example-{}.db", std::process::id()));
    let pool = SqlitePoolOptions::new()
        .connect_with(SqliteConnectOptions::new().filename(&path).create_if_missing(true))
        .await?;
    sqlx::query("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL)")
        .execute(&pool)
        .await?;
    sqlx::query("INSERT INTO users (name, email) VALUES ('Ada', 'ada@example.com'), ('Alan', 'alan@example.com')")
        .execute(&pool)
        .await?;

    let memory = MemoryAdapter::new();
    let runtime = Runtime::builder()
        .adapter(memory.clone())
        .app_name("shop")
        .state(pool.clone())
        .state(Journal::default())
        .build()?;
    runtime.install();

    println!("Enqueueing a welcome email for every user:");
    let users: Vec<User> = sqlx::query_as("SELECT * FROM users ORDER BY id").fetch_all(&pool).await?;
    for user in users {
        println!("  {} travels as {}", user.name, user.to_global_id("shop"));
        SendWelcomeEmail::perform_later(user.into(), "Welcome".into()).await?;
    }

    println!("Meanwhile, Ada changes her name and Alan deletes his account.");
    sqlx::query("UPDATE users SET name = 'Ada Lovelace' WHERE id = 1").execute(&pool).await?;
    sqlx::query("DELETE FROM users WHERE id = 2").execute(&pool).await?;

    println!("Running a worker:");
    let worker = Worker::builder().queues(["mailers"]).poll_interval(Duration::from_millis(50)).build()?.start();
    while memory.pending() > 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    worker.shutdown().await?;

    pool.close().await;
    let _ = std::fs::remove_file(&path);
    let journal = runtime.state::<Journal>()?.0.lock().unwrap().len();
    assert_eq!((journal, memory.dead().len()), (2, 0), "one job performed, one discarded");
    Ok(())
}
