//! Log lines and events of flow control: a duplicate unique job, a job blocked or discarded by
//! its concurrency limit, a job delayed by its throttle.

use std::time::Duration;

use crate::contract::{Event, EventKind, JobData, JobError};
use crate::runtime::Runtime;
use crate::runtime::instrument::{discarded, seconds};

/// A unique job was not stored: `holder` (a job id) holds its key.
pub(crate) fn duplicate(runtime: &Runtime, adapter: &str, data: &JobData, log_arguments: bool, holder: &str) {
    tracing::info!(
        target: "jobs",
        job_class = %data.job_class,
        job_id = %data.job_id,
        queue = %data.queue_name,
        "Skipped duplicate {} (Job ID: {}) to {}({}): job {holder} holds its unique key",
        data.job_class, data.job_id, adapter, data.queue_name
    );
    let event = Event::new(EventKind::EnqueueDuplicate, adapter, Some(data), log_arguments);
    runtime.emit(&Event { reason: Some(holder), ..event });
}

/// A claimed job waits for a slot of its concurrency key.
pub(crate) fn blocked(data: &JobData, key: &str) {
    tracing::info!(
        target: "jobs",
        job_class = %data.job_class,
        job_id = %data.job_id,
        "Blocked {} (Job ID: {}): every slot of concurrency key {key} is taken",
        data.job_class, data.job_id
    );
}

/// A claimed job is discarded: every slot of its key is taken and it declared `on_conflict = discard`.
pub(crate) fn discarded_at_limit(runtime: &Runtime, adapter: &str, data: &JobData, log_arguments: bool, key: &str) {
    let error = JobError::new("ConcurrencyLimit", format!("every slot of concurrency key {key} is taken"));
    discarded(runtime, adapter, data, log_arguments, &error);
}

/// A claimed job is delayed by its throttle until its reserved start, `wait` from now.
pub(crate) fn throttled(runtime: &Runtime, adapter: &str, data: &JobData, log_arguments: bool, wait: Duration) {
    tracing::info!(
        target: "jobs",
        job_class = %data.job_class,
        job_id = %data.job_id,
        "Throttled {} (Job ID: {}): starts in {} seconds",
        data.job_class, data.job_id, seconds(wait)
    );
    runtime.emit(&Event { wait: Some(wait), ..Event::new(EventKind::Throttle, adapter, Some(data), log_arguments) });
}
