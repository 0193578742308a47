//! `log_arguments = false` keeps arguments out of log lines and events. In a test binary of its
//! own, so that no other test touches the log callsites before the capturing subscriber is set.

mod common;

use std::sync::{Arc, Mutex};

use common::{CapturedLogs, Log};
use jobs::adapters::{JobFilter, TestAdapter};
use jobs::prelude::*;

#[job(log_arguments = false)]
async fn charge_card(card_number: String, log: State<Log>) {
    log.push(format!("charged {} digits", card_number.len()));
}

#[job]
async fn sync_contacts(account: String) {
    let _ = account;
}

type Seen = Arc<Mutex<Vec<(String, bool)>>>;

fn recording_runtime(jobs: &TestAdapter) -> (Runtime, Seen) {
    let seen: Seen = Arc::default();
    let sink = seen.clone();
    let runtime = Runtime::builder()
        .adapter(jobs.clone())
        .state(Log::default())
        .subscribe(move |event: &jobs::Event<'_>| {
            if let Some(class) = event.job_class() {
                sink.lock().unwrap().push((class.to_owned(), event.arguments().is_some()));
            }
        })
        .build()
        .unwrap();
    (runtime, seen)
}

#[tokio::test]
async fn log_arguments_false_keeps_arguments_out_of_logs_and_events() {
    let captured = CapturedLogs::start(tracing::Level::DEBUG);

    let jobs = TestAdapter::new();
    let (rt, seen) = recording_runtime(&jobs);
    rt.scope(async {
        ChargeCard::perform_later("4242424242424242".into()).await.unwrap();
        SyncContacts::perform_later("visible-account".into()).await.unwrap();
        jobs.perform_enqueued_jobs(JobFilter::any()).await.unwrap();
    })
    .await;
    assert_eq!(rt.state::<Log>().unwrap().lines(), ["charged 16 digits"]);

    let logs = captured.text();
    assert!(logs.contains("Enqueued ChargeCard (Job ID: "), "{logs}");
    assert!(logs.contains("Performed ChargeCard (Job ID: "), "{logs}");
    // The whole number: a part of it may turn up in a timestamp or an id.
    assert!(!logs.contains("4242424242424242"), "the card number leaked into the logs:\n{logs}");
    assert!(logs.contains("with arguments: \"visible-account\""), "other jobs still log their arguments:\n{logs}");

    let seen = seen.lock().unwrap();
    assert!(seen.iter().any(|(class, has)| class == "SyncContacts" && *has));
    assert!(seen.iter().filter(|(class, _)| class == "ChargeCard").count() >= 3);
    for (class, has_arguments) in seen.iter() {
        if class == "ChargeCard" {
            assert!(!has_arguments, "an event exposed ChargeCard's arguments");
        }
    }
}
