//! The enqueue pipeline: one path from `perform_later` (or a bulk enqueue) to the store.
//!
//! Each job is encoded once, here: its payload built, its arguments encoded for the runtime it
//! is enqueued on, the JSON written and its size checked from those very bytes. The store (the
//! runtime's adapter, or a sink such as a database transaction) gets the encoded jobs through
//! one call, [`Adapter::enqueue_all`](crate::contract::Adapter::enqueue_all), for one job as for
//! many. A single job's enqueue callbacks run around that call; bulk enqueues skip them, as
//! Rails' `perform_all_later` does. A batch with a unique job goes through
//! [`FlowStore::enqueue_unique`](crate::contract::FlowStore::enqueue_unique) instead, and its
//! duplicates come back as handles of the jobs stored already.

use std::sync::Mutex;

use crate::contract::{Capabilities, Declarations, Error, JobData, NewJob, TraceHeaders, UniqueOutcome, Uniqueness};
use crate::encoding::check_payload_size;
use crate::enqueue::callbacks;
use crate::enqueue::unique::{flow_store, uniqueness};
use crate::enqueue::{EnqueueSink, Enqueued, PendingJob};
use crate::runtime::instrument::names::{SpanName, System};
use crate::runtime::{Runtime, instrument};

/// Where one enqueue call stores its jobs.
enum Target<'s> {
    Adapter,
    Sink(&'s mut dyn EnqueueSink),
}

impl Target<'_> {
    fn capabilities(&self, runtime: &Runtime) -> Capabilities {
        match self {
            Target::Adapter => runtime.adapter().capabilities(),
            Target::Sink(sink) => sink.capabilities(),
        }
    }

    /// Stores `jobs`; with `unique` (a batch with a unique job: one rule per job), through the
    /// adapter's flow store, which may answer that some are duplicates.
    async fn store(
        &mut self,
        runtime: &Runtime,
        jobs: &[NewJob],
        unique: Option<&[Option<Uniqueness>]>,
    ) -> Result<Stored, Error> {
        match (self, unique) {
            // Scoped, so that an adapter that performs at enqueue (the inline one) runs the jobs
            // on the runtime that enqueued them.
            (Target::Adapter, None) => Ok(Stored::Ids(runtime.scope(runtime.adapter().enqueue_all(jobs)).await?)),
            (Target::Sink(sink), None) => Ok(Stored::Ids(sink.store(jobs).await?)),
            (Target::Adapter, Some(unique)) => {
                let flow = flow_store(runtime.adapter().as_ref(), "unique jobs")?;
                Ok(Stored::Unique(runtime.scope(flow.enqueue_unique(jobs, unique)).await?))
            }
            (Target::Sink(sink), Some(_)) => Err(Error::not_supported(
                sink.name(),
                "unique jobs enqueued into a sink; enqueue them on the runtime's adapter",
            )),
        }
    }
}

/// What the store made of a batch.
enum Stored {
    /// Every job was stored: their provider ids.
    Ids(Vec<Option<String>>),
    /// A batch with unique jobs: each job stored, or a duplicate of a stored one.
    Unique(Vec<UniqueOutcome>),
}

impl Stored {
    fn first(self) -> Stored {
        match self {
            Stored::Ids(ids) => Stored::Ids(ids.into_iter().take(1).collect()),
            Stored::Unique(outcomes) => Stored::Unique(outcomes.into_iter().take(1).collect()),
        }
    }
}

/// Enqueues `jobs` on the runtime's adapter.
pub(crate) async fn enqueue_all(runtime: &Runtime, jobs: Vec<PendingJob>) -> Result<Vec<Enqueued>, Error> {
    enqueue_to(runtime, jobs, Target::Adapter, runtime.adapter().name()).await
}

/// Enqueues `jobs` into `sink` instead of the runtime's adapter.
pub(crate) async fn enqueue_all_into(
    runtime: &Runtime,
    jobs: Vec<PendingJob>,
    sink: &mut dyn EnqueueSink,
) -> Result<Vec<Enqueued>, Error> {
    let name = sink.name().to_owned();
    enqueue_to(runtime, jobs, Target::Sink(sink), &name).await
}

async fn enqueue_to(
    runtime: &Runtime,
    jobs: Vec<PendingJob>,
    target: Target<'_>,
    name: &str,
) -> Result<Vec<Enqueued>, Error> {
    // OpenTelemetry's messaging conventions: a producer span `send {queue}` per enqueue call.
    let span = match jobs.as_slice() {
        [job] => tracing::info_span!(
            target: "jobs",
            "send",
            otel.name = %SpanName("send", job.queue()),
            otel.kind = "producer",
            messaging.system = %System(name),
            messaging.operation.type = "send",
            messaging.operation.name = "enqueue",
            messaging.destination.name = job.queue(),
            messaging.message.id = tracing::field::Empty,
            jobs.class = job.class,
        ),
        _ => tracing::info_span!(
            target: "jobs",
            "send",
            otel.name = "send",
            otel.kind = "producer",
            messaging.system = %System(name),
            messaging.operation.type = "send",
            messaging.operation.name = "enqueue",
            messaging.batch.message_count = jobs.len(),
        ),
    };
    let work = enqueue_in_span(runtime, jobs, target, name, &span);
    tracing::Instrument::instrument(work, span.clone()).await
}

