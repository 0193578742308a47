//! The test adapter's helpers, in the spirit of Rails' ActiveJob::TestHelper.

use std::sync::Mutex;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use jobs::adapters::{InlineAdapter, JobFilter, JobMatch, TestAdapter};
use jobs::prelude::*;
use jobs::{Error, ManualClock};
use serde_json::json;

#[derive(Default)]
struct Outbox(Mutex<Vec<String>>);

#[job(queue = "mailers")]
async fn deliver(to: String, outbox: State<Outbox>) {
    outbox.0.lock().unwrap().push(to);
}

#[job]
async fn sign_up(email: String) -> Result<(), jobs::Error> {
    // A job that enqueues another, as jobs often do.
    Deliver::perform_later(email).await.map(|_| ())
}

#[job]
async fn fail_always(reason: String) -> Result<(), String> {
    Err(reason)
}

fn setup() -> (TestAdapter, Runtime, ManualClock) {
    let adapter = TestAdapter::new();
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2030, 6, 1, 8, 0, 0).unwrap());
    let runtime =
        Runtime::builder().adapter(adapter.clone()).clock(clock.clone()).state(Outbox::default()).build().unwrap();
    (adapter, runtime, clock)
}

fn outbox(runtime: &Runtime) -> Vec<String> {
    runtime.state::<Outbox>().unwrap().0.lock().unwrap().clone()
}

#[tokio::test]
async fn counts_and_matches_enqueued_jobs() {
    let (jobs, rt, _) = setup();
    rt.scope(async {
        Deliver::perform_later("a@x".into()).await.unwrap();
        Deliver::set().queue("bulk").perform_later("b@x".into()).await.unwrap();
        SignUp::perform_later("c@x".into()).await.unwrap();
    })
    .await;
    jobs.assert_enqueued_jobs(3, JobFilter::any());
    jobs.assert_enqueued_jobs(2, JobFilter::any().only::<Deliver>());
    jobs.assert_enqueued_jobs(1, JobFilter::any().except::<Deliver>());
    jobs.assert_enqueued_jobs(1, JobFilter::any().queue("bulk"));
    jobs.assert_enqueued_with(JobMatch::class::<Deliver>().arguments(vec![json!("b@x")]).queue("bulk"));
    jobs.assert_no_enqueued_jobs(JobFilter::any().queue("nowhere"));
}

#[tokio::test]
#[should_panic(expected = "expected 2 enqueued jobs matching")]
async fn a_wrong_count_fails_with_what_was_enqueued() {
    let (jobs, rt, _) = setup();
    rt.scope(Deliver::perform_later("a@x".into())).await.unwrap();
    jobs.assert_enqueued_jobs(2, JobFilter::any());
}

#[tokio::test]
#[should_panic(expected = "no enqueued job matches")]
async fn a_wrong_match_fails() {
    let (jobs, rt, _) = setup();
    rt.scope(Deliver::perform_later("a@x".into())).await.unwrap();
    jobs.assert_enqueued_with(JobMatch::job(&Deliver { to: "someone else".into() }));
}

#[tokio::test]
async fn performs_enqueued_jobs_and_the_jobs_they_enqueue() {
    let (jobs, rt, _) = setup();
    rt.scope(async {
        SignUp::perform_later("new@x".into()).await.unwrap();
        let ran = jobs.perform_enqueued_jobs(JobFilter::any()).await.unwrap();
        assert_eq!(ran, 2, "SignUp, then the Deliver it enqueued");
    })
    .await;
    assert_eq!(outbox(&rt), ["new@x"]);
    jobs.assert_performed_jobs(2, JobFilter::any());
    jobs.assert_performed_with(JobMatch::job(&Deliver { to: "new@x".into() }).queue("mailers"));
    jobs.assert_no_enqueued_jobs(JobFilter::any());
}

#[tokio::test]
async fn performs_by_class_queue_and_time() {
    let (jobs, rt, clock) = setup();
    rt.scope(async {
        Deliver::perform_later("now@x".into()).await.unwrap();
        Deliver::set().wait(Duration::from_secs(3600)).perform_later("later@x".into()).await.unwrap();
        SignUp::perform_later("other@x".into()).await.unwrap();

        jobs.perform_enqueued_jobs(JobFilter::any().only::<Deliver>().at(clock_now(&clock))).await.unwrap();
        assert_eq!(outbox(&rt), ["now@x"], "only due Deliver jobs ran");
        jobs.assert_enqueued_jobs(2, JobFilter::any());

        clock.advance(Duration::from_secs(3600));
        jobs.perform_enqueued_jobs(JobFilter::any().queue("mailers").at(clock_now(&clock))).await.unwrap();
        assert_eq!(outbox(&rt), ["now@x", "later@x"]);
        jobs.assert_enqueued_jobs(1, JobFilter::any().only::<SignUp>());
    })
    .await;
}

fn clock_now(clock: &ManualClock) -> chrono::DateTime<Utc> {
    jobs::Clock::now(clock)
}

#[tokio::test]
async fn a_failing_job_surfaces_as_an_error() {
    let (jobs, rt, _) = setup();
    let error = rt
        .scope(async {
            FailAlways::perform_later("card declined".into()).await.unwrap();
            jobs.perform_enqueued_jobs(JobFilter::any()).await.unwrap_err()
        })
        .await;
    assert!(matches!(&error, Error::Job(e) if e.message() == "card declined"), "{error}");
}

#[tokio::test]
async fn inline_adapter_runs_at_enqueue_and_refuses_schedules() {
    let rt = Runtime::builder().adapter(InlineAdapter::new()).state(Outbox::default()).build().unwrap();
    rt.scope(async {
        Deliver::perform_later("inline@x".into()).await.unwrap();
        let error = Deliver::set().wait(Duration::from_secs(1)).perform_later("never@x".into()).await.unwrap_err();
        assert!(matches!(error, Error::NotSupported { .. }));
        assert!(error.to_string().starts_with("Inline adapter does not support scheduled jobs"), "{error}");
        let failure = FailAlways::perform_later("nope".into()).await.unwrap_err();
        assert!(matches!(&failure, Error::Job(e) if e.message() == "nope"), "{failure}");
    })
    .await;
    assert_eq!(outbox(&rt), ["inline@x"]);
}
