//! Rails and Rust on one Redis, both directions, against real Ruby: Active Job on Sidekiq
//! (Debian's ruby-activejob and ruby-sidekiq; scripts in tests/sidekiq/).
//!
//! Sidekiq has no key prefix of its own, so this test uses a logical database of its own
//! (`JOBS_TEST_SIDEKIQ_DB`, default 13), emptied before and after. It skips with a notice where
//! Ruby with Sidekiq and Active Job is missing, or Redis is unreachable.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use jobs::prelude::*;
use jobs::{Inspect, JobState, Registry};
use jobs_conformance::unavailable;
use jobs_core::ProcessState;
use jobs_redis::RedisAdapter;
use serde_json::Value;

/// What the Rust HelloJob performed: (name, count, provider job id, job id).
#[derive(Default)]
struct Seen(Mutex<Vec<(String, i64, String, String)>>);

#[job(name = "HelloJob", queue = "ruby")]
async fn hello(name: String, count: i64, seen: State<Seen>, ctx: &JobContext) {
    let jid = ctx.provider_job_id().unwrap_or_default().to_owned();
    seen.0.lock().unwrap().push((name, count, jid, ctx.job_id().to_owned()));
}

/// Released by the test: a job that runs until then, so that Sidekiq sees it busy.
#[derive(Default)]
struct Gate(tokio::sync::Notify);

#[job(name = "SlowJob", queue = "rust")]
async fn slow(gate: State<Gate>) {
    gate.0.notified().await;
}

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sidekiq").join(name)
}

fn ruby_with_sidekiq() -> bool {
    let probe = Command::new("ruby").args(["-e", "require 'sidekiq'; require 'active_job'"]).output();
    probe.is_ok_and(|out| out.status.success()) && Command::new("sidekiq").arg("--version").output().is_ok()
}

/// Runs a Ruby script of tests/sidekiq against `url`; returns its output as JSON.
fn ruby(name: &str, url: &str) -> Value {
    ruby_with(name, url, &[])
}

/// Runs a Ruby script of tests/sidekiq with arguments.
fn ruby_with(name: &str, url: &str, args: &[&str]) -> Value {
    let out = Command::new("ruby").arg(script(name)).args(args).env("REDIS_URL", url).output().expect("ruby runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{name} failed:\n{stdout}{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{name} printed no JSON ({e}): {stdout}"))
}

/// The test's URL: the server of the other tests, on the test's own database.
fn database_url(db: u32) -> String {
    let url = support::url();
    let (scheme, rest) = url.split_once("://").unwrap_or(("redis", &url));
    let authority = rest.split(['/', '?']).next().unwrap_or(rest);
    format!("{scheme}://{authority}/{db}")
}

/// The Sidekiq server process, stopped (TERM, as in production) when the test ends either way.
struct Sidekiq(Option<std::process::Child>);

impl Sidekiq {
    fn stop(&mut self) -> std::process::Output {
        let child = self.0.take().expect("running");
        let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
        child.wait_with_output().expect("sidekiq stops")
    }
}

impl Drop for Sidekiq {
    fn drop(&mut self) {
        if self.0.is_some() {
            self.stop();
        }
    }
}

async fn flush(redis: &RedisAdapter) {
    let mut conn = redis.connection();
    let _: () = jobs_redis::redis::cmd("FLUSHDB").query_async(&mut conn).await.expect("FLUSHDB");
}

