//! The framework's error type, and the job's own failure type.

use std::borrow::Cow;
use std::fmt;

use super::control::{Cancel, Snooze};

/// A boxed error, the currency in which jobs report their failures.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Errors of the jobs framework itself (enqueueing, decoding, adapters).
///
/// The job's own failure is a [`JobError`]; it reaches this type only as [`Error::Job`], when a
/// call such as the inline adapter's enqueue runs the job in place.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The adapter cannot do what was asked (for example, the inline adapter and scheduled jobs).
    #[error("{adapter} adapter does not support {feature}")]
    NotSupported {
        /// The adapter's name, e.g. `Inline`.
        adapter: String,
        /// What was asked of it, with a hint at what to use instead.
        feature: String,
    },
    /// An argument could not be turned into JSON at enqueue time.
    #[error("cannot serialize argument `{argument}` of {job}: {message}")]
    Serialization {
        /// The job class.
        job: String,
        /// The parameter name (or position) of the argument.
        argument: String,
        /// What went wrong.
        message: String,
    },
    /// The payload's arguments could not be turned back into the job's parameters.
    #[error("cannot deserialize arguments of {job}: {message}")]
    Deserialization {
        /// The job class.
        job: String,
        /// What went wrong.
        message: String,
    },
    /// A job's payload is bigger than the runtime's limit (`RuntimeBuilder::max_payload_size`).
    #[error(
        "payload of {job} is {size} bytes, over the limit of {limit} bytes: pass ids and load the data \
         in the job, or raise the limit with Runtime::builder().max_payload_size(..)"
    )]
    PayloadTooLarge {
        /// The job class.
        job: String,
        /// The payload's size in bytes, as JSON.
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// A payload names a job class that nobody registered in this process.
    #[error(
        "unknown job class `{0}`: no job with that name is registered in this process \
         (declare it with #[job] or register it with Registry::register)"
    )]
    UnknownJob(String),
    /// Two job types were registered under one name.
    #[error("job name `{0}` is registered twice: give one of them `#[job(name = \"...\")]`")]
    DuplicateJob(String),
    /// A payload is not a valid Active Job serialized hash.
    #[error("invalid job payload: {0}")]
    InvalidPayload(String),
    /// No runtime is installed and none is in scope.
    #[error(
        "no jobs runtime is installed: call Runtime::install() at start-up, \
         or run the code inside Runtime::scope()"
    )]
    NoRuntime,
    /// A job asked for application state that was never added to the runtime.
    #[error(
        "application state `{0}` is not installed on the runtime: \
         add it with Runtime::builder().state(...)"
    )]
    MissingState(&'static str),
    /// The runtime or worker was configured with invalid values.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The backend failed (connection lost, query error, ...): the adapter's own error, which
    /// [`AdapterError::downcast_ref`] reaches (e.g. a `jobs_postgres::PostgresError`).
    #[error(transparent)]
    Adapter(AdapterError),
    /// A job run in place (perform_now, inline adapter, test helpers) failed.
    #[error("{0}")]
    Job(JobError),
    /// A job run by `perform_now` failed, its `rescue_from`, `retry_on` or `discard_on` handled
    /// the error, and the job has a value to return that it never produced. A job returning `()`
    /// or `Result<(), E>` returns `Ok(())` instead, as Rails' `perform_now` returns normally.
    #[error("{job} failed and its error was {}: {error}", outcome.as_str())]
    Handled {
        /// The job class.
        job: String,
        /// What became of the error: `Rescued`, `Retried` or `Discarded`.
        outcome: super::events::Outcome,
        /// The error that was handled.
        error: JobError,
    },
    /// A `before_enqueue` or `before_perform` callback halted the job, or an `around_perform`
    /// returned without calling `next`.
    #[error("{job} was halted by callback `{callback}`{}", reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default())]
    Halted {
        /// The job class.
        job: String,
        /// The callback that halted it.
        callback: String,
        /// Why, if the callback said.
        reason: Option<String>,
    },
    /// A continuable job's steps are out of order, repeated or nested (Rails'
    /// `ActiveJob::Continuation::InvalidStepError`).
    #[error("invalid step: {0}")]
    InvalidStep(String),
    /// A step's cursor cannot be advanced (Rails' `UnadvanceableCursorError`).
    #[error("cannot advance the step's cursor: {0}")]
    UnadvanceableCursor(String),
    /// A continuable job stopped at a checkpoint because its worker is stopping, or before an
    /// isolated step; it is enqueued again with its progress (Rails' `Continuation::Interrupt`).
    /// Return it from the job (`?` does) so that the job ends here.
    #[error("interrupted {description} ({reason})")]
    Interrupted {
        /// Where the job stopped: `at 'rows', cursor 4200`.
        description: String,
        /// Why: `stopping` or `isolating`.
        reason: &'static str,
    },
    /// A continuable job was resumed as many times as its `max_resumptions` allows (Rails'
    /// `ResumeLimitError`).
    #[error("{job} was resumed the maximum of {max} times (max_resumptions)")]
    ResumeLimit {
        /// The job class.
        job: String,
        /// Its `max_resumptions`.
        max: u32,
    },
    /// A job that is not continuable used steps.
    #[error("{0} uses steps but is not continuable: declare it with #[job(continuable)]")]
    NotContinuable(String),
}

