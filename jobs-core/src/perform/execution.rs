//! Executing a job: decode, callbacks, perform, error handling, instrumentation.
//!
//! One pipeline for every path (worker, test adapter, inline adapter, `perform_now`), so a job
//! behaves the same wherever it runs.

use std::panic::AssertUnwindSafe;
use std::sync::Mutex;
use std::time::Instant;

use futures_util::FutureExt;
use tracing::Instrument;

use crate::contract::{
    BoxFuture, Error, Job, JobContext, JobData, JobError, JobResult, Outcome, ProgressSink, Signals, Ticket,
};
use crate::enqueue::{EnqueueOptions, job_data_of};
use crate::perform::callbacks;
use crate::perform::control;
use crate::perform::rescue::{self, Handled, Scene};
use crate::perform::resume;
use crate::runtime::instrument::RunLabels;
use crate::runtime::instrument::names::{SpanName, System};
use crate::runtime::{Ending, Executed, Runtime, instrument};

/// `perform_now`: runs the job in the caller, no queue, with callbacks and error handling.
pub(crate) async fn perform_now<J: Job>(
    runtime: &Runtime,
    job: J,
    options: EnqueueOptions,
) -> Result<<J::Output as JobResult>::Value, Error> {
    let data = job_data_of(runtime, &job, &options)?;
    let (executed, value) = perform_job::<J>(runtime, "Inline", Box::new(data), Some(job), Ending::default()).await;
    match (value, executed.outcome) {
        (Some(value), _) => Ok(value),
        (None, Outcome::Halted) => {
            let (callback, reason) = executed.halted.unwrap_or_default();
            Err(Error::Halted { job: J::NAME.to_owned(), callback, reason })
        }
        // Handled, as Rails returns from perform_now: with `()`, or, for a job with a value it
        // now lacks, with the error that was handled.
        (
            None,
            outcome @ (Outcome::Rescued
            | Outcome::Retried
            | Outcome::Discarded
            | Outcome::Resumed
            | Outcome::Snoozed
            | Outcome::Cancelled),
        ) => match <J::Output as JobResult>::handled_value() {
            Some(value) => Ok(value),
            None => Err(Error::Handled {
                job: J::NAME.to_owned(),
                outcome,
                error: executed.error.unwrap_or_else(|| JobError::panic("handled without an error")),
            }),
        },
        (None, _) => {
            let error = executed.error.unwrap_or_else(|| JobError::panic("job produced no value"));
            Err(error.into_framework().unwrap_or_else(Error::Job))
        }
    }
}

/// Decodes a stored payload, looks its class up and performs it; `provider_job_id` is the
/// backend's id of the job.
pub(crate) async fn execute_payload(
    runtime: &Runtime,
    payload: &str,
    provider_job_id: String,
    ending: Ending,
) -> Executed {
    match JobData::from_json(payload).map(Box::new) {
        Ok(mut data) => {
            data.provider_job_id = Some(provider_job_id);
            execute(runtime, data, ending).await
        }
        Err(error) => {
            tracing::error!(target: "jobs", "Failed to decode a job payload from {}: {error}", runtime.adapter().name());
            Executed::unrun(None, error.into())
        }
    }
}

/// Performs a decoded payload through its class's registration.
pub(crate) async fn execute(runtime: &Runtime, mut data: Box<JobData>, ending: Ending) -> Executed {
    match runtime.registry().get(&data.job_class).copied() {
        Some(registration) => registration.execute(runtime.clone(), data, ending).await,
        None => {
            data.executions += 1;
            let error = JobError::from(Error::UnknownJob(data.job_class.clone()));
            let adapter = runtime.adapter().name();
            let labels = RunLabels::of(&data);
            let took = Default::default();
            instrument::performed(runtime, adapter, &data, &labels, false, took, Outcome::Failed, Some(&error));
            Executed::unrun(Some(data), error)
        }
    }
}

/// The type-erased entry point a registration stores for job type `J`.
pub(crate) fn execute_erased<J: Job>(
    runtime: Runtime,
    data: Box<JobData>,
    ending: Ending,
) -> BoxFuture<'static, Executed> {
    Box::pin(async move { perform_job::<J>(&runtime, runtime.adapter().name(), data, None, ending).await.0 })
}

