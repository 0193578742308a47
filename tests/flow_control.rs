//! Flow control through the public API: unique enqueues on the test and inline adapters, bulk
//! enqueues that report their duplicates, and the `Limiter`. (Limits and throttles under workers
//! are the conformance cases of `jobs-conformance/src/cases/flow_worker.rs`, run on every adapter.)

use std::sync::{Arc, Mutex};
use std::time::Duration;

use jobs::adapters::{InlineAdapter, JobFilter, MemoryAdapter, TestAdapter};
use jobs::prelude::*;
use jobs::{Error, Event, EventKind, Limiter, Subscriber};

#[derive(Default)]
struct Refreshed(Mutex<Vec<String>>);

#[job(unique(by = [args]))]
async fn refresh(feed: String, refreshed: State<Refreshed>) {
    refreshed.0.lock().unwrap().push(feed);
}

/// A duplicate enqueue seen by a subscriber: the job's class and the stored job's id.
type Duplicate = (String, Option<String>);

#[derive(Default, Clone)]
struct Duplicates(Arc<Mutex<Vec<Duplicate>>>);

impl Subscriber for Duplicates {
    fn on_event(&self, event: &Event<'_>) {
        if event.kind() == EventKind::EnqueueDuplicate {
            self.0.lock().unwrap().push((event.job_class().unwrap().to_owned(), event.reason().map(str::to_owned)));
        }
    }
}

#[tokio::test]
async fn a_duplicate_returns_the_stored_job_and_the_test_adapter_records_one() {
    let jobs = TestAdapter::new();
    let duplicates = Duplicates::default();
    let runtime = Runtime::builder()
        .adapter(jobs.clone())
        .state(Refreshed::default())
        .subscribe(duplicates.clone())
        .build()
        .unwrap();
    runtime
        .scope(async {
            let first = Refresh::perform_later("news".into()).await.unwrap();
            let again = Refresh::perform_later("news".into()).await.unwrap();
            let other = Refresh::perform_later("sports".into()).await.unwrap();
            assert!(!first.is_duplicate() && again.is_duplicate() && !other.is_duplicate());
            assert_eq!((&again.job_id, &again.provider_job_id), (&first.job_id, &first.provider_job_id));
            jobs.assert_enqueued_jobs(2, JobFilter::any().only::<Refresh>());
            assert_eq!(*duplicates.0.lock().unwrap(), [("Refresh".to_owned(), Some(first.job_id.clone()))]);

            jobs.perform_enqueued_jobs(JobFilter::any()).await.unwrap();
            let after = Refresh::perform_later("news".into()).await.unwrap();
            assert!(!after.is_duplicate(), "the key is free once its job ran");
            jobs.assert_enqueued_jobs(1, JobFilter::any());
        })
        .await;
}

#[tokio::test]
async fn a_bulk_enqueue_reports_which_jobs_were_duplicates() {
    let jobs = TestAdapter::new();
    let runtime = Runtime::builder().adapter(jobs.clone()).state(Refreshed::default()).build().unwrap();
    let batch = ["a", "b", "a", "c", "b"].map(|feed| PendingJob::new(Refresh { feed: feed.into() }));
    let handles = runtime.perform_all_later(batch).await.unwrap();
    let duplicates: Vec<bool> = handles.iter().map(|h| h.is_duplicate()).collect();
    assert_eq!(duplicates, [false, false, true, false, true]);
    assert_eq!(handles[2].job_id, handles[0].job_id);
    assert_eq!(handles[4].job_id, handles[1].job_id);
    jobs.assert_enqueued_jobs(3, JobFilter::any());
}

#[tokio::test]
async fn the_inline_adapter_runs_every_unique_job() {
    let runtime = Runtime::builder().adapter(InlineAdapter::new()).state(Refreshed::default()).build().unwrap();
    runtime
        .scope(async {
            for _ in 0..2 {
                let handle = Refresh::perform_later("news".into()).await.unwrap();
                assert!(!handle.is_duplicate(), "the job before it already ran");
            }
        })
        .await;
    assert_eq!(runtime.state::<Refreshed>().unwrap().0.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn a_limiter_allows_its_limit_per_window() {
    const LIMIT: usize = 5;
    let period = Duration::from_millis(200);
    let runtime = Runtime::builder().adapter(MemoryAdapter::new()).build().unwrap();
    let limiter = Limiter::window("limiter-test", LIMIT as u32, period).on(&runtime);
    let started = std::time::Instant::now();
    let mut windows = std::collections::BTreeMap::<i64, usize>::new();
    for _ in 0..3 * LIMIT {
        limiter.acquire().await.unwrap();
        let window = runtime.now().timestamp_millis().div_euclid(period.as_millis() as i64);
        *windows.entry(window).or_default() += 1;
    }
    assert!(windows.values().all(|n| *n <= LIMIT), "more than {LIMIT} acquisitions in a window: {windows:?}");
    assert!(windows.len() >= 3, "{windows:?}");
    assert!(started.elapsed() >= period, "15 acquisitions of 5 per window took {:?}", started.elapsed());
}

#[tokio::test]
async fn a_limiter_needs_a_store_that_counts() {
    let runtime = Runtime::builder().adapter(InlineAdapter::new()).build().unwrap();
    let error = Limiter::window("x", 1, Duration::from_secs(1)).on(&runtime).acquire().await.unwrap_err();
    assert!(matches!(error, Error::NotSupported { .. }), "{error}");
}
