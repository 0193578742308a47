//! Prometheus metrics for a worker: `/metrics` served from `metrics-exporter-prometheus`, with
//! jobs' counters and histograms and the queue gauges the worker samples from the store.
//!
//! ```text
//! cargo run --example prometheus                    # serves http://127.0.0.1:9464/metrics until Ctrl-C
//! cargo run --example prometheus -- --scrape-once   # runs a batch, scrapes itself once, prints it
//! ```
//!
//! Point Prometheus at it (`scrape_configs: [{job_name: jobs, static_configs: [{targets:
//! ["127.0.0.1:9464"]}]}]`) and import `docs/grafana/jobs.json` into Grafana. A worker started
//! by `jobs::cli` gets the same endpoint with `work --health-addr 0.0.0.0:9100 --metrics`.

use std::time::Duration;

use jobs::adapters::MemoryAdapter;
use jobs::prelude::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Builds report `n`: a few milliseconds of work; every seventh fails.
#[job(queue = "reports")]
async fn build_report(n: u32) -> Result<(), std::io::Error> {
    tokio::time::sleep(Duration::from_millis(u64::from(n % 5) * 3)).await;
    if n.is_multiple_of(7) { Err(std::io::Error::other(format!("report {n}: no data"))) } else { Ok(()) }
}

/// The series a scrape must show once jobs ran (names as Prometheus writes them).
const EXPECTED: &[&str] = &[
    "messaging_client_sent_messages_total",
    "messaging_process_duration_seconds_bucket",
    "jobs_processed_total",
    "jobs_failed_total",
    "jobs_queue_latency_seconds_bucket",
    "jobs_queue_size",
    "jobs_queue_oldest_ready_age_seconds",
    "jobs_dead",
    "jobs_worker_busy",
    "jobs_worker_concurrency",
];

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt().with_env_filter("warn").init();
    let scrape_once = std::env::args().any(|a| a == "--scrape-once");
    let addr = std::env::var("METRICS_ADDR").unwrap_or_else(|_| "127.0.0.1:9464".into());

    // The recorder first, so that it sees everything; then the runtime and a worker that samples
    // the store's gauges every second.
    let handle = jobs::cli::prometheus::install()?;
    let runtime = Runtime::builder().adapter(MemoryAdapter::new()).build()?;
    runtime.install();
    let worker = Worker::builder()
        .queues(["reports"])
        .concurrency(4)
        .retry_policy(jobs::RetryPolicy::none())
        .gauges_interval(Some(Duration::from_secs(1)))
        .build()?
        .start();

    let listener = tokio::net::TcpListener::bind(&addr).await?;
    let bound = listener.local_addr()?;
    let server = tokio::spawn(async move { axum::serve(listener, jobs::cli::prometheus::router(handle)).await });
    println!("metrics at http://{bound}/metrics");

    let mut n = 0;
    let mut batch = async || -> Result<(), jobs::Error> {
        for _ in 0..20 {
            n += 1;
            BuildReport::perform_later(n).await?;
        }
        Ok(())
    };
    batch().await?;
    if scrape_once {
        // Let the batch drain and the gauges catch up, then scrape as Prometheus would.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let scrape = get(&bound.to_string(), "/metrics").await?;
        println!("{scrape}");
        let missing: Vec<&str> = EXPECTED.iter().copied().filter(|name| !scrape.contains(name)).collect();
        worker.shutdown().await?;
        server.abort();
        if !missing.is_empty() {
            return Err(format!("the scrape lacks {missing:?}").into());
        }
        println!("all {} documented series present", EXPECTED.len());
        return Ok(());
    }
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            () = tokio::time::sleep(Duration::from_secs(2)) => batch().await?,
        }
    }
    worker.shutdown().await?;
    Ok(())
}

/// `GET path` over plain HTTP/1.1: the body.
async fn get(addr: &str, path: &str) -> std::io::Result<String> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    stream.write_all(format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes()).await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    Ok(response.split_once("\r\n\r\n").map(|(_, body)| body.to_owned()).unwrap_or_default())
}
