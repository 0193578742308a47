//! Callbacks around enqueue and perform: the job's own (declared with `#[job]`) and global
//! middleware installed on the runtime.

use std::sync::Arc;

use crate::adapter::BoxFuture;
use crate::context::JobContext;
use crate::declarations::{Declarations, Halt, NextEnqueue, NextPerform};
use crate::error::{Error, JobError};
use crate::payload::JobData;

/// Global callbacks for every job, installed with `Runtime::builder().middleware(..)`.
///
/// Middleware runs outside the job's own callbacks: its `before_*` first, its `after_*` last, its
/// `around_*` wrapping the job's. Every method has a default that does nothing.
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

type Inner<'a, T> = Box<dyn FnOnce() -> BoxFuture<'a, T> + Send + 'a>;

/// Runs the enqueue callbacks around `enqueue`; a halt is an [`Error::Halted`].
pub(crate) async fn enqueue<'a>(
    middleware: &'a [Arc<dyn Middleware>],
    declarations: &'a Declarations,
    job: &'a JobData,
    enqueue: Inner<'a, Result<(), Error>>,
) -> Result<(), Error> {
    let halted = |callback: &str, halt: Halt| Error::Halted {
        job: job.job_class.clone(),
        callback: callback.to_owned(),
        reason: halt.reason,
    };
    for m in middleware {
        m.before_enqueue(job).await.map_err(|h| halted(m.name(), h))?;
    }
    for (name, callback) in declarations.before_enqueue {
        callback(job).await.map_err(|h| halted(name, h))?;
    }
    let mut next = enqueue;
    for (_, around) in declarations.around_enqueue.iter().rev() {
        let inner = next;
        next = Box::new(move || around(job, NextEnqueue(inner)));
    }
    for m in middleware.iter().rev() {
        let inner = next;
        next = Box::new(move || m.around_enqueue(job, NextEnqueue(inner)));
    }
    next().await?;
    for (name, callback) in declarations.after_enqueue {
        if let Err(halt) = callback(job).await {
            tracing::warn!(target: "jobs", "after_enqueue callback `{name}` of {} returned {halt:?}", job.job_class);
        }
    }
    for m in middleware {
        m.after_enqueue(job).await;
    }
    Ok(())
}

/// Runs the `before_perform` callbacks; returns the halting callback's name and halt.
pub(crate) async fn before_perform(
    middleware: &[Arc<dyn Middleware>],
    declarations: &Declarations,
    ctx: &JobContext,
) -> Result<(), (String, Halt)> {
    for m in middleware {
        m.before_perform(ctx).await.map_err(|h| (m.name().to_owned(), h))?;
    }
    for (name, callback) in declarations.before_perform {
        callback(ctx).await.map_err(|h| ((*name).to_owned(), h))?;
    }
    Ok(())
}

/// Runs the `around_perform` callbacks around `perform`.
pub(crate) async fn around_perform<'a>(
    middleware: &'a [Arc<dyn Middleware>],
    declarations: &'a Declarations,
    ctx: &'a JobContext,
    perform: Inner<'a, Result<(), JobError>>,
) -> Result<(), JobError> {
    let mut next = perform;
    for (_, around) in declarations.around_perform.iter().rev() {
        let inner = next;
        next = Box::new(move || around(ctx, NextPerform(inner)));
    }
    for m in middleware.iter().rev() {
        let inner = next;
        next = Box::new(move || m.around_perform(ctx, NextPerform(inner)));
    }
    next().await
}

/// Runs the `after_perform` callbacks.
pub(crate) async fn after_perform(middleware: &[Arc<dyn Middleware>], declarations: &Declarations, ctx: &JobContext) {
    for (name, callback) in declarations.after_perform {
        if let Err(halt) = callback(ctx).await {
            tracing::warn!(target: "jobs", "after_perform callback `{name}` of {} returned {halt:?}", ctx.job_class());
        }
    }
    for m in middleware {
        m.after_perform(ctx).await;
    }
}
