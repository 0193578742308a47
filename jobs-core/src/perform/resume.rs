//! Resuming continuable jobs (Active Job 8.1's `Continuable#continue`): a run that starts from
//! progress counts a resumption; a run interrupted at a checkpoint, or failing after it made
//! progress, is enqueued again with its progress instead of failing.

use std::sync::PoisonError;

use crate::contract::{Continuable, Continuation, Error, JobContext, JobData, JobError};
use crate::perform::requeue::requeue;
use crate::runtime::Runtime;
use crate::runtime::instrument::steps as instrument;

/// Before a run of a continuable job: gives the payload its continuation keys, and counts a
/// resumption when it carries progress.
pub(crate) fn begin(data: &mut JobData, continuable: Option<Continuable>) {
    if continuable.is_none() {
        return;
    }
    let started = data.continuation.get_or_insert_with(Continuation::default).is_started();
    let resumptions = data.resumptions.get_or_insert(0);
    if started {
        *resumptions += 1;
        instrument::resuming(data);
    }
}

/// After a run of a continuable job: writes its progress into `data`.
pub(crate) fn finish(ctx: &JobContext, data: &mut JobData) {
    if let Some((_, progress)) = ctx.continuation() {
        data.continuation = Some(progress.lock().unwrap_or_else(PoisonError::into_inner).to_payload());
    }
}

/// After a run that succeeded: takes the payload back from the context, with the progress of a
/// continuable job written into it.
pub(crate) fn finished(ctx: JobContext) -> Box<JobData> {
    let progress =
        ctx.continuation().map(|(_, progress)| progress.lock().unwrap_or_else(PoisonError::into_inner).to_payload());
    let mut data = ctx.into_data();
    if let Some(progress) = progress {
        data.continuation = Some(progress);
    }
    data
}

/// After a failed run: `Ok` with the error when the job was enqueued again with its progress
/// (interrupted, or an error after progress with `resume_errors_after_advancing`), else `Err`
/// with the error to handle as any failure (which is [`Error::ResumeLimit`] once the job was
/// resumed `max_resumptions` times, or [`Error::InvalidStep`] for steps out of order).
pub(crate) async fn after_error(
    runtime: &Runtime,
    adapter: &str,
    ctx: &JobContext,
    data: &mut JobData,
    error: JobError,
) -> Result<JobError, JobError> {
    let Some((settings, progress)) = ctx.continuation() else { return Err(error) };
    let (interrupted, advanced, invalid) = {
        let progress = progress.lock().unwrap_or_else(PoisonError::into_inner);
        (progress.interrupted().is_some(), progress.advanced(), progress.invalid().map(str::to_owned))
    };
    finish(ctx, data);
    if let Some(message) = invalid {
        return Err(JobError::from(Error::InvalidStep(message)));
    }
    let reason = if interrupted {
        "interrupted".to_owned()
    } else if settings.resumes_errors_after_advancing() && advanced && !is_continuation_error(&error) {
        error.class().to_owned()
    } else {
        return Err(error);
    };
    let resumptions = data.resumptions.unwrap_or(0);
    if let Some(max) = settings.get_max_resumptions()
        && resumptions >= max
    {
        return Err(JobError::from(Error::ResumeLimit { job: data.job_class.clone(), max }));
    }
    let mut next = data.clone();
    // A resumption is not an attempt: the next run counts as this one did.
    next.executions = next.executions.saturating_sub(1);
    // With no wait, enqueued to run at once: a job scheduled for "now" would wait on a store that
    // rounds due times up until its clock moves on.
    let wait = settings.get_resume_wait();
    match requeue(runtime, next, (!wait.is_zero()).then_some(wait), "resuming continuable jobs").await {
        Ok(resumed) => {
            instrument::resume_enqueued(runtime, adapter, &resumed, wait, &reason);
            Ok(error)
        }
        Err(enqueue_error) => {
            tracing::error!(target: "jobs", "Could not enqueue {} to resume it: {enqueue_error}", data.job_class);
            Err(error)
        }
    }
}

/// The continuation's own errors fail the job rather than resume it, as in Rails.
fn is_continuation_error(error: &JobError) -> bool {
    matches!(
        error.framework(),
        Some(
            Error::InvalidStep(_)
                | Error::UnadvanceableCursor(_)
                | Error::NotContinuable(_)
                | Error::ResumeLimit { .. }
        )
    )
}
