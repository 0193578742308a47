//! Executing a job: decode, look up, inject, perform, and catch what goes wrong.

use std::panic::AssertUnwindSafe;
use std::time::Instant;

use futures_util::FutureExt;
use tokio_util::sync::CancellationToken;

use crate::context::JobContext;
use crate::enqueue::{EnqueueOptions, PendingJob};
use crate::error::{Error, JobError};
use crate::instrument;
use crate::job::Job;
use crate::payload::JobData;
use crate::runtime::Runtime;

/// `perform_now`: runs the job in the caller, no queue, and returns what it returned.
pub(crate) async fn perform_now<J: Job>(
    runtime: &Runtime,
    job: J,
    options: EnqueueOptions,
) -> Result<J::Output, Error> {
    let (mut data, log_arguments) = PendingJob::with_options(&job, options).into_data(runtime)?;
    data.executions += 1;
    let started = Instant::now();
    instrument::perform_start("Inline", &data, log_arguments);
    let ctx = JobContext::new(data.clone(), CancellationToken::new(), runtime.clone());
    let output = J::perform(job, ctx).await?;
    instrument::performed("Inline", &data, started.elapsed(), None);
    Ok(output)
}

/// What came of running one stored job.
#[derive(Debug)]
pub(crate) struct Executed {
    /// The payload as performed (`executions` counted up), if it could be decoded.
    pub(crate) data: Option<JobData>,
    /// The outcome.
    pub(crate) result: Result<(), JobError>,
}

/// Decodes a stored payload and performs it; the job sees `provider_job_id` as its backend id
/// when the payload does not carry one.
pub(crate) async fn execute_payload(
    runtime: &Runtime,
    adapter: &str,
    payload: &str,
    provider_job_id: &str,
    stop: CancellationToken,
) -> Executed {
    match JobData::from_json(payload) {
        Ok(mut data) => {
            data.provider_job_id.get_or_insert_with(|| provider_job_id.to_owned());
            execute(runtime, adapter, data, stop).await
        }
        Err(error) => {
            tracing::error!(target: "jobs", "Failed to decode a job payload from {adapter}: {error}");
            Executed { data: None, result: Err(error.into()) }
        }
    }
}

/// Performs a decoded payload: registry look-up, argument decoding, the job itself; panics are
/// caught and become errors of the job.
pub(crate) async fn execute(runtime: &Runtime, adapter: &str, mut data: JobData, stop: CancellationToken) -> Executed {
    data.executions += 1;
    let Some(registration) = runtime.registry().get(&data.job_class).copied() else {
        let error = JobError::from(Error::UnknownJob(data.job_class.clone()));
        instrument::performed(adapter, &data, std::time::Duration::ZERO, Some(&error));
        return Executed { data: Some(data), result: Err(error) };
    };
    let log_arguments = registration.log_arguments();
    instrument::perform_start(adapter, &data, log_arguments);
    let started = Instant::now();
    let ctx = JobContext::new(data.clone(), stop, runtime.clone());
    let future = registration.perform(data.arguments.clone(), ctx);
    let result = match AssertUnwindSafe(future).catch_unwind().await {
        Ok(result) => result,
        Err(panic) => Err(JobError::panic(panic_message(&*panic))),
    };
    instrument::performed(adapter, &data, started.elapsed(), result.as_ref().err());
    Executed { data: Some(data), result }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "(no message)".to_owned()
    }
}
