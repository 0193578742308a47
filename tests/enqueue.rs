//! Declaring jobs with #[job] and enqueueing them: payload, options, handles, perform_now.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chrono::{TimeZone, Utc};
use jobs::adapter::{Adapter, Capabilities, NewJob};
use jobs::adapters::{JobFilter, JobMatch, TestAdapter};
use jobs::prelude::*;
use jobs::{BoxFuture, Error, ManualClock};
use serde_json::json;

#[job(queue = "mailers", priority = 3)]
async fn send_welcome_email(address: String, times: u32) {
    let _ = (address, times);
}

#[job(name = "LegacyReportJob")]
async fn build_report(day: chrono::NaiveDate) -> Result<String, std::io::Error> {
    Ok(format!("report for {day}"))
}

struct Greeting(String);

#[job]
async fn greet(name: String, greeting: State<Greeting>, ctx: &JobContext) -> Result<String, String> {
    Ok(format!("{}, {name} (attempt {}, queue {})", greeting.0, ctx.executions(), ctx.queue()))
}

fn test_runtime() -> (TestAdapter, Runtime) {
    let adapter = TestAdapter::new();
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2030, 1, 1, 12, 0, 0).unwrap());
    let runtime =
        Runtime::builder().adapter(adapter.clone()).clock(clock).state(Greeting("Hello".into())).build().unwrap();
    (adapter, runtime)
}

#[tokio::test]
async fn perform_later_writes_an_active_job_payload() {
    let (adapter, runtime) = test_runtime();
    let handle = runtime.scope(SendWelcomeEmail::perform_later("ada@example.com".into(), 2)).await.unwrap();

    let data =
        adapter.assert_enqueued_with(JobMatch::job(&SendWelcomeEmail { address: "ada@example.com".into(), times: 2 }));
    assert_eq!(data.job_class, "SendWelcomeEmail");
    assert_eq!(data.queue_name, "mailers");
    assert_eq!(data.priority, Some(3));
    assert_eq!(data.arguments, vec![json!("ada@example.com"), json!(2)]);
    assert_eq!(data.executions, 0);
    assert_eq!(data.enqueued_at, Some(Utc.with_ymd_and_hms(2030, 1, 1, 12, 0, 0).unwrap()));
    assert_eq!(data.scheduled_at, None);
    assert!(uuid_like(&data.job_id), "{}", data.job_id);

    assert_eq!(handle.job_id, data.job_id);
    assert_eq!(handle.provider_job_id.as_deref(), Some("test-1"));
    assert_eq!(handle.scheduled_at, None);
}

fn uuid_like(id: &str) -> bool {
    id.len() == 36 && id.chars().filter(|c| *c == '-').count() == 4
}

#[tokio::test]
async fn set_overrides_queue_priority_and_schedule() {
    let (adapter, runtime) = test_runtime();
    let now = runtime.now();
    let handle = runtime
        .scope(
            SendWelcomeEmail::set()
                .wait(Duration::from_secs(7 * 86_400))
                .queue("low")
                .priority(-1)
                .perform_later("grace@example.com".into(), 1),
        )
        .await
        .unwrap();
    let week_later = now + chrono::Duration::days(7);
    assert_eq!(handle.scheduled_at, Some(week_later));
    adapter.assert_enqueued_with(
        JobMatch::class::<SendWelcomeEmail>().queue("low").priority(Some(-1)).at(Some(week_later)),
    );

    let noon = Utc.with_ymd_and_hms(2030, 1, 2, 12, 0, 0).unwrap();
    runtime.scope(SendWelcomeEmail::set().wait_until(noon).perform_later("x".into(), 0)).await.unwrap();
    adapter.assert_enqueued_with(JobMatch::class::<SendWelcomeEmail>().queue("mailers").at(Some(noon)));
}

#[tokio::test]
async fn name_sets_the_stable_wire_name() {
    let (adapter, runtime) = test_runtime();
    let day = chrono::NaiveDate::from_ymd_opt(2030, 2, 3).unwrap();
    runtime.scope(BuildReport::perform_later(day)).await.unwrap();
    assert_eq!(adapter.enqueued_jobs()[0].job_class, "LegacyReportJob");
    assert_eq!(<BuildReport as Job>::NAME, "LegacyReportJob");
    assert!(runtime.registry().get("LegacyReportJob").is_some());
}

#[tokio::test]
async fn perform_now_returns_the_jobs_own_result_with_state_and_context() {
    let (adapter, runtime) = test_runtime();
    let output = runtime.scope(Greet::perform_now("Ada".into())).await.unwrap();
    assert_eq!(output, "Hello, Ada (attempt 1, queue default)");
    let output = runtime.scope(Greet::set().queue("urgent").perform_now("Bob".into())).await.unwrap();
    assert_eq!(output, "Hello, Bob (attempt 1, queue urgent)");
    adapter.assert_no_enqueued_jobs(JobFilter::any());
}

