//! The dashboard in a real Chromium, driven through chromedriver: every page loads with its
//! script under the strict CSP, a dead job retried leaves the dead list, a paused queue stops a
//! real worker taking its jobs, a bulk discard, a denied request, the XSS case, and the live
//! refresh. With `JOBS_WEB_SCREENSHOTS=DIR` it saves screenshots of the main pages there (the
//! README's come from `JOBS_WEB_SCREENSHOTS=$PWD/docs/screenshots` in the workspace root).
//!
//! Chromium and chromedriver come from Debian's `chromium` and `chromium-driver` packages (or
//! `JOBS_CHROMIUM` and `JOBS_CHROMEDRIVER`); without them the test says so and skips, unless
//! `JOBS_REQUIRE_SERVICES=1`, where it fails.

mod support;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use chrono::{TimeDelta, Timelike, Utc};
use fantoccini::{Client, ClientBuilder, Locator};
use jobs_core::adapter::{Adapter, HistoryPoint};
use jobs_core::{Inspect, JobState, ListParams, Recurring, RecurringTasks, Registry, Runtime, State, Worker};
use jobs_macros::job;
use jobs_sqlite::SqliteAdapter;
use jobs_web::Dashboard;
use serde_json::json;
use support::{dead, enqueue, job};

/// What the worker's jobs did, shared with them as application state.
#[derive(Default)]
struct Delivered(Mutex<Vec<u64>>);

#[job(crate = "::jobs_core", queue = "mailers")]
async fn deliver_newsletter(n: u64, delivered: State<Delivered>) {
    delivered.0.lock().unwrap().push(n);
}

#[job(crate = "::jobs_core", queue = "default")]
async fn import_report(n: u64) -> Result<(), String> {
    if n.is_multiple_of(4) { Err(format!("upstream answered 503 for report {n}")) } else { Ok(()) }
}

/// Holds the account syncs running until the test opens it (closing the semaphore).
struct Gate(tokio::sync::Semaphore);

/// One sync of an account at a time: the others wait, blocked, while the gate is shut.
#[job(crate = "::jobs_core", queue = "sync", limits_concurrency(to = 1, key = |job| job.account, duration = "5m"))]
async fn sync_account(account: u64, gate: State<Gate>) {
    let _ = (account, gate.0.acquire().await);
}

#[job(crate = "::jobs_core", queue = "payments", log_arguments = false)]
async fn charge_card(number: String, cents: u64) {
    let _ = (number, cents);
}

const XSS: &str = "<script>alert(1)</script>";
const USER: &str = "ops";
const PASSWORD: &str = "correct horse";

/// Chromium and chromedriver, from `JOBS_CHROMIUM` / `JOBS_CHROMEDRIVER` or the `PATH`.
fn browser() -> Option<(PathBuf, PathBuf)> {
    fn find(variable: &str, names: &[&str]) -> Option<PathBuf> {
        if let Some(path) = std::env::var_os(variable) {
            return Some(PathBuf::from(path));
        }
        let path = std::env::var_os("PATH")?;
        std::env::split_paths(&path).flat_map(|dir| names.iter().map(move |name| dir.join(name))).find(|p| p.is_file())
    }
    Some((
        find("JOBS_CHROMIUM", &["chromium", "chromium-browser", "google-chrome"])?,
        find("JOBS_CHROMEDRIVER", &["chromedriver"])?,
    ))
}

/// chromedriver, stopped when dropped.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn start_driver(driver: &Path) -> (Driver, String) {
    let port = free_port();
    let child = Command::new(driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", driver.display()));
    let driver = Driver(child);
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return (driver, format!("http://127.0.0.1:{port}"));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("chromedriver did not listen on port {port}");
}

async fn open_browser(chromium: &Path, webdriver: &str, profile: &Path) -> Client {
    let args = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-dev-shm-usage",
        "--window-size=1280,900",
        "--hide-scrollbars",
    ];
    let mut args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    args.push(format!("--user-data-dir={}", profile.display()));
    let mut capabilities = serde_json::Map::new();
    capabilities.insert("goog:chromeOptions".into(), json!({ "binary": chromium, "args": args }));
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(webdriver)
        .await
        .expect("a Chromium session")
}