impl Error {
    /// Wraps a backend error for the named adapter.
    pub fn adapter(adapter: impl Into<String>, source: impl Into<BoxError>) -> Self {
        Error::Adapter(AdapterError { adapter: adapter.into(), error: source.into() })
    }

    /// An [`Error::NotSupported`] for the named adapter.
    pub fn not_supported(adapter: impl Into<String>, feature: impl Into<String>) -> Self {
        Error::NotSupported { adapter: adapter.into(), feature: feature.into() }
    }

    /// The error class recorded when this error fails a job, in Active Job's naming.
    pub fn class(&self) -> &'static str {
        match self {
            Error::Deserialization { .. } => "ActiveJob::DeserializationError",
            Error::UnknownJob(_) => "jobs::UnknownJob",
            Error::InvalidPayload(_) => "jobs::InvalidPayload",
            Error::MissingState(_) => "jobs::MissingState",
            Error::Serialization { .. } => "ActiveJob::SerializationError",
            Error::InvalidStep(_) => "ActiveJob::Continuation::InvalidStepError",
            Error::UnadvanceableCursor(_) => "ActiveJob::Continuation::UnadvanceableCursorError",
            Error::Interrupted { .. } => "ActiveJob::Continuation::Interrupt",
            Error::ResumeLimit { .. } => "ActiveJob::Continuation::ResumeLimitError",
            _ => "jobs::Error",
        }
    }
}

/// Why a job failed: its own error, a panic, or a framework error met while running it.
///
/// Keeps the error's class (its Rust type name) and the error itself, so that handlers can match
/// on it with [`JobError::downcast_ref`].
pub struct JobError {
    class: Cow<'static, str>,
    source: BoxError,
}

impl JobError {
    /// A job error of the given class.
    pub fn new(class: impl Into<Cow<'static, str>>, source: impl Into<BoxError>) -> Self {
        JobError { class: class.into(), source: source.into() }
    }

