//! The enqueue pipeline: one path from `perform_later` (or a bulk enqueue) to the store.
//!
//! Each job is encoded once, here: its payload built, its arguments encoded for the runtime it
//! is enqueued on, the JSON written and its size checked from those very bytes. The store (the
//! runtime's adapter, or a sink such as a database transaction) gets the encoded jobs through
//! one call, [`Adapter::enqueue_all`](crate::contract::Adapter::enqueue_all), for one job as for
//! many. A single job's enqueue callbacks run around that call; bulk enqueues skip them, as
//! Rails' `perform_all_later` does.

use std::sync::Mutex;

use crate::contract::{Capabilities, Declarations, Error, JobData, NewJob, TraceHeaders};
use crate::encoding::check_payload_size;
use crate::enqueue::callbacks;
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

    async fn store(&mut self, runtime: &Runtime, jobs: &[NewJob]) -> Result<Vec<Option<String>>, Error> {
        match self {
            // Scoped, so that an adapter that performs at enqueue (the inline one) runs the jobs
            // on the runtime that enqueued them.
            Target::Adapter => runtime.scope(runtime.adapter().enqueue_all(jobs)).await,
            Target::Sink(sink) => sink.store(jobs).await,
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
/// logged, and its enqueue callbacks.
type Meta = (bool, &'static Declarations);

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
    Ok((encoded, (job.log_arguments, job.declarations)))
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
    let ids = match (encoded.as_slice(), meta.as_slice()) {
        ([], _) => Vec::new(),
        ([one], [(_, declarations)]) => vec![store_one(runtime, &mut target, one, declarations).await?],
        (many, _) => {
            let ids = target.store(runtime, many).await?;
            instrument::enqueued_all(runtime, name, many.len());
            ids
        }
    };
    let handles = encoded
        .into_iter()
        .zip(meta)
        .zip(ids)
        .map(|((encoded, (log_arguments, _)), provider_job_id)| {
            let data = JobData { provider_job_id, ..encoded.into_data() };
            instrument::enqueued(runtime, name, &data, log_arguments);
            Enqueued::from(data)
        })
        .collect();
    Ok(handles)
}

/// Stores one job, with its enqueue callbacks (global middleware and the job's own) around the
/// store; returns its provider id.
async fn store_one(
    runtime: &Runtime,
    target: &mut Target<'_>,
    job: &NewJob,
    declarations: &Declarations,
) -> Result<Option<String>, Error> {
    let jobs = std::slice::from_ref(job);
    let middleware = runtime.middleware();
    if middleware.is_empty() && !has_enqueue_callbacks(declarations) {
        return Ok(first(target.store(runtime, jobs).await?));
    }
    let provider = Mutex::new(None);
    callbacks::enqueue(
        middleware,
        declarations,
        job.data(),
        Box::new(|| {
            Box::pin(async {
                *provider.lock().unwrap_or_else(|e| e.into_inner()) = first(target.store(runtime, jobs).await?);
                Ok(())
            })
        }),
    )
    .await?;
    Ok(provider.into_inner().unwrap_or_else(|e| e.into_inner()))
}

fn first(ids: Vec<Option<String>>) -> Option<String> {
    ids.into_iter().next().flatten()
}

fn has_enqueue_callbacks(declarations: &Declarations) -> bool {
    !(declarations.before_enqueue.is_empty()
        && declarations.around_enqueue.is_empty()
        && declarations.after_enqueue.is_empty())
}
