//! How long the first page of `list` takes with many jobs stored: fills a database file with a
//! busy store's mix (most jobs completed, a ready backlog behind them, scheduled, retrying, dead
//! and running ones, a small and a tiny queue), then times the first page of 100 by state, by
//! queue and by class, oldest and newest first.
//!
//! ```text
//! cargo run --release -p jobs-sqlite --example list_scale -- [PATH] [JOBS]
//! ```
//!
//! PATH defaults to `list_scale.db` in the system's temporary directory and JOBS to 1 000 000; a
//! file that already holds jobs is measured as it is, so that a second run skips the filling.

use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use jobs_core::adapter::{Adapter, Backend, ClaimParams, ClaimedJob, ErrorRecord, Failure, NewJob};
use jobs_core::{Error, Inspect, JobData, JobFilter, JobState, ListParams};
use jobs_sqlite::{SqliteAdapter, Synchronous};

/// Jobs per `enqueue_all` and per claim while filling.
const BATCH: usize = 5_000;

fn new_job(i: usize, queue: &str, scheduled: bool) -> Result<NewJob, Error> {
    let class = if i.is_multiple_of(3) { "Report" } else { "SendInvoice" };
    let at = scheduled.then(|| jobs_core::adapter::format_time(&(Utc::now() + TimeDelta::days(1))));
    let json = serde_json::json!({
        "job_class": class, "job_id": format!("job-{i}"), "queue_name": queue,
        "arguments": [{"invoice": i, "customer": format!("customer-{}", i % 977)}], "scheduled_at": at,
    });
    NewJob::new(JobData::from_json(&json.to_string())?)
}

async fn claim(sqlite: &SqliteAdapter, limit: usize) -> Result<Vec<ClaimedJob>, Error> {
    let queues = ["*".to_owned()];
    sqlite.claim(ClaimParams { queues: &queues, limit, lease: Duration::from_secs(3600), worker_id: "filler" }).await
}

async fn fail(sqlite: &SqliteAdapter, claimed: Vec<ClaimedJob>, retry_in: Option<Duration>) -> Result<(), Error> {
    let failures: Vec<Failure> = claimed
        .into_iter()
        .map(|job| Failure {
            error: ErrorRecord {
                class: "Timeout".into(),
                message: "gave up".into(),
                attempt: job.attempt,
                at: Utc::now(),
            },
            ticket: job.ticket,
            retry_in,
            payload: None,
        })
        .collect();
    sqlite.fail(&failures).await?;
    Ok(())
}

/// 70 % completed, then a ready backlog (1 % of it on `mailers`), 4 % scheduled, 0.5 % retrying,
/// 0.5 % dead, 100 running, and 50 ready jobs on `rare` at the end.
async fn fill(sqlite: &SqliteAdapter, total: usize) -> Result<(), Error> {
    let scheduled = total / 25;
    let started = Instant::now();
    for start in (0..total).step_by(BATCH) {
        let jobs = (start..(start + BATCH).min(total))
            .map(|i| {
                let queue = if i >= total - 50 {
                    "rare"
                } else if i.is_multiple_of(100) {
                    "mailers"
                } else {
                    "default"
                };
                new_job(i, queue, i >= total - 50 - scheduled && i < total - 50)
            })
            .collect::<Result<Vec<_>, _>>()?;
        sqlite.enqueue_all(&jobs).await?;
    }
    eprintln!("enqueued {total} in {:.1?}", started.elapsed());
    let mut completed = 0;
    while completed < total * 7 / 10 {
        let claimed = claim(sqlite, BATCH.min(total * 7 / 10 - completed)).await?;
        completed += claimed.len();
        let tickets: Vec<_> = claimed.into_iter().map(|job| job.ticket).collect();
        sqlite.complete(&tickets).await?;
    }
    fail(sqlite, claim(sqlite, total / 200).await?, Some(Duration::from_secs(86_400))).await?;
    fail(sqlite, claim(sqlite, total / 200).await?, None).await?;
    claim(sqlite, 100).await?;
    eprintln!("filled in {:.1?}", started.elapsed());
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let path = args.next().map_or_else(|| std::env::temp_dir().join("list_scale.db"), Into::into);
    let total: usize = match args.next() {
        Some(n) => n.parse().map_err(|e| Error::Config(format!("JOBS must be a number: {e}")))?,
        None => 1_000_000,
    };
    let sqlite = SqliteAdapter::builder(&path)
        .synchronous(Synchronous::Normal)
        .retain_completed(Duration::from_secs(30 * 86_400))
        .open()
        .await?;
    let counts = sqlite.counts().await?;
    if JobState::ALL.iter().map(|s| counts.total(*s)).sum::<u64>() == 0 {
        fill(&sqlite, total).await?;
    }
    let counts = sqlite.counts().await?;
    println!("{} jobs in {}", JobState::ALL.iter().map(|s| counts.total(*s)).sum::<u64>(), path.display());
    let mut filters: Vec<(String, JobFilter)> = JobState::ALL
        .iter()
        .map(|s| (format!("state {s} ({})", counts.total(*s)), JobFilter::new().state(*s)))
        .collect();
    for queue in ["default", "mailers", "rare"] {
        let size: u64 = JobState::ALL.iter().map(|s| counts.get(queue, *s)).sum();
        filters.push((format!("queue {queue} ({size})"), JobFilter::new().queue(queue)));
    }
    filters.push(("dead on mailers".into(), JobFilter::new().state(JobState::Dead).queue("mailers")));
    filters.push(("class Report".into(), JobFilter::new().class("Report")));
    filters.push(("no filter".into(), JobFilter::new()));
    println!("| first page of 100 | oldest first | newest first |\n|---|---:|---:|");
    for (name, filter) in filters {
        let mut cells = Vec::new();
        for newest in [false, true] {
            let mut params = ListParams::new().filter(filter.clone()).limit(100);
            if newest {
                params = params.newest_first();
            }
            // The median of five, after one run that warms the page cache.
            let mut times = Vec::new();
            for _ in 0..6 {
                let started = Instant::now();
                sqlite.list(&params).await?;
                times.push(started.elapsed());
            }
            times.remove(0);
            times.sort();
            cells.push(format!("{:.1} ms", times[2].as_secs_f64() * 1000.0));
        }
        println!("| {name} | {} | {} |", cells[0], cells[1]);
    }
    sqlite.close().await;
    Ok(())
}
