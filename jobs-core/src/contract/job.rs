//! The `Job` trait: what every job type provides to the runtime.

use std::future::Future;

use serde_json::Value;

use super::context::JobContext;
use super::continuation::Continuable;
use super::declarations::Declarations;
use super::encode::EncodeContext;
use super::error::{BoxError, Error, JobError};
use super::limits::{FlowControl, FlowKey};

/// A background job: a named, serializable unit of work.
///
/// `#[job]` implements this trait for you; it can also be written by hand. The
/// `#[job(queue = "mailers")] async fn greet(name: String, smtp: State<Smtp>) -> Result<(), SmtpError>`
/// expands to roughly this:
///
/// ```
/// use jobs_core::encoding::{ArgumentsReader, EncodeContext, to_argument};
/// use jobs_core::{Error, Job, JobContext, State};
/// use serde_json::Value;
///
/// # #[derive(Debug)] pub struct SmtpError; impl std::fmt::Display for SmtpError { fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result { f.write_str("smtp") } }
/// # impl std::error::Error for SmtpError {}
/// struct Smtp;
/// impl Smtp { async fn send(&self, _to: &str) -> Result<(), SmtpError> { Ok(()) } }
///
/// async fn greet(name: String, smtp: State<Smtp>) -> Result<(), SmtpError> {
///     smtp.send(&name).await
/// }
///
/// /// The job struct: one public field per serialized parameter.
/// pub struct Greet {
///     pub name: String,
/// }
///
/// impl Job for Greet {
///     const NAME: &'static str = "Greet";
///     const QUEUE: &'static str = "mailers";
///     type Output = Result<(), SmtpError>;
///
///     fn to_arguments(&self, _cx: &EncodeContext<'_>) -> Result<Vec<Value>, Error> {
///         Ok(vec![to_argument(Self::NAME, "name", &self.name)?])
///     }
///
///     fn from_arguments(arguments: Vec<Value>) -> Result<Self, Error> {
///         let mut reader = ArgumentsReader::new(Self::NAME, arguments, 1)?;
///         Ok(Greet { name: reader.next("name")? })
///     }
///
///     async fn perform(self, ctx: JobContext) -> Result<Self::Output, Error> {
///         let smtp = State::<Smtp>::from_context(&ctx)?;
///         Ok(greet(self.name, smtp).await)
///     }
/// }
///
/// // What `#[job]` also adds: registration with the worker's registry (by hand,
/// // `Runtime::builder().register::<Greet>()` does it) and `Greet::perform_later(name)`,
/// // `Greet::perform_now(name)`, `Greet::set()`. A hand-written job is enqueued with
/// // `runtime.perform_later(Greet { .. })` or `ConfiguredJob::new().wait(..).enqueue(Greet { .. })`.
/// ```
pub trait Job: Sized + Send + 'static {
    /// The stable wire name (`job_class` in the payload).
    const NAME: &'static str;
    /// The queue jobs of this class go to unless told otherwise.
    const QUEUE: &'static str = "default";
    /// The default priority (lower runs first); `None` leaves it to the backend.
    const PRIORITY: Option<i32> = None;
    /// Whether arguments may appear in logs, spans and events.
    const LOG_ARGUMENTS: bool = true;
    /// How long a run may take before it fails with a [`TimeoutError`](crate::TimeoutError).
    const TIMEOUT: Option<std::time::Duration> = None;
    /// Error handling and callbacks (`retry_on`, `discard_on`, `before_perform`, ...).
    const DECLARATIONS: &'static Declarations = &Declarations::EMPTY;
    /// `Some` for a job that runs in steps and resumes where it stopped
    /// ([`JobContext::step`](crate::JobContext::step)); `#[job(continuable)]` sets it.
    const CONTINUABLE: Option<Continuable> = None;
    /// A schedule on which a [`Worker`](crate::Worker)'s scheduler enqueues the job (which then
    /// takes no arguments), once per tick across every worker: a cron expression, an `@hourly`
    /// nickname or a phrase, as [`Schedule::parse`](crate::Schedule::parse) reads them; the
    /// recurring task's key is the job's [`NAME`](Job::NAME). `#[job(cron = "0 9 * * *")]` sets it.
    const CRON: Option<&'static str> = None;
    /// Flow control: a concurrency limit, a uniqueness rule, a throttle (see [`FlowControl`]);
    /// none by default. `#[job(limits_concurrency(..), unique(..), throttle(..))]` sets it.
    const FLOW: FlowControl = FlowControl::NONE;

    /// What the job returns: `()` or a `Result`; an `Err` is a failed run.
    type Output: JobResult + Send + 'static;

    /// The job's arguments as JSON values, one per serialized parameter, in order; `cx` is what
    /// the runtime the job is enqueued on gives encoding (the app name of global ids).
    fn to_arguments(&self, cx: &EncodeContext<'_>) -> Result<Vec<Value>, Error>;

    /// Builds the job back from its payload's arguments.
    fn from_arguments(arguments: Vec<Value>) -> Result<Self, Error>;

    /// Runs the job. An `Err` here is a framework failure met before the job's own code ran
    /// (missing state, for example); the job's own outcome is the `Output`.
    fn perform(self, ctx: JobContext) -> impl Future<Output = Result<Self::Output, Error>> + Send;

    /// This job's own key for `which` of its flow controls (the `key = |job| ..` of
    /// `limits_concurrency`, `unique` and `throttle`), computed from its arguments when it is
    /// enqueued; `None` (the default): the declaration has no key of its own, so the concurrency
    /// limit and the throttle apply to the whole class (or group) and the unique key is a digest
    /// of what [`UniqueBy`](crate::UniqueBy) names.
    fn flow_key(&self, which: FlowKey) -> Option<String> {
        let _ = which;
        None
    }
}

/// Builds a job from its serialized parameters as a tuple, in declaration order.
///
/// This is what lets `Greet::set().wait(..).perform_later(name)` take the parameters one by one.
pub trait FromArgs<Args>: Job {
    /// Builds the job.
    fn from_args(args: Args) -> Self;
}

/// What a job function may return: `()` or `Result<T, E>` with an error convertible to
/// [`BoxError`].
#[diagnostic::on_unimplemented(
    message = "a job must return `()` or `Result<T, E>`, not `{Self}`",
    label = "this return type does not tell whether the job succeeded",
    note = "`E` must convert into `Box<dyn std::error::Error + Send + Sync>` (any std error, `String`, `anyhow::Error`)"
)]
pub trait JobResult {
    /// What a successful run produces (`T` of `Result<T, E>`), returned by `perform_now`.
    type Value: Send + 'static;

    /// The value, or the failure.
    fn into_job_result(self) -> Result<Self::Value, JobError>;

    /// What `perform_now` returns when the run failed and `rescue_from`, `retry_on` or
    /// `discard_on` handled the error: `Some(())` where the value is `()`, `None` (the caller
    /// gets [`Error::Handled`]) where the job had a value to give.
    fn handled_value() -> Option<Self::Value> {
        None
    }
}

impl JobResult for () {
    type Value = ();

    fn into_job_result(self) -> Result<(), JobError> {
        Ok(())
    }

    fn handled_value() -> Option<()> {
        Some(())
    }
}

impl<T: Send + 'static, E: Into<BoxError> + 'static> JobResult for Result<T, E> {
    type Value = T;

    fn into_job_result(self) -> Result<T, JobError> {
        self.map_err(JobError::from_error)
    }

    fn handled_value() -> Option<T> {
        let unit: Box<dyn std::any::Any> = Box::new(());
        unit.downcast::<T>().ok().map(|unit| *unit)
    }
}
