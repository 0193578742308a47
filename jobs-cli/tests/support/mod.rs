//! What the CLI tests share: running the real `jobs` binary, seeding jobs through the Rust API,
//! and the scenario every backend goes through.

#![allow(dead_code, unreachable_pub)]

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use jobs_core::adapter::{Adapter, ClaimParams, ErrorRecord, Failure, NewJob};
use jobs_core::{JobData, JobState};
use serde_json::{Value, json};

/// One run of the binary.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Asserts the exit status, showing the output when it differs.
    #[track_caller]
    pub fn expect(self, code: i32) -> Run {
        assert_eq!(self.code, code, "exit status\nstdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        self
    }

    /// The output as JSON.
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", self.stdout))
    }
}

/// Runs `jobs ARGS` with no `JOBS_*` variable of the test's environment.
pub fn jobs(args: &[&str]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_jobs"));
    for (name, _) in std::env::vars() {
        if name.starts_with("JOBS_") || name == "RUST_LOG" {
            command.env_remove(name);
        }
    }
    let output = command.args(args).output().expect("run the jobs binary");
    Run {
        code: output.status.code().expect("exited, not killed"),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// A backend under test: the arguments that name it, and an adapter on it for seeding.
pub struct Backend {
    pub name: &'static str,
    pub args: Vec<String>,
    pub adapter: Arc<dyn Adapter>,
}

impl Backend {
    /// Runs `jobs` on this backend.
    pub fn jobs(&self, args: &[&str]) -> Run {
        jobs_on(&self.args, args)
    }
}

/// Runs `jobs BACKEND_ARGS ARGS`.
pub fn jobs_on(backend_args: &[String], args: &[&str]) -> Run {
    let mut all: Vec<&str> = backend_args.iter().map(String::as_str).collect();
    all.extend_from_slice(args);
    jobs(&all)
}

/// A payload of job class `class` on `queue` with `arguments`.
pub fn job(class: &str, queue: &str, arguments: Value) -> JobData {
    let job_id = format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        fastrand::u32(..),
        fastrand::u16(..),
        fastrand::u16(..0x1000),
        fastrand::u16(..0x1000),
        fastrand::u64(..1 << 48)
    );
    JobData::from_json(
        &json!({
            "job_class": class, "job_id": job_id, "queue_name": queue, "arguments": arguments,
            "executions": 0, "locale": "en", "enqueued_at": jobs_core::adapter::format_time(&chrono::Utc::now()),
        })
        .to_string(),
    )
    .unwrap()
}

/// Stores `data` ready now; returns its backend id.
pub async fn enqueue(adapter: &dyn Adapter, data: JobData) -> String {
    adapter.enqueue(&NewJob::new(data).unwrap()).await.unwrap().expect("a provider id")
}

/// Claims the next job of `queue` and fails it for good: it goes to the dead set.
pub async fn kill_next(adapter: &dyn Adapter, queue: &str, class: &str, message: &str) {
    let backend = adapter.backend().unwrap();
    let queues = [queue.to_owned()];
    let params = ClaimParams { queues: &queues, limit: 1, lease: Duration::from_secs(60), worker_id: "cli-test" };
    let claimed = backend.claim(params).await.unwrap().pop().expect("a job to claim");
    let error = ErrorRecord { class: class.into(), message: message.into(), attempt: 1, at: chrono::Utc::now() };
    let failure = Failure { ticket: claimed.ticket, error, retry_in: None, payload: None };
    assert_eq!(backend.fail(&[failure]).await.unwrap(), 1);
}

/// Claims the next job of `queue` and completes it.
pub async fn complete_next(adapter: &dyn Adapter, queue: &str) {
    let backend = adapter.backend().unwrap();
    let queues = [queue.to_owned()];
    let params = ClaimParams { queues: &queues, limit: 1, lease: Duration::from_secs(60), worker_id: "cli-test" };
    let claimed = backend.claim(params).await.unwrap().pop().expect("a job to claim");
    assert_eq!(backend.complete(&[claimed.ticket]).await.unwrap(), 1);
}

/// The row of `queue` in `stats`' table: its numbers from READY to COMPLETED.
fn stats_row(stdout: &str, queue: &str) -> Vec<u64> {
    let line = stdout.lines().find(|l| l.split_whitespace().next() == Some(queue)).unwrap_or_else(|| {
        panic!("no row for {queue} in:\n{stdout}");
    });
    line.split_whitespace().skip(1).take(6).map(|n| n.parse().unwrap()).collect()
}

fn queue_json<'a>(stats: &'a Value, queue: &str) -> &'a Value {
    stats["queues"].as_array().unwrap().iter().find(|q| q["queue"] == queue).unwrap_or_else(|| {
        panic!("no queue {queue} in {stats}");
    })
}

