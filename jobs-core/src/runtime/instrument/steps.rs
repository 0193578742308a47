//! Log lines and events of a continuable job's steps, in the spirit of Active Job 8.1's
//! (`Step 'rows' started`, `Interrupted ImportJob (Job ID: ..) at 'rows', cursor 4200 (stopping)`).

use std::time::Duration;

use serde_json::Value;

use crate::contract::{CurrentStep, Event, EventKind, JobContext, JobData};
use crate::runtime::Runtime;
use crate::runtime::instrument::{labels, names, seconds};

fn emit(ctx: &JobContext, kind: EventKind, step: Option<&str>, cursor: Option<&Value>, reason: Option<&str>) {
    let runtime = ctx.runtime();
    let adapter = runtime.adapter().name();
    runtime.emit(&Event { step, cursor, reason, ..Event::new(kind, adapter, Some(ctx.data()), false) });
}

/// A run starts from the progress of an earlier one (its `resumptions` already counted).
pub(crate) fn resuming(data: &JobData) {
    let description = data.continuation.as_ref().map(|c| c.description()).unwrap_or_default();
    let resumption = data.resumptions.unwrap_or(0);
    tracing::info!(
        target: "jobs",
        "Resuming {} (Job ID: {}) {description} (resumption {resumption})", data.job_class, data.job_id
    );
}

/// A step started afresh, or resumed at `cursor`.
pub(crate) fn started(ctx: &JobContext, step: &str, resumed_at: Option<&Value>) {
    let data = ctx.data();
    match resumed_at {
        Some(cursor) => tracing::info!(
            target: "jobs", step,
            "Step '{step}' resumed from cursor {cursor} for {} (Job ID: {})", data.job_class, data.job_id
        ),
        None => tracing::info!(
            target: "jobs", step,
            "Step '{step}' started for {} (Job ID: {})", data.job_class, data.job_id
        ),
    }
    emit(ctx, EventKind::StepStarted, Some(step), resumed_at, None);
}

/// A step an earlier run completed was skipped.
pub(crate) fn skipped(ctx: &JobContext, step: &str) {
    let data = ctx.data();
    tracing::info!(target: "jobs", step, "Step '{step}' skipped for {} (Job ID: {})", data.job_class, data.job_id);
    emit(ctx, EventKind::StepSkipped, Some(step), None, None);
}

/// A step completed.
pub(crate) fn completed(ctx: &JobContext, step: &str) {
    let data = ctx.data();
    tracing::info!(target: "jobs", step, "Step '{step}' completed for {} (Job ID: {})", data.job_class, data.job_id);
    emit(ctx, EventKind::StepCompleted, Some(step), None, None);
}

/// The job stopped at a checkpoint, `description` telling where.
pub(crate) fn interrupted(ctx: &JobContext, description: &str, current: Option<&CurrentStep>, reason: &str) {
    let data = ctx.data();
    tracing::info!(
        target: "jobs",
        "Interrupted {} (Job ID: {}) {description} ({reason})", data.job_class, data.job_id
    );
    let (step, cursor) = (current.map(|c| c.name.as_str()), current.map(|c| &c.cursor));
    emit(ctx, EventKind::Interrupt, step, cursor, Some(reason));
}

/// The job was enqueued again with its progress (`resumed`, the payload it was enqueued as),
/// to run after `wait`; `reason` is `interrupted` or the class of the error it met.
pub(crate) fn resume_enqueued(runtime: &Runtime, adapter: &str, resumed: &JobData, wait: Duration, reason: &str) {
    let continuation = resumed.continuation.clone().unwrap_or_default();
    tracing::info!(
        target: "jobs",
        "Enqueued {} (Job ID: {}) to resume {} in {} seconds ({reason})",
        resumed.job_class,
        resumed.job_id,
        continuation.description(),
        seconds(wait),
    );
    metrics::counter!(names::RESUMED, labels(resumed)).increment(1);
    let current = continuation.current.as_ref();
    runtime.emit(&Event {
        wait: Some(wait),
        step: current.map(|c| c.name.as_str()),
        cursor: current.map(|c| &c.cursor),
        reason: Some(reason),
        ..Event::new(EventKind::Resume, adapter, Some(resumed), false)
    });
}