async fn eventually(what: &str, mut done: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rails_and_rust_share_sidekiq_queues() {
    if !ruby_with_sidekiq() {
        jobs_conformance::skip_notice(
            "Ruby",
            "SKIPPED rails_and_rust_share_sidekiq_queues: Ruby with Sidekiq and Active Job not found (apt-get install ruby-sidekiq ruby-activejob)",
        );
        return;
    }
    let db = std::env::var("JOBS_TEST_SIDEKIQ_DB").ok().and_then(|d| d.parse().ok()).unwrap_or(13);
    assert_ne!(db, 0, "the Sidekiq test empties its database: never give it database 0");
    let url = database_url(db);
    let redis = match RedisAdapter::connect(&url).await {
        Ok(redis) => redis,
        Err(error) => return unavailable::<()>("Redis", "rails_and_rust_share_sidekiq_queues", error).unwrap_or(()),
    };
    flush(&redis).await;
    let mut registry = Registry::new();
    registry.register::<Hello>().unwrap();
    registry.register::<Slow>().unwrap();
    let runtime = Runtime::builder()
        .adapter(redis.clone())
        .registry(registry)
        .state(Seen::default())
        .state(Gate::default())
        .build()
        .unwrap();

    // Rails -> Rust: Active Job's Sidekiq adapter pushes, a Rust worker performs.
    let pushed = ruby("enqueue.rb", &url);
    // A short lease: the worker beats (and so reports to Sidekiq's process list) every 100 ms.
    let worker = Worker::builder()
        .runtime(&runtime)
        .queues(["rust"])
        .poll_interval(Duration::from_millis(100))
        .lease(Duration::from_millis(300))
        .build()
        .unwrap();
    let worker_id = worker.id().to_owned();
    let worker = worker.start();
    let seen = runtime.state::<Seen>().unwrap();
    eventually("Rust to perform both jobs Rails pushed", async || seen.0.lock().unwrap().len() == 2).await;

    // While it runs, Sidekiq's API (and so Sidekiq Web's Busy page) lists the Rust worker, and
    // the job it is busy with.
    let busy = runtime.perform_later(Slow {}).await.unwrap().provider_job_id.unwrap();
    let mut running = Value::Null;
    eventually("Sidekiq to see the Rust worker busy", async || {
        running = ruby("inspect.rb", &url);
        running["workers"].as_array().is_some_and(|w| w.iter().any(|w| w["jid"] == busy.as_str()))
    })
    .await;
    let process =
        running["processes"].as_array().unwrap().iter().find(|p| p["identity"] == worker_id.as_str()).cloned();
    let process = process.unwrap_or_else(|| panic!("the Rust worker is not in Sidekiq's process list: {running}"));
    assert_eq!(
        (process["queues"].clone(), process["labels"].clone(), process["busy"].as_u64()),
        (serde_json::json!(["rust"]), serde_json::json!(["jobs (Rust)"]), Some(1))
    );
    let work = running["workers"].as_array().unwrap().iter().find(|w| w["jid"] == busy.as_str()).unwrap();
    assert_eq!((work["process"].as_str(), work["queue"].as_str()), (Some(worker_id.as_str()), Some("rust")));
    assert_eq!(work["class"].as_str(), Some("SlowJob"), "{work}");
    assert!(work["run_at"].as_i64().is_some_and(|at| at > 1_600_000_000), "{work}");

    // Quieting it from Ruby, as Sidekiq Web's "Quiet" button does, reaches the Rust worker.
    assert_eq!(ruby_with("quiet.rb", &url, &[&worker_id])["found"], true);
    eventually("the Rust worker to go quiet", async || {
        let processes = redis.processes().await.unwrap();
        processes.iter().any(|p| p.id == worker_id && p.state == ProcessState::Quiet)
    })
    .await;
    let view = ruby("inspect.rb", &url);
    let quiet = view["processes"].as_array().unwrap().iter().find(|p| p["identity"] == worker_id.as_str());
    assert_eq!(quiet.map(|p| p["quiet"].clone()), Some(Value::from("true")), "{view}");
    runtime.state::<Gate>().unwrap().0.notify_one();
    worker.shutdown().await.unwrap();
    let mut performed = seen.0.lock().unwrap().clone();
    performed.sort();
    assert_eq!(
        (performed[0].0.as_str(), performed[0].1, performed[0].2.as_str()),
        ("later", 7, pushed["later"].as_str().unwrap())
    );
    assert_eq!(
        (performed[1].0.as_str(), performed[1].1, performed[1].2.as_str()),
        ("world", 42, pushed["now"].as_str().unwrap())
    );
    let completed = redis.find(pushed["now"].as_str().unwrap()).await.unwrap().expect("the job is findable");
    assert_eq!((completed.state, completed.attempts), (JobState::Completed, 1));

    // Rust -> Rails: Rust pushes, Sidekiq's Web UI shows the jobs, Sidekiq performs them.
    let ok = runtime.perform_later(Hello { name: "from rust".into(), count: 3 }).await.unwrap();
    let boom = runtime.perform_later(Hello { name: "boom".into(), count: 1 }).await.unwrap();
    let someday = Hello::set().runtime(&runtime).wait(Duration::from_secs(3600));
    let someday = someday.enqueue(Hello { name: "someday".into(), count: 9 }).await.unwrap();
    let jid = |enqueued: &jobs::Enqueued| enqueued.provider_job_id.clone().unwrap();

    let view = ruby("inspect.rb", &url);
    let queued = view["queued"].as_array().unwrap().iter().find(|j| j["jid"] == jid(&ok).as_str()).expect("queued");
    assert_eq!((queued["class"].as_str(), queued["queue"].as_str()), (Some("HelloJob"), Some("ruby")), "{view}");
    assert_eq!(queued["args"], serde_json::json!(["from rust", 3]), "{view}");
    assert!(queued["enqueued_at"].as_f64().is_some() && queued["created_at"].as_f64().is_some(), "{view}");
    assert_eq!(view["queues"]["ruby"], 2, "{view}");
    let scheduled = &view["scheduled"][0];
    assert_eq!(
        (scheduled["class"].as_str(), scheduled["jid"].as_str()),
        (Some("HelloJob"), Some(jid(&someday).as_str()))
    );
    let due = someday.scheduled_at.unwrap().timestamp_micros() as f64 / 1e6;
    assert!((scheduled["at"].as_f64().unwrap() - due).abs() < 0.001, "scheduled at {} for {due}", scheduled["at"]);
    let listed = view["processes"].as_array().unwrap().iter().any(|p| p["identity"] == worker_id.as_str());
    assert!(!listed, "a stopped Rust worker leaves Sidekiq's process list (no ghost on the Busy page): {view}");

    let performed_file = std::env::temp_dir().join(format!("jobs-sidekiq-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&performed_file);
    let mut sidekiq = Sidekiq(Some(
        Command::new("sidekiq")
            .args([
                "-r".as_ref(),
                script("app.rb").as_os_str(),
                "-q".as_ref(),
                "ruby".as_ref(),
                "-c".as_ref(),
                "2".as_ref(),
            ])
            .env("REDIS_URL", &url)
            .env("PERFORMED", &performed_file)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("sidekiq starts"),
    ));
    let mut conn = redis.connection();
    eventually("Sidekiq to perform the job Rust pushed and retry the failing one", async || {
        let retries: u64 = jobs_redis::redis::cmd("ZCARD").arg("retry").query_async(&mut conn).await.unwrap_or(0);
        retries == 1 && std::fs::read_to_string(&performed_file).is_ok_and(|text| text.contains("from rust"))
    })
    .await;
    let stopped = sidekiq.stop();
    assert!(stopped.status.success(), "sidekiq: {}", String::from_utf8_lossy(&stopped.stderr));

    let line = std::fs::read_to_string(&performed_file).unwrap();
    let _ = std::fs::remove_file(&performed_file);
    let run: Value = serde_json::from_str(line.trim()).unwrap();
    assert_eq!((run["name"].as_str(), run["count"].as_i64()), (Some("from rust"), Some(3)));
    assert_eq!((run["jid"].as_str(), run["job_id"].as_str()), (Some(jid(&ok).as_str()), Some(ok.job_id.as_str())));

    redis.close().await.unwrap();
    let view = ruby("inspect.rb", &url);
    let counted = (view["stats"]["processed"].as_u64(), view["stats"]["failed"].as_u64());
    assert_eq!(counted, (Some(5), Some(1)), "Sidekiq's counters add up both sides' runs: {view}");
    let retry = &view["retries"][0];
    assert_eq!(
        (retry["class"].as_str(), retry["jid"].as_str()),
        (Some("HelloJob"), Some(jid(&boom).as_str())),
        "{view}"
    );
    assert_eq!((retry["error_class"].as_str(), retry["retry_count"].as_i64()), (Some("ArgumentError"), Some(0)));
    let failed = redis.find(&jid(&boom)).await.unwrap().expect("Rust finds the job Sidekiq retries");
    assert_eq!(failed.state, JobState::Retrying);
    assert_eq!(
        failed.errors.iter().map(|e| (e.class.as_str(), e.message.as_str())).collect::<Vec<_>>(),
        [("ArgumentError", "boom is not welcome here")]
    );

    flush(&redis).await;
}
