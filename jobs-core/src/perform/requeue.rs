//! Enqueueing a job again as Rails' `retry_job` does: same job id, a new stored job, counters
//! kept. Used by `retry_on` and by the resumption of continuable jobs.

use std::time::Duration;

use crate::contract::{Error, JobData, NewJob};
use crate::runtime::Runtime;

/// Stores `next` (the payload to run again) on `runtime`'s adapter, due after `wait`, or at once
/// (unscheduled) for `None`; `what` names the feature in the error of an adapter that cannot
/// schedule.
pub(crate) async fn requeue(
    runtime: &Runtime,
    mut next: JobData,
    wait: Option<Duration>,
    what: &str,
) -> Result<JobData, Error> {
    let now = runtime.now();
    next.provider_job_id = None;
    next.enqueued_at = Some(now);
    let adapter = runtime.adapter();
    if !adapter.capabilities().scheduling {
        return Err(Error::not_supported(adapter.name(), what));
    }
    next.scheduled_at = wait.map(|wait| now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX));
    let encoded = NewJob::new(next)?;
    let provider_job_id = adapter.enqueue_all(std::slice::from_ref(&encoded)).await?.pop().flatten();
    Ok(JobData { provider_job_id, ..encoded.into_data() })
}
