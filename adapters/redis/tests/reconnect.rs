//! The adapter survives losing its connections: it reconnects, workers keep pulling, and no job
//! that Redis kept is lost. The connections are cut with `CLIENT KILL USER` for a Redis user of
//! the test's own, so that other tests on the same server are not disturbed.

mod support;

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use jobs::prelude::*;
use jobs::{Inspect, Registry};
use jobs_redis::RedisAdapter;
use jobs_redis::redis::aio::ConnectionManager;

/// The numbers of the jobs that ran, and how many runs there were.
#[derive(Default)]
struct Ran(Mutex<(HashSet<u32>, usize)>);

#[job]
async fn numbered(n: u32, ran: State<Ran>) {
    tokio::time::sleep(Duration::from_millis(1)).await;
    let mut ran = ran.0.lock().unwrap();
    ran.0.insert(n);
    ran.1 += 1;
}

/// A Redis user allowed only the test's keys and channels, deleted when dropped.
struct User {
    admin: ConnectionManager,
    name: String,
}

impl Drop for User {
    fn drop(&mut self) {
        let mut admin = self.admin.clone();
        let name = self.name.clone();
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async {
                let _: Result<(), _> =
                    jobs_redis::redis::cmd("ACL").arg("DELUSER").arg(&name).query_async(&mut admin).await;
            });
        })
        .join();
    }
}

async fn kill_connections(admin: &mut ConnectionManager, user: &str) -> u64 {
    jobs_redis::redis::cmd("CLIENT").arg("KILL").arg("USER").arg(user).query_async(admin).await.unwrap()
}

async fn wait_until(what: &str, ran: &Ran, mut done: impl FnMut(&(HashSet<u32>, usize)) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done(&ran.0.lock().unwrap()) {
        assert!(Instant::now() < deadline, "timed out waiting for {what}: {} ran", ran.0.lock().unwrap().0.len());
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_connections_reconnect_and_lose_no_job() {
    const JOBS: u32 = 2_000;
    let Some((setup, _cleanup)) = support::adapter("killed_connections_reconnect_and_lose_no_job").await else {
        return;
    };
    let mut admin = setup.connection();
    let name = format!("jobs-test-{}", setup.prefix().trim_end_matches(':').rsplit(':').next().unwrap());
    let password = format!("pw-{name}");
    let _: () = jobs_redis::redis::cmd("ACL")
        .arg(&["SETUSER", &name, "on", &format!(">{password}"), "resetkeys", "resetchannels"][..])
        .arg(&[format!("~{}*", setup.prefix()), format!("&{}*", setup.prefix()), "+@all".to_owned()][..])
        .query_async(&mut admin)
        .await
        .unwrap();
    let _user = User { admin: admin.clone(), name: name.clone() };

    let url = support::url().replacen("://", &format!("://{name}:{password}@"), 1);
    let redis = RedisAdapter::builder().url(&url).prefix(setup.prefix()).connect().await.unwrap();
    assert!(!format!("{redis:?}").contains(&password), "the password leaked into Debug: {redis:?}");
    assert!(!redis.url().contains(&password));

    let mut registry = Registry::new();
    registry.register::<Numbered>().unwrap();
    let runtime = Runtime::builder().adapter(redis.clone()).registry(registry).state(Ran::default()).build().unwrap();
    let jobs: Vec<PendingJob> = (0..JOBS).map(|n| PendingJob::new(Numbered { n })).collect();
    runtime.perform_all_later(jobs).await.unwrap();
    let worker = Worker::builder()
        .runtime(&runtime)
        .concurrency(10)
        .poll_interval(Duration::from_millis(200))
        // A claim whose reply was lost with its connection is held until its lease expires.
        .lease(Duration::from_secs(2))
        .build()
        .unwrap()
        .start();
    let ran = runtime.state::<Ran>().unwrap();

    // Cut every connection of the adapter three times while the worker drains.
    for share in [4, 2] {
        wait_until("part of the jobs to run", &ran, |(seen, _)| seen.len() as u32 >= JOBS / share).await;
        assert!(kill_connections(&mut admin, &name).await >= 1, "the adapter had a connection to kill");
    }
    wait_until("every job to run at least once", &ran, |(seen, _)| seen.len() as u32 == JOBS).await;

    // Idle, cut again: the worker keeps pulling, and an enqueue still wakes it.
    tokio::time::sleep(Duration::from_millis(300)).await;
    kill_connections(&mut admin, &name).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    runtime.perform_later(Numbered { n: JOBS }).await.unwrap();
    wait_until("a job enqueued after the connections were cut to run", &ran, |(seen, _)| seen.contains(&JOBS)).await;
    worker.shutdown().await.unwrap();

    let counts = redis.counts().await.unwrap();
    assert_eq!(counts.pending(), 0, "every job is done: {counts:?}");
    let (_, runs) = *ran.0.lock().unwrap();
    eprintln!("{runs} runs for {} jobs across three cut connections", JOBS + 1);
    redis.close().await.unwrap();
}
