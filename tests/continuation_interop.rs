//! Continuations across Rails and Rust: payloads in Active Job 8.1's form
//! (tests/fixtures/continuation, written from Rails' source; its README says why and how).

use std::path::Path;

use chrono::{Duration, Utc};
use jobs::adapter::{Adapter, NewJob};
use jobs::adapters::{JobFilter, TestAdapter};
use jobs::prelude::*;
use jobs::{Error, JobData, StepOptions};
use serde_json::{Value, json};

mod common;

use common::{Log, log};

/// Rails' `ImportJob`: `download`, `rows` (an integer cursor), `finish`.
#[job(name = "ImportJob", continuable(resume_wait = "1h"))]
async fn import_job(file: String, log: State<Log>, ctx: &JobContext) -> Result<(), Error> {
    let log: &Log = &log;
    log.push(format!("{file}: executions {} resumptions {}", ctx.executions(), ctx.resumptions()));
    ctx.step("download", |_| async {
        log.push("download");
        Ok::<_, Error>(())
    })
    .await?;
    ctx.step("rows", |step| async move {
        let mut row = step.cursor::<u64>()?.unwrap_or(4000);
        while row < 4203 {
            log.push(format!("row {row}"));
            row += 1;
            step.set(row).await?;
        }
        Ok::<_, Error>(())
    })
    .await?;
    ctx.step_with("finish", StepOptions::new().isolated(), |_| async {
        log.push("finish");
        Ok::<_, Error>(())
    })
    .await
}

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/continuation/{name}.json"));
    std::fs::read_to_string(path).unwrap().trim_end().to_owned()
}

fn runtime(adapter: &TestAdapter) -> Runtime {
    Runtime::builder().adapter(adapter.clone()).state(Log::default()).build().unwrap()
}

#[test]
fn rails_payloads_round_trip_byte_for_byte() {
    for name in ["fresh", "interrupted", "null_cursor"] {
        let json = fixture(name);
        let data = JobData::from_json(&json).unwrap();
        assert!(data.continuation.is_some() && data.resumptions.is_some(), "{name}");
        assert_eq!(data.to_json().unwrap(), json, "{name} changed on the way through Rust");
    }
    let interrupted = JobData::from_json(&fixture("interrupted")).unwrap().continuation.unwrap();
    assert_eq!(interrupted.completed, ["download"]);
    let current = interrupted.current.unwrap();
    assert_eq!((current.name.as_str(), &current.cursor), ("rows", &json!(4200)));
    let null_cursor = JobData::from_json(&fixture("null_cursor")).unwrap().continuation.unwrap();
    assert_eq!(null_cursor.current.unwrap().cursor, Value::Null);
}

#[tokio::test]
async fn a_rails_job_interrupted_mid_step_resumes_in_rust_at_its_cursor() {
    let adapter = TestAdapter::new();
    let rt = runtime(&adapter);
    let data = JobData::from_json(&fixture("interrupted")).unwrap();
    adapter.enqueue_all(&[NewJob::new(data).unwrap()]).await.unwrap();
    rt.scope(adapter.perform_enqueued_jobs(JobFilter::any().at(Utc::now()))).await.unwrap();
    // Rails counted two runs and one resumption; this is the third run and the second resumption.
    // `finish` is isolated: after the progress in `rows` it waits for an execution of its own.
    assert_eq!(log(&rt).lines(), ["rows.csv: executions 3 resumptions 2", "row 4200", "row 4201", "row 4202"]);

    let resumed = adapter.enqueued_jobs().pop().expect("the job was enqueued again before `finish`");
    assert_eq!(resumed.job_id, "7d3c7c2e-4c5a-4f0e-9a51-0f6f2a1b8c01", "a resumption keeps the job id");
    assert!(resumed.scheduled_at.unwrap() > Utc::now() + Duration::minutes(59), "resume_wait is 1h");
    let json = resumed.to_json().unwrap();
    assert!(
        json.ends_with(r#""continuation":{"completed":["download","rows"]},"resumptions":2}"#),
        "Rails reads the progress in its own form: {json}"
    );
    assert!(json.contains(r#""executions":2,"#), "a resumption is not an attempt: {json}");
}

#[tokio::test]
async fn a_rails_job_with_a_null_cursor_resumes_its_step_from_the_start() {
    let adapter = TestAdapter::new();
    let rt = runtime(&adapter);
    let data = JobData::from_json(&fixture("null_cursor")).unwrap();
    adapter.enqueue_all(&[NewJob::new(data).unwrap()]).await.unwrap();
    rt.scope(adapter.perform_enqueued_jobs(JobFilter::any().at(Utc::now()))).await.unwrap();
    let lines = log(&rt).lines();
    assert_eq!(lines[..2], ["rows.csv: executions 2 resumptions 1", "row 4000"], "{lines:?}");
    assert!(!lines.contains(&"download".to_owned()), "{lines:?}");
}

#[tokio::test]
async fn a_rust_enqueue_matches_a_fresh_rails_payload_key_for_key() {
    let adapter = TestAdapter::new();
    let rt = runtime(&adapter);
    rt.scope(ImportJob::perform_later("rows.csv".into())).await.unwrap();
    let ours: Value = serde_json::from_str(&adapter.enqueued_jobs().pop().unwrap().to_json().unwrap()).unwrap();
    let rails: Value = serde_json::from_str(&fixture("fresh")).unwrap();
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&ours), keys(&rails), "the same keys");
    for key in ["job_class", "arguments", "executions", "continuation", "resumptions"] {
        assert_eq!(ours[key], rails[key], "{key}");
    }
}
