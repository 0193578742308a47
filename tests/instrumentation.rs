//! Events for subscribers, log lines, and `log_arguments = false`.

mod common;

use std::sync::{Arc, Mutex};

use common::Log;
use jobs::adapters::{JobFilter, TestAdapter};
use jobs::prelude::*;
use jobs::{EventKind, Outcome};

#[derive(Debug, thiserror::Error)]
#[error("flaky")]
struct Flaky;

#[job(retry_on(Flaky, attempts = 2, wait = "0s"), discard_on(std::io::Error))]
async fn sync_contacts(account: String, ctx: &JobContext) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    match account.as_str() {
        "flaky" => Err(Box::new(Flaky)),
        "gone" => Err(Box::new(std::io::Error::other("account gone"))),
        _ => {
            let _ = ctx;
            Ok(())
        }
    }
}

pub(crate) type Seen = Arc<Mutex<Vec<(EventKind, Option<String>, Option<Outcome>, bool)>>>;

pub(crate) fn recording_runtime(jobs: &TestAdapter) -> (Runtime, Seen) {
    let seen: Seen = Arc::default();
    let sink = seen.clone();
    let runtime = Runtime::builder()
        .adapter(jobs.clone())
        .state(Log::default())
        .subscribe(move |event: &jobs::Event<'_>| {
            sink.lock().unwrap().push((
                event.kind(),
                event.job_class().map(str::to_owned),
                event.outcome(),
                event.arguments().is_some(),
            ));
        })
        .build()
        .unwrap();
    (runtime, seen)
}

#[tokio::test]
async fn a_subscriber_sees_the_events_in_order() {
    let jobs = TestAdapter::new();
    let (rt, seen) = recording_runtime(&jobs);
    rt.scope(async {
        SyncContacts::perform_later("flaky".into()).await.unwrap();
        let _ = jobs.perform_enqueued_jobs(JobFilter::any()).await;
        SyncContacts::perform_later("gone".into()).await.unwrap();
        jobs.perform_enqueued_jobs(JobFilter::any()).await.unwrap();
        jobs::perform_all_later([
            PendingJob::new(SyncContacts { account: "a".into() }),
            PendingJob::new(SyncContacts { account: "b".into() }),
        ])
        .await
        .unwrap();
    })
    .await;
    let kinds: Vec<(EventKind, Option<Outcome>)> = seen.lock().unwrap().iter().map(|(k, _, o, _)| (*k, *o)).collect();
    use EventKind::*;
    assert_eq!(
        kinds,
        [
            (Enqueue, None),
            (PerformStart, None),
            (EnqueueRetry, None),
            (Perform, Some(Outcome::Retried)),
            (PerformStart, None),
            (RetryStopped, None),
            (Perform, Some(Outcome::Failed)),
            (Enqueue, None),
            (PerformStart, None),
            (Discard, None),
            (Perform, Some(Outcome::Discarded)),
            (EnqueueAll, None),
            (Enqueue, None),
            (Enqueue, None),
        ]
    );
}
