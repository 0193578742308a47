//! # jobs: Active Job for Rust
//!
//! Declare background jobs once with `#[job]` and run them on any queuing backend.
//!
//! ```no_run
//! use jobs::prelude::*;
//!
//! #[job(queue = "mailers")]
//! async fn send_welcome_email(address: String) -> Result<(), std::io::Error> {
//!     println!("welcome, {address}");
//!     Ok(())
//! }
//!
//! # async fn demo() -> Result<(), jobs::Error> {
//! Runtime::builder().build()?.install();
//! SendWelcomeEmail::perform_later("bob@example.com".into()).await?;
//! SendWelcomeEmail::set()
//!     .wait(std::time::Duration::from_secs(3600))
//!     .perform_later("bob@example.com".into())
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! | adapter | durable | for | feature |
//! |---|---|---|---|
//! | [`adapters::InlineAdapter`] | no | scripts, tests: runs at enqueue | |
//! | [`adapters::MemoryAdapter`] | no | development, one process | |
//! | [`adapters::TestAdapter`] | no | tests: records, asserts, performs on demand | |
//! | `sqlite::SqliteAdapter` | yes | the embedded default: one file, several processes | `sqlite` (default) |
//! | `postgres::PostgresAdapter` | yes | production, workers on many machines | `postgres` |
//! | `redis::RedisAdapter` | yes | many machines; Sidekiq's layout, shared with Rails | `redis` |
//!
//! | feature | default | what |
//! |---|---|---|
//! | `sqlite` | yes | the SQLite adapter, `jobs::sqlite` |
//! | `postgres` | no | the PostgreSQL adapter, `jobs::postgres` |
//! | `redis` | no | the Redis adapter, `jobs::redis`: Sidekiq's key layout and job format |
//! | `decimal` | no | `rust_decimal::Decimal` arguments, as Active Job's `BigDecimal` |
//! | `cli` | no | `jobs::cli`: `myapp work` and the operations commands in the application's binary |
//! | `mailer` | no | mail delivered later, `jobs::mailer`: Action Mailer's `deliver_later` on lettre |
//! | `web` | no | the dashboard, `jobs::web`: an axum router of queues, jobs, errors and workers |
//! | `otel` | no | OpenTelemetry, `jobs::otel`: trace context from enqueue to perform, OTLP in one call |

#![cfg_attr(docsrs, feature(doc_cfg))]

pub use jobs_core::{
    AdapterError, Backoff, BoxError, BoxFuture, Cancel, Clock, ConcurrencyLimit, ConfiguredJob, Continuable,
    Continuation, Counts, CurrentStep, CustomSerializer, DeserializationError, Enqueued, Error, Event, EventKind,
    FlowControl, FlowKey, FlowKeys, Global, GlobalId, HISTORY_RETENTION, Halt, HistoryPoint, Inspect, Job, JobAction,
    JobContext, JobData, JobError, JobFilter, JobInfo, JobPage, JobRegistration, JobResult, JobState, Keywords,
    Limiter, ListParams, ManualClock, Middleware, MissedTicks, NextEnqueue, NextPerform, OnConflict, Outcome,
    PanicError, PendingJob, ProcessCommand, ProcessInfo, ProcessState, QueueStats, Recurring, RecurringRun,
    RecurringTask, RecurringTaskInfo, RecurringTaskState, RecurringTasks, Registry, RetryPolicy, Runtime,
    RuntimeBuilder, Schedule, Scheduler, Snooze, State, Step, StepOptions, Subscriber, SystemClock, Target, Throttle,
    TimeoutError, UniqueBy, UniqueJob, Worker, WorkerBuilder, WorkerHandle, cancel, parse_recurring, perform_all_later,
    read_recurring_file, shutdown_signal, snooze, sqlx_global_id,
};

/// The in-process adapters: [`InlineAdapter`](adapters::InlineAdapter) (runs at enqueue),
/// [`MemoryAdapter`](adapters::MemoryAdapter) (queues in this process) and
/// [`TestAdapter`](adapters::TestAdapter) (records jobs for assertions, performs them on demand).
pub mod adapters {
    pub use jobs_core::adapters::{InlineAdapter, JobFilter, JobMatch, MemoryAdapter, TestAdapter};
}