/// Waits until `condition` holds, failing after a generous limit.
async fn eventually<F: std::future::Future<Output = bool>>(what: &str, mut condition: impl FnMut() -> F) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !condition().await {
        assert!(tokio::time::Instant::now() < deadline, "{what} did not happen within 30 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn text(client: &Client, css: &str) -> String {
    client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}")).text().await.unwrap()
}

async fn click(client: &Client, css: &str) {
    client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}")).click().await.unwrap();
}

/// Clicks a button that submits a form and waits for the page it leads to.
async fn submit(client: &Client, css: &str, confirm: bool) {
    click(client, css).await;
    if confirm {
        client.accept_alert().await.expect("a confirmation dialog");
    }
    client.wait().for_element(Locator::Css(".notice")).await.expect("the page after the action, with its notice");
}

/// The store the dashboard shows: a real worker's history, retries and errors, dead jobs,
/// scheduled jobs, a job with a script as its argument and one whose arguments are secret.
async fn seed(sqlite: &Arc<dyn Adapter>) -> (String, String) {
    let store = sqlite.as_ref();
    let mut dead_ids = Vec::new();
    for (n, message) in [
        (1, "Net::ReadTimeout: smtp.example.com did not answer within 30s"),
        (2, "card declined: insufficient funds"),
        (3, "ActiveJob::DeserializationError: Couldn't find Invoice with 'id'=9"),
    ] {
        dead_ids.push(dead(store, "SendInvoice", "billing", json!([{"invoice": 4000 + n}]), message).await);
    }
    for n in 0..3 {
        enqueue(store, job("ArchiveBatch", "bulk", json!([n]))).await;
    }
    for n in 0..4 {
        let at = jobs_core::adapter::format_time(&(Utc::now() + TimeDelta::hours(n + 1)));
        let payload = json!({"job_class": "NightlyDigest", "job_id": format!("00000000-0000-4000-9000-00000000000{n}"),
            "queue_name": "reports", "arguments": [n], "scheduled_at": at});
        let data = jobs_core::JobData::from_json(&payload.to_string()).unwrap();
        store.enqueue(&jobs_core::adapter::NewJob::new(data).unwrap()).await.unwrap();
    }
    let xss = enqueue(store, job("RenderComment", "untrusted", json!([XSS, {"author": "mallory"}]))).await;
    enqueue(store, job("ChargeCard", "payments", json!(["4242 4242 4242 4242", 1999]))).await;
    // An hour of history, as workers record it, so the chart has something to show.
    let now = Utc::now().with_second(0).unwrap().with_nanosecond(0).unwrap();
    let points: Vec<HistoryPoint> = (1..60)
        .map(|m| HistoryPoint {
            minute: now - TimeDelta::minutes(m),
            queue: "default".into(),
            class: "ImportReport".into(),
            processed: 40 + (m as u64 * 37) % 50,
            failed: if m % 7 == 0 { 6 } else { (m as u64 * 13) % 4 },
        })
        .collect();
    store.backend().unwrap().record_history(&points).await.unwrap();
    (dead_ids[0].clone(), xss)
}

async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// `GET path` on `addr` without credentials: the whole answer.
async fn raw_get(addr: SocketAddr, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    answer
}