/// The operator's walk on one backend: stats → list dead → show → retry → it leaves the dead
/// list; pagination, discard, run-now, delete, purge, pause/resume, processes, check; exit
/// statuses along the way.
pub async fn walk(backend: &Backend) {
    let adapter = backend.adapter.as_ref();
    let first = job("SendInvoice", "billing", json!([42, "first@example.com"]));
    let first_job_id = first.job_id.clone();
    enqueue(adapter, first).await;
    enqueue(adapter, job("SendInvoice", "billing", json!([43]))).await;
    enqueue(adapter, job("SendInvoice", "billing", json!([44]))).await;
    enqueue(adapter, job("WelcomeEmail", "mailers", json!(["new@example.com"]))).await;
    let later = job("Reminder", "mailers", json!([7]));
    let later_job_id = later.job_id.clone();
    adapter.enqueue_at(&later, chrono::Utc::now() + chrono::Duration::hours(1)).await.unwrap();
    kill_next(adapter, "billing", "SmtpError", "smtp server busy").await;
    complete_next(adapter, "billing").await;
    // What a worker would have recorded for those two runs, and one more from elsewhere.
    let minute = chrono::DurationRound::duration_trunc(chrono::Utc::now(), chrono::TimeDelta::minutes(1)).unwrap();
    let point = |class: &str, processed, failed| jobs_core::HistoryPoint {
        minute,
        queue: "billing".into(),
        class: class.into(),
        processed,
        failed,
    };
    let points = [point("SendInvoice", 2, 1), point("Refund", 1, 0)];
    adapter.backend().unwrap().record_history(&points).await.unwrap();

    // stats: billing has one ready, one dead, one completed; mailers one ready, one scheduled.
    let stats = backend.jobs(&["stats"]).expect(0);
    assert_eq!(stats_row(&stats.stdout, "billing"), [1, 0, 0, 0, 1, 1], "{}", stats.stdout);
    assert_eq!(stats_row(&stats.stdout, "mailers"), [1, 1, 0, 0, 0, 0], "{}", stats.stdout);
    assert!(stats.stdout.contains("Last hour: 3 runs finished, 1 failed."), "{}", stats.stdout);
    let stats = backend.jobs(&["stats", "--json"]).expect(0).json();
    assert_eq!(queue_json(&stats, "billing")["counts"]["dead"], 1, "{stats}");
    assert_eq!(queue_json(&stats, "billing")["paused"], false, "{stats}");
    let failed: u64 = stats["history"].as_array().unwrap().iter().map(|p| p["failed"].as_u64().unwrap()).sum();
    assert_eq!(failed, 1, "{stats}");

    // The dead job, in the table and as JSON.
    let dead = backend.jobs(&["list", "--state", "dead"]).expect(0);
    assert!(
        dead.stdout.contains("SendInvoice") && dead.stdout.contains("SmtpError: smtp server busy"),
        "{}",
        dead.stdout
    );
    let page = backend.jobs(&["list", "--state", "dead", "--json"]).expect(0).json();
    let dead_jobs = page["jobs"].as_array().unwrap();
    assert_eq!(dead_jobs.len(), 1, "{page}");
    let id = dead_jobs[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(dead_jobs[0]["job_id"], first_job_id.as_str());

    // show, by backend id and by Active Job job id.
    let shown = backend.jobs(&["show", &id]).expect(0);
    for expected in ["state        dead", "first@example.com", "SmtpError", "smtp server busy", "SendInvoice"] {
        assert!(shown.stdout.contains(expected), "{expected} in:\n{}", shown.stdout);
    }
    let by_job_id = backend.jobs(&["show", &first_job_id, "--json"]).expect(0).json();
    assert_eq!(by_job_id["id"], id.as_str());
    assert_eq!(by_job_id["state"], "dead");

    // retry: it leaves the dead list; retrying it again finds nothing to retry.
    let retried = backend.jobs(&["retry", &id]).expect(0);
    assert!(retried.stdout.contains("Retried 1 job."), "{}", retried.stdout);
    let page = backend.jobs(&["list", "--state", "dead", "--json"]).expect(0).json();
    assert_eq!(page["jobs"].as_array().unwrap().len(), 0, "{page}");
    assert_eq!(backend.jobs(&["show", &id, "--json"]).expect(0).json()["state"], "ready");
    let again = backend.jobs(&["retry", &id]).expect(3);
    assert!(again.stderr.contains("nothing to retry"), "{}", again.stderr);

    // Pages: one job at a time, each once.
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut args =
            vec!["list", "--queue", "billing", "--class", "SendInvoice", "--state", "ready", "--limit", "1", "--json"];
        if let Some(cursor) = &after {
            args.extend(["--after", cursor.as_str()]);
        }
        let page = backend.jobs(&args).expect(0).json();
        seen.extend(page["jobs"].as_array().unwrap().iter().map(|j| j["id"].as_str().unwrap().to_owned()));
        match page["next"].as_str() {
            Some(cursor) => after = Some(cursor.to_owned()),
            None => break,
        }
        assert!(seen.len() <= 2, "more pages than jobs: {seen:?}");
    }
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_ne!(seen[0], seen[1]);
    let text = backend.jobs(&["list", "--queue", "billing", "--text", "first@example.com"]).expect(0);
    assert_eq!(text.stdout.lines().filter(|l| l.contains("SendInvoice")).count(), 1, "{}", text.stdout);

    // run-now a scheduled job, by its Active Job job id.
    let ran = backend.jobs(&["run-now", &later_job_id]).expect(0);
    assert!(ran.stdout.contains("1 job"), "{}", ran.stdout);
    assert_eq!(backend.jobs(&["show", &later_job_id, "--json"]).expect(0).json()["state"], "ready");

    // discard by filter, then retry every dead job.
    let discarded = backend.jobs(&["discard", "--queue", "mailers", "--class", "WelcomeEmail"]).expect(0);
    assert!(discarded.stdout.contains("1 job"), "{}", discarded.stdout);
    let dead = backend.jobs(&["list", "--state", "dead", "--json"]).expect(0).json();
    assert_eq!(dead["jobs"][0]["class"], "WelcomeEmail", "{dead}");
    assert_eq!(dead["jobs"][0]["errors"][0]["class"], jobs_core::JobAction::DISCARDED, "{dead}");
    let all_dead = backend.jobs(&["retry", "--all-dead", "--json"]).expect(0).json();
    assert_eq!(all_dead["changed"], 1, "{all_dead}");
    backend.jobs(&["retry", "--all-dead"]).expect(3);

    // pause and resume.
    let paused = backend.jobs(&["pause", "billing"]).expect(0);
    assert!(paused.stdout.contains("Paused queue billing"), "{}", paused.stdout);
    let stats = backend.jobs(&["stats", "--json"]).expect(0).json();
    assert_eq!(queue_json(&stats, "billing")["paused"], true, "{stats}");
    assert!(backend.jobs(&["stats"]).expect(0).stdout.contains("paused"));
    backend.jobs(&["resume", "billing"]).expect(0);
    let stats = backend.jobs(&["stats", "--json"]).expect(0).json();
    assert_eq!(queue_json(&stats, "billing")["paused"], false, "{stats}");

    // purge the completed job; delete one by id; unknown ids are "not found".
    let purged = backend.jobs(&["purge", "--completed-before", "2999-01-01T00:00:00Z", "--json"]).expect(0).json();
    assert_eq!(purged["deleted"], 1, "{purged}");
    assert_eq!(backend.jobs(&["list", "--state", "completed", "--json"]).expect(0).json()["jobs"], json!([]));
    backend.jobs(&["delete", &id]).expect(0);
    let gone = backend.jobs(&["show", &id]).expect(3);
    assert!(gone.stderr.contains(&format!("no job has id {id}")), "{}", gone.stderr);
    let unknown = backend.jobs(&["retry", "no-such-job"]).expect(3);
    assert!(unknown.stderr.contains("no job has id no-such-job"), "{}", unknown.stderr);

    // Processes (none runs here), signals to nobody, and the check.
    assert_eq!(backend.jobs(&["processes", "--json"]).expect(0).json(), json!([]));
    assert!(backend.jobs(&["processes"]).expect(0).stdout.contains("No worker process is running."));
    backend.jobs(&["quiet", "nobody:1:0"]).expect(3);
    let check = backend.jobs(&["check"]).expect(0);
    assert!(check.stdout.lines().all(|l| l.starts_with("ok")), "{}", check.stdout);
    let check = backend.jobs(&["check", "--json"]).expect(0).json();
    assert_eq!(check["ok"], true, "{check}");

    // What is left matches what the API says.
    let counts = adapter.inspector().unwrap().counts().await.unwrap();
    assert_eq!(counts.total(JobState::Dead), 0);
    assert_eq!(counts.total(JobState::Completed), 0);
}
