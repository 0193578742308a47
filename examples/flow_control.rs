//! Flow control on SQLite: a concurrency limit per account, a unique job, a throttle, and a
//! `Limiter` shared by every worker around an "external API". Two workers drain the jobs; the
//! program prints what it saw and stops by itself.
//!
//! ```text
//! cargo run --example flow_control              # jobs in a temporary file
//! cargo run --example flow_control -- /tmp/f.db # jobs in this file
//! ```

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use jobs::prelude::*;
use jobs::{Error, JobError};

/// What the jobs saw: charges running per account now and at most, and when each ping started.
#[derive(Default)]
struct Seen {
    running: Mutex<HashMap<u32, (usize, usize)>>,
    charges: Mutex<usize>,
    pings: Mutex<Vec<Instant>>,
    api_calls: Mutex<Vec<Instant>>,
}

/// At most two charges of one account at once, across every worker.
#[job(limits_concurrency(to = 2, key = |job| job.account_id, duration = "1m"))]
async fn charge(account_id: u32, cents: u64, seen: State<Seen>) {
    let _ = cents;
    {
        let mut running = seen.running.lock().unwrap();
        let (now, most) = running.entry(account_id).or_default();
        *now += 1;
        *most = (*most).max(*now);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    seen.running.lock().unwrap().get_mut(&account_id).unwrap().0 -= 1;
    *seen.charges.lock().unwrap() += 1;
}

/// One refresh of a feed waits at a time: enqueueing it again meanwhile is a duplicate.
#[job(unique(by = [args], for = "1h"))]
async fn refresh_feed(feed: String) {
    println!("refreshed {feed}");
}

/// At most five pings start per second.
#[job(throttle(limit = 5, period = "1s"))]
async fn ping(n: u32, seen: State<Seen>) {
    let _ = n;
    seen.pings.lock().unwrap().push(Instant::now());
}

/// Calls an API that allows three calls per second, whichever worker runs the job.
#[job]
async fn call_api(n: u32, seen: State<Seen>) -> Result<(), JobError> {
    let _ = n;
    jobs::Limiter::window("example-api", 3, Duration::from_secs(1)).acquire().await?;
    seen.api_calls.lock().unwrap().push(Instant::now());
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let dir = tempfile::tempdir().map_err(|e| Error::Config(e.to_string()))?;
    let path = std::env::args().nth(1).map_or_else(|| dir.path().join("flow.db"), Into::into);
    let sqlite = SqliteAdapter::open(&path).await?;
    let runtime = Runtime::builder().adapter(sqlite).state(Seen::default()).build()?;
    runtime.install();

    let charges = (0..12).map(|n| PendingJob::new(Charge { account_id: n % 3, cents: 100 }));
    perform_all_later(charges).await?;
    let first = RefreshFeed::perform_later("news".into()).await?;
    let second = RefreshFeed::perform_later("news".into()).await?;
    println!("refresh enqueued twice: the second is a duplicate of job {} ({})", second.job_id, second.is_duplicate());
    assert_eq!((first.is_duplicate(), second.job_id == first.job_id), (false, true));
    perform_all_later((0..10).map(|n| PendingJob::new(Ping { n }))).await?;
    perform_all_later((0..6).map(|n| PendingJob::new(CallApi { n }))).await?;

    let started = Instant::now();
    let workers =
        [Worker::builder().concurrency(10).build()?.start(), Worker::builder().concurrency(10).build()?.start()];
    let seen = runtime.state::<Seen>()?;
    let deadline = Instant::now() + Duration::from_secs(30);
    while *seen.charges.lock().unwrap() < 12
        || seen.pings.lock().unwrap().len() < 10
        || seen.api_calls.lock().unwrap().len() < 6
    {
        assert!(Instant::now() < deadline, "the jobs did not all run in time");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for worker in workers {
        worker.shutdown().await?;
    }

    for (account, (_, most)) in seen.running.lock().unwrap().iter() {
        println!("account {account}: at most {most} charges at once (limit 2)");
        assert!(*most <= 2);
    }
    let offsets = |times: &[Instant]| -> Vec<String> {
        times.iter().map(|t| format!("{:.1}s", t.duration_since(started).as_secs_f64())).collect()
    };
    println!("pings started at {:?} (5 per second)", offsets(&seen.pings.lock().unwrap()));
    println!("API calls at {:?} (3 per second)", offsets(&seen.api_calls.lock().unwrap()));
    Ok(())
}