    /// A job error whose class is the Rust type path of `E` (`my_app::SmtpError`).
    ///
    /// When `E` only carries another error (`Box<dyn Error + Send + Sync>`, `String`, `&str`,
    /// `anyhow::Error`, ...), the class is the carried error's. Rust keeps no type name at run
    /// time, so it is read from the error: the framework's own errors and `std::io::Error` by
    /// their type, a bare message (`String`, `&str`, `anyhow!("..")`) as `RuntimeError`, as Ruby
    /// names `raise "message"`, and anything else by the name its `Debug` output starts with
    /// (`Rejected` for a `#[derive(Debug)] struct Rejected`, the variant's name for an enum). An
    /// error whose `Debug` names no type is a `RuntimeError` too.
    ///
    /// ```
    /// # use jobs_core::JobError;
    /// #[derive(Debug, thiserror::Error)]
    /// #[error("address rejected")]
    /// struct Rejected;
    ///
    /// assert!(JobError::from_error(Rejected).class().ends_with("Rejected"));
    /// let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(Rejected);
    /// assert_eq!(JobError::from_error(boxed).class(), "Rejected");
    /// let message = JobError::from_error(String::from("again"));
    /// assert_eq!((message.class(), message.message().as_str()), ("RuntimeError", "again"));
    /// ```
    pub fn from_error<E: Into<BoxError> + 'static>(error: E) -> Self {
        let name = std::any::type_name::<E>();
        let source = error.into();
        // A `JobError` given back (a job returning `Result<_, JobError>`) keeps its class.
        let source = match source.downcast::<JobError>() {
            Ok(job_error) => return *job_error,
            Err(source) => source,
        };
        match carried_type(name) {
            Some(inner) => JobError { class: Cow::Owned(inner.to_owned()), source },
            None if is_container(name) => JobError { class: Cow::Owned(class_of(&*source)), source },
            None => JobError { class: Cow::Borrowed(name), source },
        }
    }

    /// The job panicked with this message.
    pub fn panic(message: impl Into<String>) -> Self {
        JobError::new("jobs::PanicError", PanicError { message: message.into() })
    }

    /// The job ran longer than its timeout.
    pub fn timeout(after: std::time::Duration) -> Self {
        JobError::new("jobs::TimeoutError", TimeoutError { after })
    }

    /// True if the error, or any error in its `source()` chain, is a `T`.
    pub fn is<T: std::error::Error + 'static>(&self) -> bool {
        self.find::<T>().is_some()
    }

    /// The first `T` in the error's `source()` chain, the error itself included.
    pub(crate) fn find<T: std::error::Error + 'static>(&self) -> Option<&T> {
        let mut current: Option<&(dyn std::error::Error + 'static)> = Some(&*self.source);
        while let Some(error) = current {
            if let Some(found) = error.downcast_ref::<T>() {
                return Some(found);
            }
            // Errors that print what they wrap return what comes after it as their source
            // (`std::io::Error`'s way): step into them here so that nothing is skipped.
            current = if let Some(Error::Adapter(adapter)) = error.downcast_ref::<Error>() {
                Some(&*adapter.error)
            } else if let Some(adapter) = error.downcast_ref::<AdapterError>() {
                Some(&*adapter.error)
            } else if let Some(job) = error.downcast_ref::<JobError>() {
                Some(&*job.source)
            } else {
                error.source()
            };
        }
        None
    }

    /// The job's class, e.g. `my_app::SmtpError` or `panic`.
    pub fn class(&self) -> &str {
        &self.class
    }

    /// The error's message.
    pub fn message(&self) -> String {
        self.source.to_string()
    }

    /// The underlying error.
    pub fn source_ref(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        &*self.source
    }

    /// The underlying error as a `T`, if it is one.
    pub fn downcast_ref<T: std::error::Error + 'static>(&self) -> Option<&T> {
        self.source.downcast_ref::<T>()
    }

    /// The framework error behind this failure, if it is one (missing state, unknown class, ...).
    pub fn framework(&self) -> Option<&Error> {
        self.source.downcast_ref::<Error>()
    }

    /// The framework error behind this failure, or the failure itself.
    pub fn into_framework(self) -> Result<Error, JobError> {
        match self.source.downcast::<Error>() {
            Ok(error) => Ok(*error),
            Err(source) => Err(JobError { class: self.class, source }),
        }
    }
}

impl From<Error> for JobError {
    fn from(error: Error) -> Self {
        match error {
            Error::Deserialization { job, message } => {
                JobError::new("ActiveJob::DeserializationError", DeserializationError { job, message })
            }
            error => JobError::new(error.class(), error),
        }
    }
}

/// The class of an error whose type is no longer known (a boxed `dyn Error`): see
/// [`JobError::from_error`].
fn class_of(error: &(dyn std::error::Error + 'static)) -> String {
    if let Some(error) = error.downcast_ref::<Error>() {
        return error.class().to_owned();
    }
    for (is, class) in [
        (error.is::<PanicError>(), "jobs::PanicError"),
        (error.is::<TimeoutError>(), "jobs::TimeoutError"),
        (error.is::<DeserializationError>(), "ActiveJob::DeserializationError"),
        (error.is::<std::io::Error>(), "std::io::Error"),
    ] {
        if is {
            return class.to_owned();
        }
    }
    // The alternate form, because `anyhow::Error` then shows the error it carries.
    let debug = format!("{error:#?}");
    let name: String = debug.chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':').collect();
    let name = name.trim_end_matches(':');
    match name.rsplit("::").next() {
        Some(last) if last.starts_with(|c: char| c.is_uppercase()) && !NAMELESS.contains(&name) => name.to_owned(),
        _ => RUNTIME_ERROR.to_owned(),
    }
}

