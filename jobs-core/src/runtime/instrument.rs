//! Instrumentation: Rails-style log lines, events for subscribers, and `metrics`.
//!
//! Metrics, named in [`names`] after OpenTelemetry's messaging conventions and labelled by
//! `messaging.destination.name` (the queue) and `jobs.class`: counters
//! `messaging.client.sent.messages` (enqueued), `jobs.processed` (also by `jobs.outcome`),
//! `jobs.failed`, `jobs.retried`, `jobs.discarded`, `jobs.resumed`; histograms
//! `messaging.process.duration` and `jobs.queue.latency` (from when the job was due to when it
//! started). The gauges sampled from the store are the worker's (`worker/gauges.rs`).

pub(crate) mod flow;
mod handles;
pub(crate) mod names;
pub(crate) mod steps;

use metrics::{Label, SharedString};

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::contract::JobError;
use crate::contract::{Event, EventKind, Outcome};
use crate::contract::{JobData, format_time};
use crate::runtime::Runtime;

/// A wait as log lines show it: seconds, to the millisecond, without trailing zeros (`0.3`, `15`).
pub(crate) fn seconds(wait: Duration) -> String {
    let millis = wait.as_millis();
    match millis % 1000 {
        0 => format!("{}", millis / 1000),
        rest => format!("{}.{}", millis / 1000, format!("{rest:03}").trim_end_matches('0')),
    }
}

fn arguments(data: &JobData, log_arguments: bool) -> String {
    if !log_arguments || data.arguments.is_empty() {
        return String::new();
    }
    let list: Vec<String> = data.arguments.iter().map(|a| a.to_string()).collect();
    format!(" with arguments: {}", list.join(", "))
}

/// The labels every job metric carries: the queue and the class.
pub(crate) fn labels(data: &JobData) -> Vec<Label> {
    vec![Label::new(names::DESTINATION, data.queue_name.clone()), Label::new(names::CLASS, data.job_class.clone())]
}

/// The queue and class labels of one run's metrics, made once per run. A job's declared queue
/// and its class name are static strings, so the metrics of a run on its declared queue are
/// labelled without copying a string.
#[derive(Clone, Debug)]
pub(crate) struct RunLabels {
    queue: SharedString,
    class: SharedString,
    /// The declared queue and class, when they are the run's: the run's metric handles are then
    /// kept (see [`handles`]).
    fixed: Option<(&'static str, &'static str)>,
}

impl RunLabels {
    /// The labels of a run of `data` by the job type declared as `class` on `queue`.
    pub(crate) fn declared(data: &JobData, class: &'static str, queue: &'static str) -> Self {
        let label = |value: &str, declared: &'static str| match value == declared {
            true => SharedString::const_str(declared),
            false => SharedString::from_shared(Arc::from(value)),
        };
        let fixed = (data.queue_name == queue && data.job_class == class).then_some((queue, class));
        RunLabels { queue: label(&data.queue_name, queue), class: label(&data.job_class, class), fixed }
    }

    /// The labels of a run of `data`, whatever its type.
    pub(crate) fn of(data: &JobData) -> Self {
        RunLabels::declared(data, "", "")
    }

    /// The two labels, with room for the two that some metrics add.
    fn to_vec(&self) -> Vec<Label> {
        let mut labels = Vec::with_capacity(4);
        labels.push(Label::new(names::DESTINATION, self.queue.clone()));
        labels.push(Label::new(names::CLASS, self.class.clone()));
        labels
    }
}

fn operation(name: &'static str) -> Label {
    Label::from_static_parts(names::OPERATION_NAME, name)
}

pub(crate) fn enqueued(runtime: &Runtime, adapter: &str, data: &JobData, log_arguments: bool) {
    let at = data.scheduled_at.map(|at| format!(" at {}", format_time(&at))).unwrap_or_default();
    tracing::info!(
        target: "jobs",
        job_class = %data.job_class,
        job_id = %data.job_id,
        provider_job_id = data.provider_job_id.as_deref(),
        queue = %data.queue_name,
        "Enqueued {} (Job ID: {}) to {}({}){}{}",
        data.job_class, data.job_id, adapter, data.queue_name, at, arguments(data, log_arguments)
    );
    let mut labels = labels(data);
    labels.push(operation("enqueue"));
    metrics::counter!(names::SENT_MESSAGES, labels).increment(1);
    let kind = if data.scheduled_at.is_some() { EventKind::EnqueueAt } else { EventKind::Enqueue };
    runtime.emit(&Event::new(kind, adapter, Some(data), log_arguments));
}

pub(crate) fn enqueued_all(runtime: &Runtime, adapter: &str, count: usize) {
    tracing::info!(target: "jobs", "Enqueued {count} jobs to {adapter}");
    runtime.emit(&Event { count, ..Event::new(EventKind::EnqueueAll, adapter, None, false) });
}