/// For adapter authors: the traits a queuing backend implements ([`Adapter`](adapter::Adapter),
/// [`Backend`](adapter::Backend), [`Inspect`]) and the types they exchange with
/// the runtime. Applications rarely need this module.
pub mod adapter {
    pub use jobs_core::adapter::migrations;
    pub use jobs_core::adapter::{
        Adapter, Backend, BoxFuture, Capabilities, ClaimParams, ClaimedJob, Counts, EnqueueSink, ErrorRecord, Failure,
        FlowStore, HISTORY_RETENTION, HistoryPoint, Inspect, JobAction, JobFilter, JobInfo, JobPage, JobState,
        ListParams, NewJob, ProcessCommand, ProcessInfo, ProcessState, QueueStats, RecurringStore, RecurringTask,
        RecurringTaskState, SlotOutcome, SlotParams, TICK_RETENTION, Target, TickOutcome, Ticket, UniqueOutcome,
        Uniqueness, due_micros, duration_to_micros, format_time, forward, hostname, micros_to_time, parse_time, redact,
        time_to_micros,
    };
}

/// For hand-written [`Job`] impls and argument types with an Active Job encoding of their own.
pub mod encoding {
    pub use jobs_core::encoding::{
        ArgumentsReader, CustomSerializer, DEFAULT_MAX_PAYLOAD_SIZE, EncodeContext, JobArgument, Keywords,
        MAX_ARGUMENT_DEPTH, RichArgument, from_argument, serializers, to_argument, to_rich_argument,
    };
}

/// Observability: the trace propagation seam and the names and units of every metric and
/// attribute jobs records (see the README's "Observability" section).
pub mod telemetry {
    pub use jobs_core::telemetry::*;
}

/// OpenTelemetry: the trace context of each enqueue carried in its payload to the perform
/// ([`otel::OtelPropagator`]), and [`otel::install`] for a tracing layer with an OTLP exporter in
/// one call.
///
/// ```no_run
/// # fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let telemetry = jobs::otel::install(jobs::otel::OtelConfig::new("billing"))?;
/// jobs::Runtime::builder().trace_propagator(telemetry.propagator()).build()?.install();
/// # Ok(()) }
/// ```
#[cfg(feature = "otel")]
#[cfg_attr(docsrs, doc(cfg(feature = "otel")))]
pub use jobs_otel as otel;

#[doc(hidden)]
pub use jobs_core::__private;

/// The SQLite adapter: jobs in one file, durable, drained by one or several worker processes.
///
/// ```no_run
/// # async fn demo() -> Result<(), jobs::Error> {
/// let sqlite = jobs::sqlite::SqliteAdapter::open("jobs.db").await?;
/// jobs::Runtime::builder().adapter(sqlite).build()?.install();
/// # Ok(()) }
/// ```
#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
pub use jobs_sqlite as sqlite;

/// The PostgreSQL adapter: jobs in a schema of their own, drained by workers on many machines,
/// enqueued inside the application's transactions if it likes.
///
/// ```no_run
/// # async fn demo() -> Result<(), jobs::Error> {
/// let postgres = jobs::postgres::PostgresAdapter::connect("postgres://app@localhost/app").await?;
/// jobs::Runtime::builder().adapter(postgres).build()?.install();
/// # Ok(()) }
/// ```
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub use jobs_postgres as postgres;
/// The Redis adapter: jobs in Sidekiq's key layout and job format, so that Rails (through Active
/// Job's Sidekiq adapter) and Rust share one set of queues; reliable fetch, batched claims.
///
/// ```no_run
/// # async fn demo() -> Result<(), jobs::Error> {
/// let redis = jobs::redis::RedisAdapter::from_env().await?; // REDIS_URL or the local server
/// jobs::Runtime::builder().adapter(redis).build()?.install();
/// # Ok(()) }
/// ```
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use jobs_redis as redis;

/// The command line, for an application's own binary: `myapp work --queues a,b --concurrency 10`
/// runs a worker over the jobs compiled in, and every operations command of the standalone
/// `jobs` binary (`stats`, `list`, `show`, `retry`, `pause`, `processes`, ...) comes with it.
///
/// ```no_run
/// use jobs::prelude::*;
///
/// #[job(queue = "mailers")]
/// async fn send_welcome_email(address: String) {
///     println!("welcome, {address}");
/// }
///
/// #[tokio::main]
/// async fn main() -> jobs::cli::Exit {
///     // myapp --database-url jobs.db work --queues mailers,default --health-addr 127.0.0.1:9100
///     jobs::cli::run().await
/// }
/// ```
///
/// The backend comes from `--database-url` / `JOBS_DATABASE_URL` (a SQLite path, `postgres://…`
/// or `redis://…`, for the adapter features enabled); see [`cli::Cli`] for settings, state for
/// the jobs, and signals, and [`cli::Exit`] for exit statuses.
#[cfg(feature = "cli")]
#[cfg_attr(docsrs, doc(cfg(feature = "cli")))]
pub use jobs_cli as cli;