/// The class of an error that is only a message.
const RUNTIME_ERROR: &str = "RuntimeError";

/// `Debug` outputs that start with a word that is not the error's type.
const NAMELESS: &[&str] = &["Error", "Custom", "Some", "None", "Ok", "Err"];

/// Types that only carry an error (or a message) and say nothing of its class.
fn is_container(name: &str) -> bool {
    name.starts_with("alloc::boxed::Box<dyn ")
        || name.starts_with("alloc::sync::Arc<dyn ")
        || matches!(
            name,
            "alloc::string::String" | "&str" | "alloc::borrow::Cow<str>" | "anyhow::Error" | "eyre::Report"
        )
}

/// `T` of a `Box<T>` of a named type: the class is `T`'s.
fn carried_type(name: &str) -> Option<&str> {
    let inner = name.strip_prefix("alloc::boxed::Box<")?.strip_suffix('>')?;
    (!inner.starts_with("dyn ")).then_some(inner)
}

/// A job's arguments could not be decoded (a record gone, a type changed); match it with
/// `discard_on(DeserializationError)` or `retry_on(DeserializationError, ..)`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot deserialize arguments of {job}: {message}")]
pub struct DeserializationError {
    /// The job class.
    pub job: String,
    /// What went wrong.
    pub message: String,
}

/// A job panicked; the panic is a failure of that job, never of the worker.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("job panicked: {message}")]
pub struct PanicError {
    /// The panic's message.
    pub message: String,
}

/// A job ran longer than its `#[job(timeout = ..)]`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("job timed out after {after:?}")]
pub struct TimeoutError {
    /// The timeout that was exceeded.
    pub after: std::time::Duration,
}

impl fmt::Debug for JobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JobError").field("class", &self.class).field("message", &self.message()).finish()
    }
}

impl fmt::Display for JobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.class, self.source)
    }
}

/// Its `source()` is what follows the error it carries in the chain, not that error itself:
/// [`Display`](fmt::Display) already prints it, so a printed chain shows each message once. Reach
/// the carried error with [`JobError::source_ref`] or [`JobError::downcast_ref`].
///
/// The exception is a [`snooze`](super::snooze) or a [`cancel`](super::cancel): its source is the
/// [`Snooze`] or [`Cancel`] itself, so that the runtime still finds it inside an error that hides
/// its type (`anyhow::Error` boxes a `JobError` that way) by walking the chain.
impl std::error::Error for JobError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        if self.source.is::<Snooze>() || self.source.is::<Cancel>() {
            return Some(&*self.source);
        }
        self.source.source()
    }
}

/// A backend's error with the name of the adapter that met it: what [`Error::Adapter`] carries.
///
/// It prints as `PostgreSQL adapter error: <the backend's message>`; like `std::io::Error`, its
/// `source()` is what follows the backend's error in the chain, so that a printed chain shows
/// each message once. The backend's error itself is [`AdapterError::error`].
///
/// ```
/// # use jobs_core::Error;
/// let error = Error::adapter("Store", std::io::Error::other("disk full"));
/// assert_eq!(error.to_string(), "Store adapter error: disk full");
/// let Error::Adapter(adapter) = &error else { unreachable!() };
/// assert_eq!(adapter.adapter(), "Store");
/// assert!(adapter.downcast_ref::<std::io::Error>().is_some());
/// assert!(std::error::Error::source(&error).is_none(), "disk full is printed once");
/// ```
#[derive(Debug)]
pub struct AdapterError {
    adapter: String,
    error: BoxError,
}

impl AdapterError {
    /// The adapter's name, e.g. `PostgreSQL`.
    pub fn adapter(&self) -> &str {
        &self.adapter
    }

    /// The backend's own error.
    pub fn error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        &*self.error
    }

    /// The backend's error as a `T`, if it is one.
    pub fn downcast_ref<T: std::error::Error + 'static>(&self) -> Option<&T> {
        self.error.downcast_ref::<T>()
    }

    /// The backend's error, giving up the adapter's name.
    pub fn into_error(self) -> BoxError {
        self.error
    }
}

impl fmt::Display for AdapterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} adapter error: {}", self.adapter, self.error)
    }
}

impl std::error::Error for AdapterError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.error.source()
    }
}
