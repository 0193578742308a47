//! Jobs in Redis, in Sidekiq's layout: enqueue some now, one for later and a batch, run a worker
//! until all are done, and show where Sidekiq (and its Web UI) would see them.
//!
//! ```text
//! cargo run -p jobs-redis --example redis                       # redis://127.0.0.1:6379
//! REDIS_URL=redis://:secret@cache:6379/2 cargo run -p jobs-redis --example redis
//! ```
//!
//! Its keys carry the prefix `jobs-example:` and are deleted at the end. Without the prefix, the
//! same jobs land where a Rails app with Active Job's Sidekiq adapter puts its own.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use jobs::prelude::*;
use jobs::{Inspect, JobState};
use jobs_redis::RedisAdapter;
use jobs_redis::redis::AsyncCommands;
use tracing_subscriber::EnvFilter;

/// How many jobs have run, shared with them as application state.
#[derive(Default)]
struct Performed(AtomicUsize);

/// Sends a welcome email (here: prints it). Rails performs it too, as `SendWelcomeEmailJob`.
#[job(queue = "mailers", name = "SendWelcomeEmailJob")]
async fn send_welcome_email(address: String, performed: State<Performed>, ctx: &JobContext) {
    println!("  welcome, {address} (jid {})", ctx.provider_job_id().unwrap_or("?"));
    performed.0.fetch_add(1, Ordering::Relaxed);
}

/// Resizes an image (here: waits a little).
#[job(queue = "images", priority = 5)]
async fn resize_image(name: String, performed: State<Performed>) {
    tokio::time::sleep(Duration::from_millis(50)).await;
    println!("  resized {name}");
    performed.0.fetch_add(1, Ordering::Relaxed);
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The Rails-style log lines ("Enqueued ..", "Performed .. in 1.20ms"), on stderr; RUST_LOG
    // picks what shows (default `info`; `RUST_LOG=jobs=debug` for more, `RUST_LOG=off` for none).
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .with_writer(std::io::stderr)
        .init();
    let redis = match RedisAdapter::builder().prefix("jobs-example:").connect().await {
        Ok(redis) => redis,
        Err(error) => {
            eprintln!("Cannot reach Redis ({error}); start one or set REDIS_URL.");
            std::process::exit(2);
        }
    };
    println!("Jobs are stored in {} under the prefix `{}`.", redis.url(), redis.prefix());
    let runtime = Runtime::builder().adapter(redis.clone()).state(Performed::default()).build()?;
    runtime.install();

    SendWelcomeEmail::perform_later("ada@example.com".into()).await?;
    SendWelcomeEmail::set().wait(Duration::from_secs(2)).perform_later("grace@example.com".into()).await?;
    perform_all_later(["cat.png", "dog.png", "owl.png"].map(|name| PendingJob::new(ResizeImage { name: name.into() })))
        .await?;

    let counts = redis.counts().await?;
    println!(
        "Sidekiq sees: queue:mailers {}, queue:images {}, schedule {}.",
        counts.get("mailers", JobState::Ready),
        counts.get("images", JobState::Ready),
        counts.total(JobState::Scheduled)
    );

    println!("Running a worker until the 5 jobs are done:");
    let worker = Worker::builder().queues(["mailers", "images"]).concurrency(5).build()?.start();
    let performed = runtime.state::<Performed>()?;
    while performed.0.load(Ordering::Relaxed) < 5 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    worker.shutdown().await?;
    let counts = redis.counts().await?;
    println!("Done: {} completed, {} pending.", counts.total(JobState::Completed), counts.pending());

    let mut conn = redis.connection();
    let keys: Vec<String> = conn.keys(format!("{}*", redis.prefix())).await?;
    let _: () = conn.del(keys).await?;
    Ok(())
}