/// A run starts at `now`, by the runtime's clock.
pub(crate) fn perform_start(
    runtime: &Runtime,
    adapter: &str,
    data: &JobData,
    labels: &RunLabels,
    log_arguments: bool,
    now: DateTime<Utc>,
) {
    tracing::debug!(
        target: "jobs",
        "Performing {} (Job ID: {}) from {}({}) enqueued at {}{}",
        data.job_class,
        data.job_id,
        adapter,
        data.queue_name,
        data.enqueued_at.map(|t| format_time(&t)).unwrap_or_default(),
        arguments(data, log_arguments)
    );
    if let Some(latency) = data.due_at().and_then(|due| (now - due).to_std().ok()) {
        handles::with(labels, |handles| handles.latency(labels).record(latency.as_secs_f64()));
    }
    runtime.emit(&Event::new(EventKind::PerformStart, adapter, Some(data), log_arguments));
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn performed(
    runtime: &Runtime,
    adapter: &str,
    data: &JobData,
    labels: &RunLabels,
    log_arguments: bool,
    took: Duration,
    outcome: Outcome,
    error: Option<&JobError>,
) {
    let ms = took.as_secs_f64() * 1000.0;
    // A snooze or a cancel is the job's word, not a failure: the event carries its wait or reason.
    let wait = error.and_then(JobError::snoozed).filter(|_| outcome == Outcome::Snoozed);
    let reason = error.and_then(JobError::cancelled).filter(|_| outcome == Outcome::Cancelled);
    let error = error.filter(|_| wait.is_none() && reason.is_none());
    match (outcome, error) {
        (Outcome::Failed, Some(error)) => tracing::warn!(
            target: "jobs",
            "Error performing {} (Job ID: {}) from {}({}) in {:.2}ms: {}",
            data.job_class, data.job_id, adapter, data.queue_name, ms, error
        ),
        (Outcome::Snoozed, _) => tracing::info!(
            target: "jobs",
            "Snoozed {} (Job ID: {}) from {}({}) in {:.2}ms, to run again in {} seconds",
            data.job_class, data.job_id, adapter, data.queue_name, ms, seconds(wait.unwrap_or_default())
        ),
        (Outcome::Cancelled, _) => tracing::info!(
            target: "jobs",
            "Cancelled {} (Job ID: {}) from {}({}) in {:.2}ms: {}",
            data.job_class, data.job_id, adapter, data.queue_name, ms, reason.unwrap_or_default()
        ),
        _ => tracing::info!(
            target: "jobs",
            "Performed {} (Job ID: {}) from {}({}) in {:.2}ms",
            data.job_class, data.job_id, adapter, data.queue_name, ms
        ),
    }
    handles::with(labels, |handles| {
        if outcome == Outcome::Failed {
            handles.failed(labels).increment(1);
        }
        let finished = handles.finished(labels, outcome);
        finished.processed.increment(1);
        finished.duration.record(took.as_secs_f64());
    });
    runtime.emit(&Event {
        duration: Some(took),
        outcome: Some(outcome),
        error,
        wait,
        reason,
        ..Event::new(EventKind::Perform, adapter, Some(data), log_arguments)
    });
}

pub(crate) fn retry_enqueued(
    runtime: &Runtime,
    adapter: &str,
    data: &JobData,
    log_arguments: bool,
    wait: Duration,
    error: &JobError,
) {
    tracing::info!(
        target: "jobs",
        "Retrying {} (Job ID: {}) after {} attempts in {} seconds, due to a {} ({}).",
        data.job_class, data.job_id, data.executions, seconds(wait), error.class(), error.message()
    );
    metrics::counter!(names::RETRIED, labels(data)).increment(1);
    runtime.emit(&Event {
        wait: Some(wait),
        error: Some(error),
        ..Event::new(EventKind::EnqueueRetry, adapter, Some(data), log_arguments)
    });
}

pub(crate) fn retry_stopped(runtime: &Runtime, adapter: &str, data: &JobData, log_arguments: bool, error: &JobError) {
    tracing::error!(
        target: "jobs",
        "Stopped retrying {} (Job ID: {}) due to a {} ({}), which reoccurred on {} attempts.",
        data.job_class, data.job_id, error.class(), error.message(), data.executions
    );
    runtime
        .emit(&Event { error: Some(error), ..Event::new(EventKind::RetryStopped, adapter, Some(data), log_arguments) });
}

pub(crate) fn discarded(runtime: &Runtime, adapter: &str, data: &JobData, log_arguments: bool, error: &JobError) {
    tracing::error!(
        target: "jobs",
        "Discarded {} (Job ID: {}) due to a {} ({}).",
        data.job_class, data.job_id, error.class(), error.message()
    );
    metrics::counter!(names::DISCARDED, labels(data)).increment(1);
    runtime.emit(&Event { error: Some(error), ..Event::new(EventKind::Discard, adapter, Some(data), log_arguments) });
}

pub(crate) fn halted(data: &JobData, callback: &str, reason: Option<&str>) {
    tracing::info!(
        target: "jobs",
        "Halted {} (Job ID: {}) in callback `{callback}`{}",
        data.job_class,
        data.job_id,
        reason.map(|r| format!(": {r}")).unwrap_or_default()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_print_their_real_value() {
        assert_eq!(seconds(Duration::from_millis(300)), "0.3");
        assert_eq!(seconds(Duration::from_millis(15_050)), "15.05");
        assert_eq!(seconds(Duration::from_secs(83)), "83");
        assert_eq!(seconds(Duration::from_micros(1_234_567)), "1.234");
    }
}
