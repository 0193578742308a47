//! Handling a job's error the Active Job way: `rescue_from`, `retry_on`, `discard_on`.

use std::time::Duration;

use crate::contract::{Declarations, Error, ErrorHandler, JobContext, JobData, JobError, Outcome, RetryOn};
use crate::perform::requeue::requeue;
use crate::runtime::{Runtime, instrument};

/// What became of a failed run.
pub(crate) struct Handled {
    pub(crate) outcome: Outcome,
    /// The error still standing (`Failed`), or the one that was handled.
    pub(crate) error: JobError,
}

/// Where the job ran, for handlers that log or enqueue.
pub(crate) struct Scene<'a> {
    pub(crate) runtime: &'a Runtime,
    pub(crate) adapter: &'a str,
    pub(crate) declarations: &'a Declarations,
    pub(crate) log_arguments: bool,
    /// Whether a failure nothing handles ends the job (no retry by the worker's policy follows).
    pub(crate) ends: bool,
}

/// Finds the declaration handling `error` (the last declared that matches, as in Rails) and
/// applies it. `data` is the payload as performed; its `exception_executions` are counted up.
///
/// As in Rails 7.1+, `after_discard` runs whenever the job ends unsuccessfully: after `discard_on`,
/// after an exhausted `retry_on` (its handler first), and for a failure that nothing handled (or
/// that a handler raised) when no retry by the worker's policy follows.
pub(crate) async fn handle(scene: &Scene<'_>, ctx: &JobContext, data: &mut JobData, error: JobError) -> Handled {
    let handled = apply(scene, ctx, data, error).await;
    if handled.outcome == Outcome::Failed && scene.ends {
        after_discard(scene, ctx, data, &handled.error).await;
    }
    handled
}

async fn apply(scene: &Scene<'_>, ctx: &JobContext, data: &mut JobData, error: JobError) -> Handled {
    let handler = scene.declarations.error_handlers.iter().rev().find(|h| match h {
        ErrorHandler::RetryOn(r) => (r.matches)(&error),
        ErrorHandler::DiscardOn { matches, .. } | ErrorHandler::RescueFrom { matches, .. } => matches(&error),
    });
    match handler {
        None => Handled { outcome: Outcome::Failed, error },
        Some(ErrorHandler::RescueFrom { handler, .. }) => match handler(ctx, &error).await {
            Ok(()) => Handled { outcome: Outcome::Rescued, error },
            Err(raised) => Handled { outcome: Outcome::Failed, error: raised },
        },
        Some(ErrorHandler::DiscardOn { handler, .. }) => {
            if let Some(handler) = handler
                && let Err(raised) = handler(ctx, &error).await
            {
                return Handled { outcome: Outcome::Failed, error: raised };
            }
            discard(scene, ctx, data, &error).await;
            Handled { outcome: Outcome::Discarded, error }
        }
        Some(ErrorHandler::RetryOn(retry)) => retry_on(scene, ctx, data, retry, error).await,
    }
}

async fn discard(scene: &Scene<'_>, ctx: &JobContext, data: &JobData, error: &JobError) {
    instrument::discarded(scene.runtime, scene.adapter, data, scene.log_arguments, error);
    after_discard(scene, ctx, data, error).await;
}

/// Runs the job's `after_discard` callbacks; a failing one is logged.
pub(crate) async fn after_discard(scene: &Scene<'_>, ctx: &JobContext, data: &JobData, error: &JobError) {
    for after in scene.declarations.after_discard {
        if let Err(raised) = after(ctx, error).await {
            tracing::warn!(target: "jobs", "after_discard of {} failed: {raised}", data.job_class);
        }
    }
}

async fn retry_on(
    scene: &Scene<'_>,
    ctx: &JobContext,
    data: &mut JobData,
    retry: &RetryOn,
    error: JobError,
) -> Handled {
    let count = data.exception_executions.entry(retry.key.to_owned()).or_insert(0);
    *count += 1;
    let count = *count;
    if retry.attempts.is_none_or(|attempts| count < attempts) {
        let jitter = retry.jitter.unwrap_or(scene.runtime.retry_jitter());
        let wait = retry.wait.delay(count, jitter, fastrand::f64());
        return match enqueue_retry(scene, data, retry, wait).await {
            Ok(retried) => {
                instrument::retry_enqueued(scene.runtime, scene.adapter, &retried, scene.log_arguments, wait, &error);
                Handled { outcome: Outcome::Retried, error }
            }
            Err(enqueue_error) => {
                tracing::error!(target: "jobs", "Could not enqueue a retry of {}: {enqueue_error}", data.job_class);
                Handled { outcome: Outcome::Failed, error }
            }
        };
    }
    instrument::retry_stopped(scene.runtime, scene.adapter, data, scene.log_arguments, &error);
    match retry.exhausted {
        Some(handler) => match handler(ctx, &error).await {
            Ok(()) => {
                after_discard(scene, ctx, data, &error).await;
                Handled { outcome: Outcome::Discarded, error }
            }
            Err(raised) => Handled { outcome: Outcome::Failed, error: raised },
        },
        // The error goes on to the worker's policy; `handle` runs after_discard once it ends the job.
        None => Handled { outcome: Outcome::Failed, error },
    }
}

/// Enqueues the job again, as Rails' `retry_job`: same job id, new provider id, counters kept.
async fn enqueue_retry(scene: &Scene<'_>, data: &JobData, retry: &RetryOn, wait: Duration) -> Result<JobData, Error> {
    let mut next = data.clone();
    if let Some(queue) = retry.queue {
        next.queue_name = queue.to_owned();
    }
    if retry.priority.is_some() {
        next.priority = retry.priority;
    }
    requeue(scene.runtime, next, Some(wait), "retry_on's scheduled retries").await
}