#[tokio::test]
async fn missing_state_is_a_clear_error() {
    let runtime = Runtime::builder().adapter(TestAdapter::new()).build().unwrap();
    let error = runtime.scope(Greet::perform_now("Ada".into())).await.unwrap_err();
    assert!(matches!(error, Error::MissingState(_)));
    assert!(error.to_string().contains("Greeting` is not installed on the runtime"), "{error}");
}

#[tokio::test]
async fn explicit_runtime_handle_needs_no_installed_runtime() {
    let (adapter, runtime) = test_runtime();
    runtime.perform_later(SendWelcomeEmail { address: "a@b.c".into(), times: 1 }).await.unwrap();
    SendWelcomeEmail::set().runtime(&runtime).perform_later("d@e.f".into(), 2).await.unwrap();
    adapter.assert_enqueued_jobs(2, JobFilter::any().only::<SendWelcomeEmail>());
}

#[tokio::test]
async fn scoped_runtimes_do_not_see_each_other() {
    let (first, first_rt) = test_runtime();
    let (second, second_rt) = test_runtime();
    let a = first_rt.scope(async {
        for _ in 0..3 {
            SendWelcomeEmail::perform_later("a".into(), 1).await.unwrap();
            tokio::task::yield_now().await;
        }
    });
    let b = second_rt.scope(async {
        for _ in 0..5 {
            SendWelcomeEmail::perform_later("b".into(), 1).await.unwrap();
            tokio::task::yield_now().await;
        }
    });
    tokio::join!(a, b);
    first.assert_enqueued_jobs(3, JobFilter::any());
    second.assert_enqueued_jobs(5, JobFilter::any());
}

/// An adapter that counts how often each enqueue entry point is called.
#[derive(Debug, Default)]
struct CountingAdapter {
    single: AtomicUsize,
    bulk: AtomicUsize,
    jobs: AtomicUsize,
}

impl Adapter for CountingAdapter {
    fn name(&self) -> &str {
        "Counting"
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities { scheduling: true, bulk: true, ..Capabilities::default() }
    }
    fn enqueue<'a>(&'a self, _: &'a NewJob) -> BoxFuture<'a, Result<Option<String>, Error>> {
        self.single.fetch_add(1, Ordering::SeqCst);
        self.jobs.fetch_add(1, Ordering::SeqCst);
        Box::pin(async { Ok(None) })
    }
    fn enqueue_all<'a>(&'a self, jobs: &'a [NewJob]) -> BoxFuture<'a, Result<Vec<Option<String>>, Error>> {
        self.bulk.fetch_add(1, Ordering::SeqCst);
        self.jobs.fetch_add(jobs.len(), Ordering::SeqCst);
        Box::pin(async move { Ok(jobs.iter().map(|j| Some(format!("bulk-{}", j.data().job_class))).collect()) })
    }
}

#[tokio::test]
async fn perform_all_later_enqueues_several_classes_in_one_adapter_call() {
    let counting = Arc::new(CountingAdapter::default());
    let runtime = Runtime::builder().shared_adapter(counting.clone()).build().unwrap();
    let day = chrono::NaiveDate::from_ymd_opt(2030, 2, 3).unwrap();
    let handles = runtime
        .scope(perform_all_later([
            PendingJob::new(SendWelcomeEmail { address: "a".into(), times: 1 }),
            PendingJob::new(BuildReport { day }),
            SendWelcomeEmail::set().queue("low").build(SendWelcomeEmail { address: "b".into(), times: 2 }),
        ]))
        .await
        .unwrap();
    assert_eq!(counting.bulk.load(Ordering::SeqCst), 1);
    assert_eq!(counting.single.load(Ordering::SeqCst), 0);
    assert_eq!(counting.jobs.load(Ordering::SeqCst), 3);
    let classes: Vec<_> = handles.iter().map(|h| (h.job_class.as_str(), h.queue.as_str())).collect();
    assert_eq!(classes, [("SendWelcomeEmail", "mailers"), ("LegacyReportJob", "default"), ("SendWelcomeEmail", "low")]);
    assert_eq!(handles[1].provider_job_id.as_deref(), Some("bulk-LegacyReportJob"));
}

#[tokio::test]
async fn no_runtime_is_a_clear_error() {
    // A fresh task outside any scope, in a test binary where no test installs a runtime.
    let error = tokio::spawn(SendWelcomeEmail::perform_later("a".into(), 1)).await.unwrap().unwrap_err();
    assert!(matches!(error, Error::NoRuntime), "{error}");
}