/// The dashboard: queues, jobs by state, error history and worker processes, as an axum router
/// to mount under any prefix; safe by default (no access until the application chooses who,
/// CSRF-checked actions, a strict Content-Security-Policy). See the [`jobs_web`] crate.
///
/// ```no_run
/// # async fn demo(runtime: jobs::Runtime, app: jobs::web::axum::Router) {
/// let dashboard = jobs::web::Dashboard::for_runtime(&runtime).basic_auth("admin", "s3cret").router();
/// let app = app.nest("/admin/jobs", dashboard);
/// # }
/// ```
#[cfg(feature = "web")]
#[cfg_attr(docsrs, doc(cfg(feature = "web")))]
pub use jobs_web as web;

/// Mail delivered later: Action Mailer's `deliver_later` on lettre, in Rails'
/// `ActionMailer::MailDeliveryJob` payload. See the [`jobs_mailer`] crate's documentation; the
/// [`mailer`](mailer::mailer) attribute declares a mailer's actions.
#[cfg(feature = "mailer")]
#[cfg_attr(docsrs, doc(cfg(feature = "mailer")))]
pub mod mailer {
    pub use jobs_mailer::*;

    /// Declares a mailer: each `async fn` of the `impl` block is an action, returning
    /// `Result<Mail, E>`.
    ///
    /// ```no_run
    /// use jobs::mailer::{Attachment, Mail, MailError, mailer};
    ///
    /// pub struct UserMailer;
    ///
    /// #[mailer(from = "Example <hello@example.com>", reply_to = "help@example.com", layout = "mailer")]
    /// impl UserMailer {
    ///     /// Welcomes a new user: templates user_mailer/welcome.{text,html}.jinja.
    ///     pub async fn welcome(email: String, name: String) -> Result<Mail, MailError> {
    ///         Ok(Mail::new()
    ///             .to(email)
    ///             .subject(format!("Welcome, {name}"))
    ///             .with("name", name)
    ///             .attach(Attachment::new("terms.txt", "text/plain", Self::terms())))
    ///     }
    ///
    ///     fn terms() -> Vec<u8> {
    ///         b"Be nice.".to_vec()
    ///     }
    /// }
    ///
    /// # async fn demo() -> Result<(), jobs::Error> {
    /// UserMailer::welcome("ada@example.com".into(), "Ada".into()).deliver_later().await?;
    /// # Ok(()) }
    /// ```
    ///
    /// For each action (`welcome`) it generates:
    ///
    /// * `UserMailer::welcome(email, name)`, which returns a [`MessageDelivery`] to
    ///   `deliver_later()`, `deliver_later_with().wait(..).queue(..).deliver_later()` or
    ///   `deliver_now()`; the function as written is kept, hidden, and runs when the mail is
    ///   delivered;
    /// * a struct `UserMailerWelcome` with one public field per argument, implementing
    ///   [`Job`](crate::Job) (named `UserMailer#welcome`, never enqueued on its own: its arguments
    ///   travel in a [`MailDeliveryJob`]) and [`MailAction`], registered with `inventory` so that a
    ///   worker finds `UserMailer` / `welcome` in a payload;
    ///
    /// and implements [`Mailer`] for `UserMailer` with the attribute's defaults.
    ///
    /// Arguments are those of a job: anything serde serializes, Active Job's types
    /// ([`Global<T>`](crate::Global) records, times, ...), in the payload's `args`; `State<T>` and
    /// `&JobContext` parameters are injected, not serialized. `async fn`s with `self` are an
    /// error; plain `fn`s stay helpers.
    ///
    /// | key | value | meaning |
    /// |---|---|---|
    /// | `name` | `"Admin::UserMailer"` | the mailer's class in payloads (default: the type's name) and, Rails' way, its template folder (`admin/user_mailer`) |
    /// | `from`, `reply_to` | address | defaults for this mailer's mails |
    /// | `layout` | `"mailer"` | `layouts/mailer.{text,html}.jinja` |
    /// | `crate` | `"::path::to::jobs"` | where the jobs crate is |
    pub use jobs_macros::mailer;
}

