//! `work` in an application's binary: it runs the jobs compiled in, serves the health endpoint,
//! registers its process, goes quiet on SIGTSTP, and shuts down gracefully when asked (by the
//! application, or by an operator's `stop`).

#![cfg(feature = "sqlite")]

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use jobs_cli::{Cli, Exit};
use jobs_core::{Inspect, JobState, ProcessCommand, ProcessState, State};
use jobs_macros::job;
use jobs_sqlite::SqliteAdapter;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// What the jobs saw, shared with them as application state.
#[derive(Default)]
struct Seen(Mutex<Vec<u64>>);

#[job(crate = "::jobs_core", queue = "cli_work")]
async fn note(n: u64, seen: State<Seen>) {
    seen.0.lock().unwrap().push(n);
}

#[job(crate = "::jobs_core", queue = "cli_work")]
async fn refuse(n: u64) -> Result<(), String> {
    Err(format!("refusing {n}"))
}

/// `GET path` on `addr`: the status code and body, or `None` when nothing listens.
async fn get(addr: &str, path: &str) -> Option<(u16, String)> {
    let mut stream = tokio::net::TcpStream::connect(addr).await.ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await.ok()?;
    let status = response.split_whitespace().nth(1)?.parse().ok()?;
    let body = response.split_once("\r\n\r\n").map(|(_, body)| body.to_owned()).unwrap_or_default();
    Some((status, body))
}

/// Waits until `condition` holds, failing after a generous limit.
async fn eventually<F: std::future::Future<Output = bool>>(what: &str, mut condition: impl FnMut() -> F) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !condition().await {
        assert!(tokio::time::Instant::now() < deadline, "{what} did not happen within 30 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn work_runs_the_jobs_compiled_in_serves_health_and_stops_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jobs.db");
    let sqlite = SqliteAdapter::open(&path).await.unwrap();
    for n in 1..=3 {
        support::enqueue(&sqlite, support::job("Note", "cli_work", json!([n]))).await;
    }
    support::enqueue(&sqlite, support::job("Refuse", "cli_work", json!([4]))).await;
    let addr = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().to_string()
    };

    let seen = Arc::new(Seen::default());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let cli = Cli::new()
        .configure({
            let seen = seen.clone();
            move |runtime| runtime.shared_state(seen)
        })
        .shutdown_on(async {
            let _ = stopped.await;
        });
    let args = [
        "myapp",
        "--database-url",
        &path.display().to_string(),
        "work",
        "--queues",
        "cli_work",
        "--concurrency",
        "2",
        "--max-retries",
        "0",
        "--health-addr",
        &addr,
    ]
    .map(str::to_owned);
    let worker = tokio::spawn(cli.run_with(args));

    eventually("/healthz answering", || async { get(&addr, "/healthz").await == Some((200, "ok\n".into())) }).await;
    assert_eq!(get(&addr, "/readyz").await, Some((200, "ready\n".into())));
    eventually("every job run", || async {
        let counts = sqlite.counts().await.unwrap();
        counts.total(JobState::Completed) == 3 && counts.total(JobState::Dead) == 1
    })
    .await;
    let mut ran = seen.0.lock().unwrap().clone();
    ran.sort_unstable();
    assert_eq!(ran, [1, 2, 3]);
    let dead = sqlite.list(&jobs_core::ListParams::new().state(JobState::Dead)).await.unwrap();
    assert_eq!(dead.jobs[0].errors[0].message, "refusing 4", "--max-retries 0 sends a failed job to the dead set");

    stop.send(()).unwrap();
    assert_eq!(worker.await.unwrap(), Exit::Ok);
    assert_eq!(get(&addr, "/healthz").await, None, "the health endpoint stops with the worker");
    eventually("the stopped worker leaving the process list", || async {
        sqlite.processes().await.unwrap().is_empty()
    })
    .await;

    // Again, with heartbeats every second: listed as a process, SIGTSTP makes it quiet, and a
    // stop from an operator ends it.
    let args = [
        "myapp",
        "--database-url",
        &path.display().to_string(),
        "work",
        "--queues",
        "cli_work",
        "--lease",
        "3s",
        "--health-addr",
        &addr,
    ]
    .map(str::to_owned);
    let worker = tokio::spawn(Cli::new().run_with(args));
    eventually("/healthz answering", || async { get(&addr, "/healthz").await.is_some() }).await;
    eventually("the worker listed as running", || async {
        let processes = sqlite.processes().await.unwrap();
        processes.len() == 1 && processes[0].state == ProcessState::Running && processes[0].queues == ["cli_work"]
    })
    .await;
    let kill = std::process::Command::new("kill").args(["-TSTP", &std::process::id().to_string()]).status().unwrap();
    assert!(kill.success());
    eventually("the worker listed as quiet", || async {
        sqlite.processes().await.unwrap().first().is_some_and(|p| p.state == ProcessState::Quiet)
    })
    .await;
    let id = sqlite.processes().await.unwrap()[0].id.clone();
    assert!(sqlite.signal(&id, ProcessCommand::Stop).await.unwrap());
    let exit = tokio::time::timeout(Duration::from_secs(30), worker).await.expect("the worker stops when told to");
    assert_eq!(exit.unwrap(), Exit::Ok);
}

