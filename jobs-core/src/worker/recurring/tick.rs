//! Enqueueing one tick of a task: its job built from the stored task, stored through the
//! adapter's recurring store (once per tick, whatever the number of schedulers), logged.

use chrono::{DateTime, Utc};

use crate::contract::{Error, JobData, NewJob, RecurringRun, RecurringStore, RecurringTask, TickOutcome};
use crate::encoding::check_payload_size;
use crate::enqueue::Enqueued;
use crate::runtime::{Runtime, instrument};

/// The adapter's recurring store, or why there is none.
pub(crate) fn store(runtime: &Runtime) -> Result<&dyn RecurringStore, Error> {
    runtime.adapter().recurring().ok_or_else(|| Error::not_supported(runtime.adapter().name(), "recurring tasks"))
}

/// The payload of task `task`'s run at tick `run_at`: its class and arguments, its queue and
/// priority (else the class's defaults, if this process knows the class), and the tick.
fn job(runtime: &Runtime, task: &RecurringTask, run_at: DateTime<Utc>) -> Result<NewJob, Error> {
    let registration = runtime.registry().get(&task.class);
    let queue = task.queue.clone().or_else(|| registration.map(|r| r.queue().to_owned()));
    let data = JobData {
        job_class: task.class.clone(),
        job_id: JobData::new_job_id(),
        provider_job_id: None,
        queue_name: queue.unwrap_or_else(|| "default".to_owned()),
        priority: task.priority.or_else(|| registration.and_then(|r| r.priority())),
        arguments: task.arguments.clone(),
        executions: 0,
        exception_executions: Default::default(),
        locale: "en".to_owned(),
        timezone: Some("UTC".to_owned()),
        enqueued_at: Some(runtime.now()),
        scheduled_at: None,
        continuation: None,
        resumptions: None,
        recurring: Some(RecurringRun { task: task.key.clone(), run_at }),
        // A tick starts its own trace: no request enqueued it.
        trace_headers: None,
        flow: None,
    };
    let job = NewJob::new(data)?;
    check_payload_size(&job, runtime.max_payload_size())?;
    Ok(job)
}

/// Enqueues task `task`'s run at tick `run_at` unless another scheduler did (or the task is
/// paused or gone); logs and reports an enqueue as `perform_later` does.
pub(crate) async fn enqueue(
    runtime: &Runtime,
    task: &RecurringTask,
    run_at: DateTime<Utc>,
) -> Result<(TickOutcome, Option<Enqueued>), Error> {
    let job = job(runtime, task, run_at)?;
    let outcome = store(runtime)?.enqueue_tick(&task.key, run_at, &job).await?;
    let TickOutcome::Enqueued(provider_job_id) = &outcome else { return Ok((outcome, None)) };
    let data = JobData { provider_job_id: provider_job_id.clone(), ..job.into_data() };
    let log_arguments = runtime.registry().get(&task.class).is_none_or(|r| r.log_arguments());
    tracing::debug!(target: "jobs", task = %task.key, run_at = %crate::contract::format_time(&run_at), "Recurring task due");
    instrument::enqueued(runtime, runtime.adapter().name(), &data, log_arguments);
    Ok((outcome, Some(Enqueued::from(data))))
}