/// What the pipeline keeps of a job beside its encoded form: whether its arguments may be
/// logged, its enqueue callbacks, and for a unique job the rule the store applies.
type Meta = (bool, &'static Declarations, Option<Uniqueness>);

/// Builds and encodes one job's payload, once; checks its size and the store's scheduling.
/// With a trace propagator installed, the payload carries the trace context of the enqueue span
/// (the current span here).
fn encode(runtime: &Runtime, capabilities: Capabilities, name: &str, job: PendingJob) -> Result<(NewJob, Meta), Error> {
    let mut data = job.to_job_data(runtime)?;
    if let Some(propagator) = runtime.propagator() {
        let mut headers = TraceHeaders::new();
        propagator.inject(&mut headers);
        data.trace_headers = (!headers.is_empty()).then_some(headers);
    }
    let encoded = NewJob::new(data)?;
    check_payload_size(&encoded, runtime.max_payload_size())?;
    if encoded.data().scheduled_at.is_some() && !capabilities.scheduling {
        return Err(Error::not_supported(
            name,
            "scheduled jobs (wait / wait_until); use an adapter that schedules, such as memory or sqlite",
        ));
    }
    let unique = match (&job.flow.unique, encoded.data().flow.as_ref().and_then(|f| f.unique.as_deref())) {
        (Some(rule), Some(key)) => {
            Some(uniqueness(rule, key, encoded.data().enqueued_at.unwrap_or_else(|| runtime.now())))
        }
        _ => None,
    };
    Ok((encoded, (job.log_arguments, job.declarations, unique)))
}

async fn enqueue_in_span(
    runtime: &Runtime,
    jobs: Vec<PendingJob>,
    mut target: Target<'_>,
    name: &str,
    span: &tracing::Span,
) -> Result<Vec<Enqueued>, Error> {
    let capabilities = target.capabilities(runtime);
    let (encoded, meta): (Vec<NewJob>, Vec<Meta>) =
        jobs.into_iter().map(|job| encode(runtime, capabilities, name, job)).collect::<Result<_, _>>()?;
    if let [one] = encoded.as_slice() {
        span.record("messaging.message.id", one.data().job_id.as_str());
    }
    let unique: Option<Vec<Option<Uniqueness>>> =
        meta.iter().any(|(_, _, unique)| unique.is_some()).then(|| meta.iter().map(|m| m.2.clone()).collect());
    let stored = match (encoded.as_slice(), meta.as_slice()) {
        ([], _) => Stored::Ids(Vec::new()),
        ([one], [(_, declarations, _)]) => {
            store_one(runtime, &mut target, one, declarations, unique.as_deref()).await?
        }
        (many, _) => {
            let stored = target.store(runtime, many, unique.as_deref()).await?;
            instrument::enqueued_all(runtime, name, many.len());
            stored
        }
    };
    let handles = match stored {
        Stored::Ids(ids) => encoded
            .into_iter()
            .zip(meta)
            .zip(ids)
            .map(|((encoded, (log_arguments, ..)), provider_job_id)| {
                let data = JobData { provider_job_id, ..encoded.into_data() };
                instrument::enqueued(runtime, name, &data, log_arguments);
                Enqueued::from(data)
            })
            .collect(),
        Stored::Unique(outcomes) => encoded
            .into_iter()
            .zip(meta)
            .zip(outcomes)
            .map(|((encoded, (log_arguments, ..)), outcome)| match outcome {
                UniqueOutcome::Stored(provider_job_id) => {
                    let data = JobData { provider_job_id, ..encoded.into_data() };
                    instrument::enqueued(runtime, name, &data, log_arguments);
                    Enqueued::from(data)
                }
                UniqueOutcome::Duplicate { job_id, provider_job_id } => {
                    instrument::flow::duplicate(runtime, name, encoded.data(), log_arguments, &job_id);
                    Enqueued::duplicate_of(encoded.data(), job_id, provider_job_id)
                }
            })
            .collect(),
    };
    Ok(handles)
}

/// Stores one job, with its enqueue callbacks (global middleware and the job's own) around the
/// store.
async fn store_one(
    runtime: &Runtime,
    target: &mut Target<'_>,
    job: &NewJob,
    declarations: &Declarations,
    unique: Option<&[Option<Uniqueness>]>,
) -> Result<Stored, Error> {
    let jobs = std::slice::from_ref(job);
    let middleware = runtime.middleware();
    if middleware.is_empty() && !has_enqueue_callbacks(declarations) {
        return Ok(target.store(runtime, jobs, unique).await?.first());
    }
    let stored = Mutex::new(None);
    callbacks::enqueue(
        middleware,
        declarations,
        job.data(),
        Box::new(|| {
            Box::pin(async {
                let outcome = target.store(runtime, jobs, unique).await?.first();
                *stored.lock().unwrap_or_else(|e| e.into_inner()) = Some(outcome);
                Ok(())
            })
        }),
    )
    .await?;
    // A callback that did not call the store leaves the job stored with no id, as before.
    Ok(stored.into_inner().unwrap_or_else(|e| e.into_inner()).unwrap_or(Stored::Ids(vec![None])))
}

fn has_enqueue_callbacks(declarations: &Declarations) -> bool {
    !(declarations.before_enqueue.is_empty()
        && declarations.around_enqueue.is_empty()
        && declarations.after_enqueue.is_empty())
}
