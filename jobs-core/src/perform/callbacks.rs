//! The perform callbacks: global middleware and the job's own, around the job.

use std::sync::Arc;

use crate::contract::{BoxFuture, Declarations, Halt, JobContext, JobError, Middleware, NextPerform};

type Inner<'a, T> = Box<dyn FnOnce() -> BoxFuture<'a, T> + Send + 'a>;

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
