//! `PendingJob`: a job of any class with its enqueue options, not encoded yet; and `Enqueued`,
//! what an enqueue returns.

use std::fmt;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::contract::{Continuation, Declarations, EncodeContext, Error, FlowControl, FlowKey, Job, JobData};
use crate::enqueue::options::{EnqueueOptions, When};
use crate::enqueue::unique::flow_keys;
use crate::runtime::Runtime;

/// A job ready to be enqueued, of any class: the unit of [`perform_all_later`](crate::perform_all_later).
///
/// Its arguments are encoded when it is enqueued, for the runtime it is enqueued on (whose app
/// name goes into global ids), once.
pub struct PendingJob {
    pub(crate) class: &'static str,
    default_queue: &'static str,
    default_priority: Option<i32>,
    pub(crate) log_arguments: bool,
    pub(crate) declarations: &'static Declarations,
    continuable: bool,
    pub(crate) flow: FlowControl,
    job: Box<dyn ToArguments>,
    pub(crate) options: EnqueueOptions,
}

/// A job's argument encoding and flow-control keys, with its type erased.
trait ToArguments: Send {
    fn to_arguments(&self, cx: &EncodeContext<'_>) -> Result<Vec<Value>, Error>;
    fn flow_key(&self, which: FlowKey) -> Option<String>;
}

impl<J: Job> ToArguments for J {
    fn to_arguments(&self, cx: &EncodeContext<'_>) -> Result<Vec<Value>, Error> {
        Job::to_arguments(self, cx)
    }

    fn flow_key(&self, which: FlowKey) -> Option<String> {
        Job::flow_key(self, which)
    }
}

impl fmt::Debug for PendingJob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingJob").field("class", &self.class).field("options", &self.options).finish_non_exhaustive()
    }
}

impl<J: Job> From<J> for PendingJob {
    fn from(job: J) -> Self {
        PendingJob::new(job)
    }
}

impl PendingJob {
    /// A job with its default queue and priority, to run as soon as possible.
    pub fn new<J: Job>(job: J) -> Self {
        PendingJob::with_options(job, EnqueueOptions::default())
    }

    pub(crate) fn with_options<J: Job>(job: J, options: EnqueueOptions) -> Self {
        PendingJob {
            class: J::NAME,
            default_queue: J::QUEUE,
            default_priority: J::PRIORITY,
            log_arguments: J::LOG_ARGUMENTS,
            declarations: J::DECLARATIONS,
            continuable: J::CONTINUABLE.is_some(),
            flow: J::FLOW,
            job: Box::new(job),
            options,
        }
    }

    /// The queue this job goes to: the one its options name, else its class's.
    pub(crate) fn queue(&self) -> &str {
        self.options.queue.as_deref().unwrap_or(self.default_queue)
    }

    /// The payload this job would be enqueued with on `runtime` (a new job id, times from the
    /// runtime's clock, arguments encoded for it, flow-control keys computed), without
    /// enqueueing it: for tools, and for adapter tests that store payloads directly.
    pub fn to_job_data(&self, runtime: &Runtime) -> Result<JobData, Error> {
        let arguments = self.job.to_arguments(&runtime.encode_context())?;
        let defaults = (self.class, self.default_queue, self.default_priority, self.continuable);
        let mut data = build_data(runtime, defaults, &self.options, arguments)?;
        if !self.flow.is_empty() {
            data.flow = flow_keys(&data, &self.flow, |which| self.job.flow_key(which))?;
        }
        Ok(data)
    }
}

/// The payload of job `job` with `options` on `runtime`, the job kept (for `perform_now`).
pub(crate) fn job_data_of<J: Job>(runtime: &Runtime, job: &J, options: &EnqueueOptions) -> Result<JobData, Error> {
    let arguments = job.to_arguments(&runtime.encode_context())?;
    build_data(runtime, (J::NAME, J::QUEUE, J::PRIORITY, J::CONTINUABLE.is_some()), options, arguments)
}

/// A new payload: class, default queue and default priority, with `options` applied; a
/// continuable job starts with no progress and no resumptions, as Active Job 8.1 writes them.
fn build_data(
    runtime: &Runtime,
    (class, default_queue, default_priority, continuable): (&str, &str, Option<i32>, bool),
    options: &EnqueueOptions,
    arguments: Vec<Value>,
) -> Result<JobData, Error> {
    let now = runtime.now();
    let scheduled_at = match options.when {
        None => None,
        Some(When::Wait(delay)) => {
            Some(now + chrono::Duration::from_std(delay).map_err(|e| Error::Config(e.to_string()))?)
        }
        Some(When::At(at)) => Some(at),
    };
    Ok(JobData {
        job_class: class.to_owned(),
        job_id: JobData::new_job_id(),
        provider_job_id: None,
        queue_name: options.queue.clone().unwrap_or_else(|| default_queue.to_owned()),
        priority: options.priority.or(default_priority),
        arguments,
        executions: 0,
        exception_executions: Default::default(),
        locale: "en".to_owned(),
        timezone: Some("UTC".to_owned()),
        enqueued_at: Some(now),
        scheduled_at,
        continuation: continuable.then(Continuation::default),
        resumptions: continuable.then_some(0),
        recurring: None,
        trace_headers: None,
        flow: None,
    })
}

/// The handle `perform_later` returns: what the job was enqueued as, or, for a unique job whose
/// key a stored job holds, that stored job ([`Enqueued::is_duplicate`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Enqueued {
    /// The job's id (UUID).
    pub job_id: String,
    /// The backend's id for the job, if it gave one.
    pub provider_job_id: Option<String>,
    /// The job's class.
    pub job_class: String,
    /// The queue it went to.
    pub queue: String,
    /// When it is due, for a scheduled job (`None` for a duplicate: the stored job's time is
    /// not known here).
    pub scheduled_at: Option<DateTime<Utc>>,
    /// True when the job was a duplicate of a unique job stored already: nothing was stored, and
    /// `job_id` and `provider_job_id` are the stored job's.
    pub duplicate: bool,
}

impl Enqueued {
    /// Whether the job was a duplicate of a unique job stored already (see [`Enqueued::duplicate`]).
    pub fn is_duplicate(&self) -> bool {
        self.duplicate
    }

    /// The handle of a job that was not stored: the job `job_id` (backend id `provider_job_id`)
    /// holds its unique key.
    pub(crate) fn duplicate_of(data: &JobData, job_id: String, provider_job_id: Option<String>) -> Self {
        Enqueued {
            job_id,
            provider_job_id,
            job_class: data.job_class.clone(),
            queue: data.queue_name.clone(),
            scheduled_at: None,
            duplicate: true,
        }
    }
}

impl From<JobData> for Enqueued {
    fn from(data: JobData) -> Self {
        Enqueued {
            job_id: data.job_id,
            provider_job_id: data.provider_job_id,
            job_class: data.job_class,
            queue: data.queue_name,
            scheduled_at: data.scheduled_at,
            duplicate: false,
        }
    }
}