/// The pipeline: decode (unless given the job), `before_perform`, `around_perform` around the
/// job (with its timeout, panics caught), `after_perform`, then error handling for failures.
async fn perform_job<J: Job>(
    runtime: &Runtime,
    adapter: &str,
    mut data: Box<JobData>,
    job: Option<J>,
    ending: Ending,
) -> (Executed, Option<<J::Output as JobResult>::Value>) {
    data.executions += 1;
    resume::begin(&mut data, J::CONTINUABLE);
    let log_arguments = J::LOG_ARGUMENTS;
    let declarations = J::DECLARATIONS;
    let middleware = runtime.middleware();
    let span = process_span(runtime, adapter, &data);
    let labels = RunLabels::declared(&data, J::NAME, J::QUEUE);
    // The run's one read of the runtime's clock: its latency, and (with how long it took) when
    // it ended.
    let started_at = runtime.now();
    instrument::perform_start(runtime, adapter, &data, &labels, log_arguments, started_at);
    let started = Instant::now();
    let stops = ending.stops.clone();
    let sink = progress_sink::<J>(runtime, &data, ending.claim_token);
    let signals = Signals { stops: ending.stops, sink };
    let env = ending.env.unwrap_or_else(|| runtime.environment());
    // The context holds the payload during the run; a run that succeeds takes it back without a
    // copy (see `resume::finished`).
    let ctx = JobContext::new(data, signals, env, J::CONTINUABLE);
    let value = Mutex::new(None);

    let run = async {
        let job = match job {
            Some(job) => job,
            None => J::from_arguments(ctx.data().arguments.clone())?,
        };
        if let Err((callback, halt)) = callbacks::before_perform(middleware, declarations, &ctx).await {
            return Ok(Some((callback, halt.reason)));
        }
        // Without `around_perform` callbacks the job runs in place; with them, boxed, as the
        // innermost layer.
        if declarations.around_perform.is_empty() && middleware.is_empty() {
            perform::<J>(job, &ctx, &value).await?;
        } else {
            let perform =
                Box::new(|| -> BoxFuture<'_, Result<(), JobError>> { Box::pin(perform::<J>(job, &ctx, &value)) });
            if let Some(callback) = callbacks::around_perform(middleware, declarations, &ctx, perform).await? {
                return Ok(Some((callback, None)));
            }
        }
        callbacks::after_perform(middleware, declarations, &ctx).await;
        Ok::<_, JobError>(None)
    };
    let result = match AssertUnwindSafe(run.instrument(span.clone())).catch_unwind().await {
        Ok(result) => result,
        Err(panic) => Err(JobError::panic(panic_message(&*panic))),
    };
    let (data, outcome, error, halted) = match result {
        Ok(None) => (resume::finished(ctx), Outcome::Performed, None, None),
        Ok(Some((callback, reason))) => {
            let data = ctx.into_data();
            instrument::halted(&data, &callback, reason.as_deref());
            (data, Outcome::Halted, None, Some((callback, reason)))
        }
        Err(error) => {
            // The handlers see the context as the run saw it, and the payload as they change it.
            let mut data = Box::new(ctx.data().clone());
            // The job ends here unless the worker's policy retries it, or the worker is stopping
            // and hands it back.
            let ends = data.executions >= ending.last_run && !stops.stop.is_cancelled();
            let scene = Scene { runtime, adapter, declarations, log_arguments, ends };
            // The error paths are boxed: inline, their futures would make every run's future
            // (allocated per job) several times larger.
            let handled = match Box::pin(control::apply(&scene, &ctx, &mut data, error)).await {
                Ok(handled) => handled,
                Err(error) => match Box::pin(resume::after_error(runtime, adapter, &ctx, &mut data, error)).await {
                    Ok(error) => Handled { outcome: Outcome::Resumed, error },
                    Err(error) => Box::pin(rescue::handle(&scene, &ctx, &mut data, error)).await,
                },
            };
            (data, handled.outcome, Some(handled.error), None)
        }
    };
    let took = started.elapsed();
    record_outcome(&span, outcome, error.as_ref());
    let _entered = span.enter();
    instrument::performed(runtime, adapter, &data, &labels, log_arguments, took, outcome, error.as_ref());
    let value = value.into_inner().unwrap_or_else(|e| e.into_inner());
    let ended_at = chrono::TimeDelta::from_std(took).ok().and_then(|took| started_at.checked_add_signed(took));
    (Executed { data: Some(data), outcome, error, halted, took, ended_at }, value)
}

/// The span of a run, after OpenTelemetry's messaging conventions: a consumer span
/// `process {queue}`, connected to the enqueue's trace context by the runtime's propagator.
///
/// A run builds none while nothing could see it: no tracing subscriber was ever set, and no `log`
/// logger takes info lines (tracing hands spans to one when its `log` feature is on, as sqlx
/// turns it on). Building, entering and recording a span that goes nowhere cost a no-op run
/// ~600 instructions, 4 % of all it takes.
fn process_span(runtime: &Runtime, adapter: &str, data: &JobData) -> tracing::Span {
    if !tracing::dispatcher::has_been_set() && log::max_level() < log::LevelFilter::Info {
        return tracing::Span::none();
    }
    let span = tracing::info_span!(
        target: "jobs",
        "process",
        otel.name = %SpanName("process", &data.queue_name),
        otel.kind = "consumer",
        otel.status_code = tracing::field::Empty,
        messaging.system = %System(adapter),
        messaging.operation.type = "process",
        messaging.operation.name = "perform",
        messaging.destination.name = %data.queue_name,
        messaging.message.id = %data.job_id,
        jobs.class = %data.job_class,
        jobs.attempt = i64::from(data.executions),
        jobs.provider_job_id = data.provider_job_id.as_deref(),
        jobs.outcome = tracing::field::Empty,
        error.type = tracing::field::Empty,
    );
    if let (Some(propagator), Some(headers)) = (runtime.propagator(), &data.trace_headers)
        && !span.is_disabled()
    {
        propagator.attach(&span, headers);
    }
    span
}

/// How the run ended, on its span: `jobs.outcome`, and for a failed run `error.type` and an error
/// status (a rescued or resumed run is not an error).
fn record_outcome(span: &tracing::Span, outcome: Outcome, error: Option<&JobError>) {
    span.record("jobs.outcome", outcome.as_str());
    if let Some(error) = error
        && matches!(outcome, Outcome::Failed | Outcome::Retried | Outcome::Discarded)
    {
        span.record("error.type", error.class());
        span.record("otel.status_code", "ERROR");
    }
}

/// Where a worker's run of a continuable job stores its progress: its claim on the runtime's
/// backend. Other jobs, and runs outside a worker, get none (and pay nothing).
fn progress_sink<J: Job>(runtime: &Runtime, data: &JobData, claim_token: Option<i64>) -> Option<ProgressSink> {
    let settings = J::CONTINUABLE?;
    let ticket = Ticket { id: data.provider_job_id.clone()?, token: claim_token? };
    Some(ProgressSink::new(runtime.adapter().clone(), ticket, settings.get_checkpoint_interval()))
}

/// The job itself: its `perform`, under its timeout, a panic caught as an error; its value goes
/// to `value`.
async fn perform<J: Job>(
    job: J,
    ctx: &JobContext,
    value: &Mutex<Option<<J::Output as JobResult>::Value>>,
) -> Result<(), JobError> {
    let output = with_timeout::<J, _>(AssertUnwindSafe(J::perform(job, ctx.clone())).catch_unwind()).await?;
    let output = output.map_err(|panic| JobError::panic(panic_message(&*panic)))??;
    *value.lock().unwrap_or_else(|e| e.into_inner()) = Some(output.into_job_result()?);
    Ok(())
}

async fn with_timeout<J: Job, F: Future>(future: F) -> Result<F::Output, JobError> {
    match J::TIMEOUT {
        Some(limit) => tokio::time::timeout(limit, future).await.map_err(|_| JobError::timeout(limit)),
        None => Ok(future.await),
    }
}

/// What a panic said, when it said it with a string.
pub(crate) fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "(no message)".to_owned()
    }
}
