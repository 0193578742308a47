//! Reporting job failures to an error tracker, the way Sidekiq's `error_handlers` feed Sentry:
//! a subscriber turns each failed run into a [`Report`] (job class, id, queue, attempt, error,
//! arguments unless the job hides them) and hands it to a [`Reporter`], here one that prints.
//! A real one would call the tracker's client (`sentry::capture_message`, a webhook, ...).
//!
//! `cargo run --example error_tracker`

use std::time::Duration;

use jobs::prelude::*;
use jobs::{Event, EventKind, Outcome, RetryPolicy, Subscriber};
use serde_json::Value;

/// What an error tracker is told about one failed run.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// The job class.
    pub class: String,
    /// The Active Job id.
    pub job_id: String,
    /// The queue.
    pub queue: String,
    /// Which run failed (1 for the first).
    pub attempt: u32,
    /// The error's class and message.
    pub error: (String, String),
    /// `retried`, `discarded` or `failed` (the worker's retry policy decides).
    pub outcome: &'static str,
    /// The arguments; `None` for a job declared with `log_arguments = false`.
    pub arguments: Option<Vec<Value>>,
}

/// Where reports go: any `Fn(Report)` is one.
pub trait Reporter: Send + Sync + 'static {
    /// Called once per failed run, in the job's task; hand off anything slow.
    fn report(&self, report: Report);
}

impl<F: Fn(Report) + Send + Sync + 'static> Reporter for F {
    fn report(&self, report: Report) {
        self(report)
    }
}

/// A subscriber that reports every run that failed and was not handled by `rescue_from`
/// (retried, discarded or left to the worker's policy), as Sidekiq calls its error handlers.
pub fn error_handler(reporter: impl Reporter) -> impl Subscriber {
    move |event: &Event<'_>| {
        let (EventKind::Perform, Some(error)) = (event.kind(), event.error()) else { return };
        let outcome = match event.outcome() {
            Some(outcome @ (Outcome::Retried | Outcome::Discarded | Outcome::Failed)) => outcome.as_str(),
            _ => return, // performed, rescued, halted, resumed: nothing for a tracker
        };
        reporter.report(Report {
            class: event.job_class().unwrap_or_default().to_owned(),
            job_id: event.job_id().unwrap_or_default().to_owned(),
            queue: event.queue().unwrap_or_default().to_owned(),
            attempt: event.executions().unwrap_or_default(),
            error: (error.class().to_owned(), error.message()),
            outcome,
            arguments: event.arguments().map(<[Value]>::to_vec),
        });
    }
}

/// A job that fails, with arguments a tracker may see.
#[job]
async fn sync_contacts(account: String) -> Result<(), String> {
    Err(format!("the CRM refused {account}"))
}

/// A job that fails, with arguments no tracker may see.
#[job(log_arguments = false)]
async fn charge_card(card_number: String) -> Result<(), String> {
    let _ = card_number;
    Err("card declined".to_owned())
}

/// Runs both jobs on `runtime` (over `memory`) with no retries, until both are dead.
async fn fail_both(runtime: &Runtime, memory: &MemoryAdapter) -> Result<(), jobs::Error> {
    runtime
        .scope(async {
            SyncContacts::perform_later("acme".into()).await?;
            ChargeCard::perform_later("4242424242424242".into()).await?;
            Ok::<_, jobs::Error>(())
        })
        .await?;
    let worker = Worker::builder()
        .runtime(runtime)
        .retry_policy(RetryPolicy::retries(0))
        .poll_interval(Duration::from_millis(20))
        .build()?
        .start();
    for _ in 0..400 {
        if memory.dead().len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    worker.shutdown().await
}

fn format(report: &Report) -> String {
    let arguments = match &report.arguments {
        Some(arguments) => Value::from(arguments.clone()).to_string(),
        None => "[FILTERED]".to_owned(),
    };
    format!(
        "{} {} (queue {}, attempt {}, {}): {}: {} — arguments {arguments}",
        report.class, report.job_id, report.queue, report.attempt, report.outcome, report.error.0, report.error.1
    )
}

#[tokio::main]
async fn main() -> Result<(), jobs::Error> {
    let memory = MemoryAdapter::new();
    let runtime = Runtime::builder()
        .adapter(memory.clone())
        .subscribe(error_handler(|report: Report| eprintln!("[tracker] {}", format(&report))))
        .build()?;
    fail_both(&runtime, &memory).await
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[tokio::test]
    async fn a_failing_job_reaches_the_tracker_with_its_fields_and_hidden_arguments_stay_hidden() {
        let reports: Arc<Mutex<Vec<Report>>> = Arc::default();
        let sink = reports.clone();
        let memory = MemoryAdapter::new();
        let runtime = Runtime::builder()
            .adapter(memory.clone())
            .subscribe(error_handler(move |report: Report| sink.lock().unwrap().push(report)))
            .build()
            .unwrap();
        fail_both(&runtime, &memory).await.unwrap();

        let mut reports = reports.lock().unwrap().clone();
        reports.sort_by(|a, b| a.class.cmp(&b.class));
        let dead: Vec<String> = memory.dead().into_iter().map(|(job, _)| job.job_id).collect();
        assert_eq!(reports.len(), 2, "{reports:?}");
        let (card, sync) = (&reports[0], &reports[1]);
        assert!(card.class.ends_with("ChargeCard") && sync.class.ends_with("SyncContacts"), "{reports:?}");
        for report in [card, sync] {
            assert!(dead.contains(&report.job_id), "the report names the job's id: {report:?}");
            assert_eq!((report.queue.as_str(), report.attempt, report.outcome), ("default", 1, "failed"));
        }
        assert_eq!(sync.error.1, "the CRM refused acme");
        assert_eq!(sync.arguments, Some(vec![Value::from("acme")]));
        assert_eq!(card.error.1, "card declined");
        assert_eq!(card.arguments, None, "log_arguments = false keeps the card number out of reports");
        assert!(format(card).contains("[FILTERED]") && !format(card).contains("4242"), "{}", format(card));
    }
}
