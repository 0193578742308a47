//! Enqueueing a job again as Rails' `retry_job` does: same job id, a new stored job, counters
//! kept. Used by `retry_on`, snoozes, the resumption of continuable jobs and throttle delays.
//!
//! The job keeps its flow-control keys; a unique job goes through the adapter's flow store, where
//! it takes its own key over (same `job_id`).

use std::time::Duration;

use crate::contract::{Error, JobData, NewJob, UniqueOutcome};
use crate::enqueue::unique::{flow_store, uniqueness_of};
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
    let unique = uniqueness_of(runtime, &next);
    let encoded = NewJob::new(next)?;
    let jobs = std::slice::from_ref(&encoded);
    let provider_job_id = match unique {
        None => adapter.enqueue_all(jobs).await?.pop().flatten(),
        Some(unique) => {
            let flow = flow_store(adapter.as_ref(), "unique jobs")?;
            match flow.enqueue_unique(jobs, std::slice::from_ref(&Some(unique))).await?.pop() {
                Some(UniqueOutcome::Stored(id)) => id,
                // Another job took the key once this one's hold ran out (`for`): that one runs.
                Some(UniqueOutcome::Duplicate { job_id, .. }) => {
                    tracing::info!(
                        target: "jobs",
                        "Not enqueueing {} (Job ID: {}) again: job {job_id} holds its unique key now",
                        encoded.data().job_class, encoded.data().job_id
                    );
                    None
                }
                None => None,
            }
        }
    };
    Ok(JobData { provider_job_id, ..encoded.into_data() })
}