/// The `#[job]` attribute: turns an `async fn` into a background job.
///
/// ```no_run
/// use jobs::prelude::*;
/// use jobs::{DeserializationError, Halt, JobError};
///
/// #[derive(Debug, thiserror::Error)]
/// #[error("smtp server busy")]
/// struct SmtpBusy;
///
/// #[job(
///     queue = "mailers",
///     priority = 10,
///     name = "WelcomeMailJob",
///     timeout = "30s",
///     retry_on(SmtpBusy, attempts = 5, wait = polynomially_longer, with = give_up),
///     discard_on(DeserializationError),
///     before_perform = check_opt_in,
/// )]
/// async fn welcome(address: String, ctx: &JobContext) -> Result<(), SmtpBusy> {
///     println!("attempt {} for {address}", ctx.executions());
///     Ok(())
/// }
///
/// async fn give_up(ctx: &JobContext, error: &JobError) {
///     eprintln!("giving up on {}: {error}", ctx.job_id());
/// }
///
/// async fn check_opt_in(ctx: &JobContext) -> Result<(), Halt> {
///     if ctx.data().arguments[0] == "nobody@example.com" { Err(Halt::because("opted out")) } else { Ok(()) }
/// }
/// ```
///
/// generates a `pub struct Welcome { pub address: String }` that implements [`Job`] and is
/// registered with the worker's registry, with `Welcome::perform_later(address)`,
/// `Welcome::perform_now(address)` and `Welcome::set()` (see [`ConfiguredJob`]). Parameters of
/// type [`State<T>`] and [`JobContext`] (by value or `&`) are injected when the job runs, not
/// serialized. The function stays as written. See [`Job`] for the equivalent code without `#[job]`.
///
/// Serialized parameters travel in Active Job's encodings: types with one of their own
/// ([`RichArgument`](encoding::RichArgument): `chrono` times and dates, durations, decimals, records as [`Global<T>`],
/// [`Keywords<T>`], [`CustomSerializer`]s, and `Option`/`Vec`/maps of them) use it, every other
/// serde type its JSON. A [`Global<T>`] parameter is loaded with [`GlobalId::locate`] before the
/// function runs.
///
/// # Keys
///
/// | key | value | meaning |
/// |---|---|---|
/// | `queue` | `"name"` | default queue (default `"default"`) |
/// | `priority` | integer | default priority; lower runs first |
/// | `name` | `"Name"` | stable wire name (`job_class`); default the struct name |
/// | `log_arguments` | `false` | keep arguments out of logs, spans and events |
/// | `timeout` | `"30s"`, `"500ms"`, `"5m"` | a run taking longer fails with [`TimeoutError`] |
/// | `retry_on(E, ..)` | see below | retry when the job fails with an `E` (or any of `E1, E2, ..`) |
/// | `discard_on(E, with = f)` | | drop the job when it fails with an `E` (or any of `E1, E2, ..`; `f` is optional) |
/// | `rescue_from(E, with = f)` | | `f` handles the error; `Ok` swallows it, `Err` raises another |
/// | `after_discard` | `f` or `[f, g]` | called whenever the job ends unsuccessfully (see below) |
/// | `before_enqueue`, `after_enqueue` | `f` or `[f, g]` | `async fn(&JobData) -> ()` or `Result<(), Halt>` |
/// | `around_enqueue` | `f` or `[f, g]` | `async fn(&JobData, NextEnqueue<'_>) -> Result<(), Error>` |
/// | `before_perform`, `after_perform` | `f` or `[f, g]` | `async fn(&JobContext) -> ()` or `Result<(), Halt>` |
/// | `around_perform` | `f` or `[f, g]` | `async fn(&JobContext, NextPerform<'_>) -> Result<(), JobError>` |
/// | `continuable` | or `continuable(max_resumptions = N, resume_wait = "5s", resume_errors_after_advancing = false, checkpoint_interval = "1s")` | the job runs in steps ([`JobContext::step`]) and resumes where a shutdown stopped it, or from its last stored checkpoint when its worker died |
/// | `crate` | `"::path::to::jobs"` | where the jobs crate is, for crates that re-export it |
///
/// `retry_on(E, attempts = N | unlimited, wait = .., jitter = 0.15, queue = "..", priority = N,
/// with = handler)`: `E` is an error type, matched anywhere in the error's source chain
/// (a panic is a [`PanicError`], a timeout a [`TimeoutError`], undecodable arguments a
/// [`DeserializationError`]), or `matches = predicate` with `fn(&JobError) -> bool`. `attempts`
/// counts runs (default 5); `wait` is a duration (default `"3s"`, plus `rand × d × jitter`),
/// `polynomially_longer` (`n⁴ + 2 s` plus jitter), `exponential` (`2ⁿ s` plus jitter), or a
/// `fn(u32) -> Duration` (no jitter), where `n` counts this declaration's matches (kept in the
/// payload's `exception_executions`). `retry_on(A, B, ..)` is one declaration with one counter
/// for its types, as Rails' `retry_on A, B` is (its key is `[A, B]`, as Rails writes it). A retry
/// is a new enqueue with the same job id. When attempts
/// run out, `with` is called (`async fn(&JobContext, &JobError)` returning `()` or a `Result`)
/// and the job is discarded; without it the error goes on to the worker's retry policy.
///
/// Matching by type works when the job's error type is, or carries in its source chain, the
/// declared type: `Result<(), E>`, or `Box<dyn Error + Send + Sync>` holding an `E`. A bare
/// message (`Result<_, String>`, `Err("..".into())`) has no type to match, and neither has the
/// error inside an `anyhow::Error` (anyhow hides it from `source()`): match those with
/// `matches = predicate`, e.g. `fn transient(e: &JobError) -> bool { e.message().contains("timeout") }`.
/// The class recorded in the retry history and the dead set is the error's own: the type path of
/// `E`, the carried error's name for a box (`Rejected`), `RuntimeError` for a bare message
/// (Ruby's class for `raise "message"`); see [`JobError::from_error`].
///
/// `after_discard` runs, as in Rails 7.1+, whenever the job ends without success: after
/// `discard_on` (and its `with`), after an exhausted `retry_on` (after its `with`), and for an
/// error nothing handled once nothing will retry it: when the worker's [`RetryPolicy`] gives up
/// and moves the job to the dead set, or at once under `perform_now` and the inline and test
/// adapters. It does not run while the worker's policy still retries the job.
///
/// `perform_now` returns `Ok` when a declaration handled the error, as Rails' does: after
/// `rescue_from`, after `discard_on`, and when `retry_on` enqueued a retry. A job with a value
/// (`Result<T, E>`, `T` not `()`) has none to return then, and gets [`Error::Handled`] with the
/// handled error. An error nothing handled is [`Error::Job`].
///
/// Precedence, as in Rails: when a job fails, the error handlers are tried from the **last**
/// declared to the first, and the first that matches handles the error. Callbacks run inside
/// global [`Middleware`] (which stands where Rails has callbacks declared on `ApplicationJob`):
/// `before_*` in the order declared, global ones first; then `around_*` (global ones outermost,
/// then the job's in the order declared), the job; then `after_*` (after a successful perform
/// only) from the **last** declared to the first, the job's own before global ones, as
/// ActiveSupport runs after callbacks. A `before_*` that returns `Err(Halt)` halts: an enqueue
/// returns [`Error::Halted`] naming the callback; a perform is skipped and recorded as halted,
/// not retried. An `around_perform` that returns without calling `next.run()` halts the perform
/// the same way ([`Error::Halted`] from `perform_now`, naming it). Bulk enqueues
/// ([`perform_all_later`]) skip enqueue callbacks, as Rails does.
///
/// Mistakes are compile errors that point at the offending token and name the valid keys; all
/// are reported in one compile.
pub use jobs_macros::job;

/// The names most programs need: `use jobs::prelude::*;`.
pub mod prelude {
    pub use crate::job;
    pub use jobs_core::adapters::{InlineAdapter, MemoryAdapter, TestAdapter};
    pub use jobs_core::{
        Clock, ConfiguredJob, Enqueued, Global, GlobalId, Inspect, Job, JobContext, Limiter, PendingJob, Recurring,
        Runtime, State, Step, StepOptions, Worker, perform_all_later,
    };
    #[cfg(feature = "postgres")]
    #[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
    pub use jobs_postgres::PostgresAdapter;
    #[cfg(feature = "redis")]
    #[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
    pub use jobs_redis::RedisAdapter;
    #[cfg(feature = "sqlite")]
    #[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
    pub use jobs_sqlite::SqliteAdapter;
}

/// The README's code, compiled as doc tests so that it cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
