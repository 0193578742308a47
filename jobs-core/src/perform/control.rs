//! A job's [`snooze`](crate::snooze) and [`cancel`](crate::cancel): recognised before any error
//! handling, neither counts as a failure.

use crate::contract::{JobContext, JobData, JobError, Outcome};
use crate::perform::requeue::requeue;
use crate::perform::rescue::{self, Handled, Scene};
use crate::perform::resume;

/// Applies a snooze or a cancel carried by `error`; `Err` gives back any other error for the
/// usual handling. `data` is the payload as performed.
///
/// A snooze stores the job again, due after its wait, with the counters it was claimed with (the
/// run is not an attempt) and a continuable job's progress; the run's claim then completes. If
/// the job cannot be stored again (an adapter that cannot schedule), the run fails with that
/// error. A cancel ends the job: `after_discard` runs, and the claim completes.
pub(crate) async fn apply(
    scene: &Scene<'_>,
    ctx: &JobContext,
    data: &mut JobData,
    error: JobError,
) -> Result<Handled, JobError> {
    if let Some(wait) = error.snoozed() {
        resume::finish(ctx, data);
        let mut next = data.clone();
        next.executions = next.executions.saturating_sub(1);
        // With no wait, enqueued to run at once, as a resumption is.
        return Ok(match requeue(scene.runtime, next, (!wait.is_zero()).then_some(wait), "snoozing jobs").await {
            Ok(_) => Handled { outcome: Outcome::Snoozed, error },
            Err(enqueue_error) => {
                tracing::error!(target: "jobs", "Could not enqueue {} to snooze it: {enqueue_error}", data.job_class);
                Handled { outcome: Outcome::Failed, error: JobError::from(enqueue_error) }
            }
        });
    }
    if error.cancelled().is_some() {
        rescue::after_discard(scene, ctx, data, &error).await;
        return Ok(Handled { outcome: Outcome::Cancelled, error });
    }
    Err(error)
}