/// `work --metrics` serves `/metrics` on the health endpoint: the documented series, in
/// Prometheus' naming, scraped over HTTP. The only test of this binary that installs a recorder.
#[tokio::test(flavor = "multi_thread")]
async fn work_serves_prometheus_metrics_on_the_health_endpoint() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jobs.db");
    let sqlite = SqliteAdapter::open(&path).await.unwrap();
    support::enqueue(&sqlite, support::job("Note", "cli_metrics", json!([1]))).await;
    support::enqueue(&sqlite, support::job("Refuse", "cli_metrics", json!([2]))).await;
    let addr = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().to_string()
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let seen = Arc::new(Seen::default());
    let cli = Cli::new().configure(move |runtime| runtime.shared_state(seen)).shutdown_on(async {
        let _ = stopped.await;
    });
    let database = path.display().to_string();
    let args = ["myapp", "--database-url", &database, "work", "--queues", "cli_metrics", "--max-retries", "0"];
    let args = args.into_iter().chain(["--health-addr", &addr, "--metrics"]).map(str::to_owned).collect::<Vec<_>>();
    let worker = tokio::spawn(cli.run_with(args));

    eventually("both jobs run", || async {
        let counts = sqlite.counts().await.unwrap();
        counts.total(JobState::Completed) == 1 && counts.total(JobState::Dead) == 1
    })
    .await;
    eventually("/metrics with the runs", || async {
        get(&addr, "/metrics")
            .await
            .is_some_and(|(status, body)| status == 200 && body.contains("jobs_processed_total{"))
    })
    .await;
    let (_, scrape) = get(&addr, "/metrics").await.unwrap();
    let class = |c: &str| format!(r#"messaging_destination_name="cli_metrics",jobs_class="{c}""#);
    for series in [
        format!(r#"jobs_processed_total{{{},jobs_outcome="performed"}} 1"#, class("Note")),
        format!(r#"jobs_processed_total{{{},jobs_outcome="failed"}} 1"#, class("Refuse")),
        format!(r#"jobs_failed_total{{{}}} 1"#, class("Refuse")),
        format!(r#"jobs_queue_latency_seconds_bucket{{{},le="300"}} 1"#, class("Note")),
        "# TYPE messaging_process_duration_seconds histogram".to_owned(),
        "# TYPE jobs_queue_size gauge".to_owned(),
        r#"jobs_queue_size{messaging_destination_name="cli_metrics",jobs_state="ready"}"#.to_owned(),
        r#"jobs_dead{messaging_destination_name="cli_metrics"}"#.to_owned(),
        r#"jobs_queue_oldest_ready_age_seconds{messaging_destination_name="cli_metrics"}"#.to_owned(),
        // Process-wide, and the other test of this binary runs a worker too: no exact value.
        "# TYPE jobs_worker_concurrency gauge".to_owned(),
    ] {
        assert!(scrape.contains(&series), "no `{series}` in the scrape:\n{scrape}");
    }
    stop.send(()).unwrap();
    assert_eq!(worker.await.unwrap(), Exit::Ok);
}
