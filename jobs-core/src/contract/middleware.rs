//! Global middleware: callbacks around every job's enqueue and perform, installed on the runtime.

use super::adapter::BoxFuture;
use super::context::JobContext;
use super::declarations::{Halt, NextEnqueue, NextPerform};
use super::error::{Error, JobError};
use super::payload::JobData;

/// Global callbacks for every job, installed with `Runtime::builder().middleware(..)`.
///
/// Middleware runs outside the job's own callbacks, as callbacks declared on Rails'
/// `ApplicationJob` do: its `before_*` first, its `after_*` last, its `around_*` wrapping the
/// job's. Several middleware run `before_*` in the order installed, `around_*` with the first
/// installed outermost, and `after_*` from the last installed to the first (ActiveSupport's
/// order for after callbacks). Every method has a default that does nothing.
///
/// ```
/// use jobs_core::{BoxFuture, Halt, JobData, Middleware};
///
/// struct NoJobsOnSunday;
///
/// impl Middleware for NoJobsOnSunday {
///     fn before_enqueue<'a>(&'a self, job: &'a JobData) -> BoxFuture<'a, Result<(), Halt>> {
///         Box::pin(async move {
///             if job.queue_name == "sunday" { Err(Halt::because("closed on Sundays")) } else { Ok(()) }
///         })
///     }
/// }
/// ```
pub trait Middleware: Send + Sync + 'static {
    /// The name used when this middleware halts a job.
    fn name(&self) -> &str {
        std::any::type_name::<Self>()
    }

    /// Before a job is enqueued; `Err` halts the enqueue.
    fn before_enqueue<'a>(&'a self, job: &'a JobData) -> BoxFuture<'a, Result<(), Halt>> {
        let _ = job;
        Box::pin(async { Ok(()) })
    }

    /// Around the enqueue: call `next.run()` to go on.
    fn around_enqueue<'a>(&'a self, job: &'a JobData, next: NextEnqueue<'a>) -> BoxFuture<'a, Result<(), Error>> {
        let _ = job;
        Box::pin(next.run())
    }

    /// After a job was enqueued.
    fn after_enqueue<'a>(&'a self, job: &'a JobData) -> BoxFuture<'a, ()> {
        let _ = job;
        Box::pin(async {})
    }

    /// Before a job is performed; `Err` halts it (it is not run, and not retried).
    fn before_perform<'a>(&'a self, ctx: &'a JobContext) -> BoxFuture<'a, Result<(), Halt>> {
        let _ = ctx;
        Box::pin(async { Ok(()) })
    }

    /// Around the perform: call `next.run()` to go on.
    fn around_perform<'a>(&'a self, ctx: &'a JobContext, next: NextPerform<'a>) -> BoxFuture<'a, Result<(), JobError>> {
        let _ = ctx;
        Box::pin(next.run())
    }

    /// After a job was performed successfully.
    fn after_perform<'a>(&'a self, ctx: &'a JobContext) -> BoxFuture<'a, ()> {
        let _ = ctx;
        Box::pin(async {})
    }
}