async fn count(inspect: &dyn Inspect, queue: &str, state: JobState) -> u64 {
    inspect.counts().await.unwrap().get(queue, state)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_in_chromium() {
    let Some((chromium, driver)) = browser() else {
        let notice = "Chromium or chromedriver is not installed (Debian: apt-get install chromium chromium-driver; \
                      or set JOBS_CHROMIUM and JOBS_CHROMEDRIVER): the browser tests did not run";
        assert!(std::env::var("JOBS_REQUIRE_SERVICES").as_deref() != Ok("1"), "{notice}");
        eprintln!("SKIPPED: {notice}");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let sqlite: Arc<dyn Adapter> = Arc::new(SqliteAdapter::open(dir.path().join("jobs.db")).await.unwrap());
    let inspect = sqlite.inspector().unwrap();
    let (dead_id, xss_id) = seed(&sqlite).await;

    // A real worker on `mailers` and `default`, heart-beating every second.
    let delivered = Arc::new(Delivered::default());
    let gate = Arc::new(Gate(tokio::sync::Semaphore::new(0)));
    let runtime = Runtime::builder()
        .shared_adapter(sqlite.clone())
        .registry(Registry::from_inventory().unwrap())
        .shared_state(delivered.clone())
        .shared_state(gate.clone())
        .build()
        .unwrap();
    let worker = Worker::builder()
        .runtime(&runtime)
        .queues(["mailers", "default", "sync"])
        .concurrency(4)
        .lease(Duration::from_secs(3))
        .poll_interval(Duration::from_millis(100))
        .build()
        .unwrap()
        .start();
    for n in 1..=12 {
        enqueue(sqlite.as_ref(), job("ImportReport", "default", json!([n]))).await;
    }
    enqueue(sqlite.as_ref(), job("DeliverNewsletter", "mailers", json!([1]))).await;
    eventually("the worker delivering the first newsletter", || async { delivered.0.lock().unwrap().contains(&1) })
        .await;
    eventually("the worker registered", || async { !inspect.processes().await.unwrap().is_empty() }).await;
    // Three syncs of one account under a limit of one: one runs (held at the gate), two wait.
    for _ in 0..3 {
        runtime.perform_later(SyncAccount { account: 7 }).await.unwrap();
    }
    eventually("two syncs blocked", || async { count(inspect, "sync", JobState::Blocked).await == 2 }).await;
    // Two recurring tasks, one of which ran.
    let tasks = RecurringTasks::new(&runtime).unwrap();
    let digest = Recurring::new("nightly-digest", "30 2 * * *").class("NightlyDigest", vec![]).queue("reports");
    tasks.add(digest.time_zone("Europe/Paris").description("Yesterday's numbers, mailed")).await.unwrap();
    tasks.add(Recurring::new("sweep-uploads", "every 15 minutes").class("SweepUploads", vec![])).await.unwrap();
    tasks.run_now("nightly-digest").await.unwrap();

    let app = Router::new()
        .nest("/admin/jobs", Dashboard::for_runtime(&runtime).open().refresh(Duration::ZERO).router())
        .nest("/live", Dashboard::new(sqlite.clone()).open().refresh(Duration::from_secs(1)).router())
        .nest("/locked", Dashboard::new(sqlite.clone()).basic_auth(USER, PASSWORD).router());
    let addr = serve(app).await;
    let base = format!("http://{addr}/admin/jobs");

    let (_driver, webdriver) = start_driver(&driver).await;
    let profile = tempfile::tempdir().unwrap();
    let client = open_browser(&chromium, &webdriver, profile.path()).await;

    // Every page loads, under the prefix it is mounted at.
    let pages = [
        ("", "Overview"),
        ("/queues", "Queues"),
        ("/jobs", "Jobs"),
        ("/processes", "Processes"),
        ("/recurring", "Recurring tasks"),
    ];
    for (path, heading) in pages {
        client.goto(&format!("{base}{path}")).await.unwrap();
        assert_eq!(text(&client, "h1").await, heading, "{path}");
    }
    client.goto(&base).await.unwrap();
    assert!(client.find(Locator::Css("svg.chart rect.processed")).await.is_ok(), "the chart has bars");
    client.goto(&format!("{base}/processes")).await.unwrap();
    assert!(text(&client, "section.process").await.contains("mailers, default"), "the worker is listed");

    // The XSS case: the argument is shown as text, no script runs.
    client.goto(&format!("{base}/jobs/{xss_id}")).await.unwrap();
    assert!(text(&client, "#arguments").await.contains(XSS), "the argument is shown as text");
    assert!(client.get_alert_text().await.is_err(), "no alert: the argument did not run");
    let scripts = client.execute("return document.querySelectorAll('main script').length", vec![]).await.unwrap();
    assert_eq!(scripts, json!(0));
    // A class declared log_arguments = false shows its arguments redacted.
    client.goto(&format!("{base}/jobs?queue=payments")).await.unwrap();
    let row = text(&client, "table.jobs tbody tr").await;
    assert!(row.contains("ChargeCard") && row.contains("[redacted]") && !row.contains("4242"), "{row}");

    // The blocked jobs have a tab of their own, and a blocked job's page names its key.
    client.goto(&format!("{base}/jobs?state=blocked")).await.unwrap();
    let blocked = client.find_all(Locator::Css("table.jobs tbody tr")).await.unwrap();
    assert_eq!(blocked.len(), 2, "the two waiting syncs");
    let blocked_id = blocked[0].attr("data-job-id").await.unwrap().expect("a job id on the row");
    client.goto(&format!("{base}/jobs/{blocked_id}")).await.unwrap();
    let detail = text(&client, "main").await;
    assert!(detail.contains("blocked") && detail.contains("concurrency key"), "{detail}");
    assert!(detail.contains("SyncAccount/7"), "{detail}");
    click(&client, "a[href*='state=blocked']").await;
    client.wait().for_element(Locator::Css("table.jobs")).await.unwrap();
    let same_key = client.find_all(Locator::Css("table.jobs tbody tr")).await.unwrap();
    assert_eq!(same_key.len(), 2, "the key's link lists the jobs blocked behind it");

    screenshots(&client, &base, &dead_id, &blocked_id).await;

    // Pause a recurring task from its page: it shows as paused, and the store has it paused.
    client.goto(&format!("{base}/recurring")).await.unwrap();
    assert!(text(&client, "tr[data-task='nightly-digest']").await.contains("NightlyDigest"));
    submit(&client, "tr[data-task='sweep-uploads'] button[value='pause']", false).await;
    eventually("the task paused", || async { tasks.get("sweep-uploads").await.unwrap().unwrap().state.paused }).await;
    assert!(text(&client, "tr[data-task='sweep-uploads']").await.contains("paused"));

    // Retry a dead job: ticking it enables the bulk buttons (the script runs under the CSP),
    // and it leaves the dead list.
    client.goto(&format!("{base}/jobs?state=dead&queue=billing")).await.unwrap();
    let retry = client.find(Locator::Css("button[data-bulk][value=retry]")).await.unwrap();
    assert_eq!(retry.attr("disabled").await.unwrap().as_deref(), Some("true"), "nothing selected yet");
    click(&client, &format!("tr[data-job-id='{dead_id}'] input[type=checkbox]")).await;
    assert_eq!(text(&client, "[data-selected]").await, "1 selected");
    submit(&client, "button[data-bulk][value=retry]", false).await;
    assert_eq!(text(&client, ".notice").await, "Retried 1 job.");
    assert!(client.find(Locator::Css(&format!("tr[data-job-id='{dead_id}']"))).await.is_err(), "left the dead list");
    assert_eq!(client.find_all(Locator::Css("table.jobs tbody tr")).await.unwrap().len(), 2, "the others stay");
    assert!(client.current_url().await.unwrap().query().is_some_and(|q| !q.contains("done=")), "the notice shows once");

    // Pause a queue: the worker stops taking its jobs, and takes them again once resumed.
    client.goto(&format!("{base}/queues")).await.unwrap();
    submit(&client, "tr[data-queue=mailers] button[value=pause]", false).await;
    assert_eq!(text(&client, "tr[data-queue=mailers] .badge").await, "paused");
    enqueue(sqlite.as_ref(), job("DeliverNewsletter", "mailers", json!([2]))).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(!delivered.0.lock().unwrap().contains(&2), "the paused queue's job did not run");
    assert_eq!(count(inspect, "mailers", JobState::Ready).await, 1, "it waits, ready");
    submit(&client, "tr[data-queue=mailers] button[value=resume]", false).await;
    eventually("the resumed queue's job running", || async { delivered.0.lock().unwrap().contains(&2) }).await;

    // Bulk discard: select every job of the page, confirm, and they are dead.
    client.goto(&format!("{base}/jobs?state=ready&queue=bulk")).await.unwrap();
    click(&client, "[data-select-all]").await;
    assert_eq!(text(&client, "[data-selected]").await, "3 selected");
    submit(&client, "button[data-bulk][value=discard]", true).await;
    assert_eq!(text(&client, ".notice").await, "Discarded 3 jobs to the dead set.");
    assert_eq!(text(&client, ".empty").await, "No jobs match.");
    assert_eq!(count(inspect, "bulk", JobState::Dead).await, 3);

    // Live refresh: a job enqueued meanwhile shows up without a reload.
    client.goto(&format!("http://{addr}/live/jobs?state=ready&queue=late")).await.unwrap();
    client.execute("window.notReloaded = true", vec![]).await.unwrap();
    let late = enqueue(sqlite.as_ref(), job("LateArrival", "late", json!([1]))).await;
    client
        .wait()
        .for_element(Locator::Css(&format!("tr[data-job-id='{late}']")))
        .await
        .expect("the new job appears by itself");
    assert_eq!(client.execute("return window.notReloaded === true", vec![]).await.unwrap(), json!(true));

    // Denied without credentials: Chromium gets the 401 challenge and shows nothing of the
    // dashboard; with the credentials it gets in.
    client.goto(&format!("http://{addr}/locked/queues")).await.unwrap();
    let denied = client.source().await.unwrap();
    assert!(!denied.contains("Queues") && client.find(Locator::Css("h1")).await.is_err(), "{denied}");
    // (Chromium holds the 401 challenge for a password prompt; what the server answered:)
    let answer = raw_get(addr, "/locked/queues").await;
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    assert!(answer.contains("www-authenticate: Basic realm=\"jobs\"") && !answer.contains("<h1>"), "{answer}");
    client.goto(&format!("http://{USER}:{}@{addr}/locked/queues", PASSWORD.replace(' ', "%20"))).await.unwrap();
    assert_eq!(text(&client, "h1").await, "Queues", "the right credentials get in");

    client.close().await.unwrap();
    gate.0.close();
    eventually("the blocked syncs ran once the gate opened", || async {
        count(inspect, "sync", JobState::Completed).await == 3
    })
    .await;
    worker.shutdown().await.unwrap();
    let list = inspect.list(&ListParams::new().state(JobState::Retrying)).await.unwrap();
    assert!(!list.jobs.is_empty(), "the failing imports wait for their retry, with their errors");
}

/// With `JOBS_WEB_SCREENSHOTS=DIR`: the main pages as PNG files in DIR, wide and on a phone.
async fn screenshots(client: &Client, base: &str, dead_id: &str, blocked_id: &str) {
    let Some(dir) = std::env::var_os("JOBS_WEB_SCREENSHOTS").map(PathBuf::from) else { return };
    std::fs::create_dir_all(&dir).unwrap();
    let pages = [
        ("overview", String::new()),
        ("queues", "/queues".to_owned()),
        ("jobs-dead", "/jobs?state=dead".to_owned()),
        ("job", format!("/jobs/{dead_id}")),
        ("processes", "/processes".to_owned()),
        ("recurring", "/recurring".to_owned()),
        ("jobs-blocked", "/jobs?state=blocked".to_owned()),
        ("job-blocked", format!("/jobs/{blocked_id}")),
    ];
    client.set_window_size(1280, 900).await.unwrap();
    for (name, path) in &pages {
        client.goto(&format!("{base}{path}")).await.unwrap();
        std::fs::write(dir.join(format!("{name}.png")), client.screenshot().await.unwrap()).unwrap();
    }
    client.set_window_size(390, 844).await.unwrap();
    client.goto(base).await.unwrap();
    std::fs::write(dir.join("overview-phone.png"), client.screenshot().await.unwrap()).unwrap();
    client.set_window_size(1280, 900).await.unwrap();
}
