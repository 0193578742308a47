//! The perform callbacks: global middleware and the job's own, around the job.
//!
//! Ordered as Active Job orders them, with global middleware in the place of callbacks declared on
//! `ApplicationJob`: `before_*` in declaration order, global ones first; `around_*` nested, global
//! ones outermost; `after_*` in reverse declaration order, the job's own first (ActiveSupport runs
//! after callbacks from the last declared to the first).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

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

/// Runs the `around_perform` callbacks around `perform`. `Ok(Some(name))`: the callback `name`
/// returned without calling `next`, so the job never ran (Rails: the callback chain halted). A run
/// without such callbacks need not box its job to come here (see `perform_job`).
pub(crate) async fn around_perform<'a>(
    middleware: &'a [Arc<dyn Middleware>],
    declarations: &'a Declarations,
    ctx: &'a JobContext,
    perform: Inner<'a, Result<(), JobError>>,
) -> Result<Option<String>, JobError> {
    let layers = middleware.len() + declarations.around_perform.len();
    // How deep the run got: layer `d` (1 = outermost) was entered; `layers + 1` is the job itself.
    let reached = AtomicUsize::new(0);
    let reached = &reached;
    let mut next: Inner<'_, Result<(), JobError>> = Box::new(move || {
        reached.store(layers + 1, Ordering::Relaxed);
        perform()
    });
    for (depth, (_, around)) in declarations.around_perform.iter().enumerate().rev() {
        let inner = next;
        let depth = middleware.len() + depth + 1;
        next = Box::new(move || {
            reached.store(depth, Ordering::Relaxed);
            around(ctx, NextPerform(inner))
        });
    }
    for (depth, m) in middleware.iter().enumerate().rev() {
        let inner = next;
        next = Box::new(move || {
            reached.store(depth + 1, Ordering::Relaxed);
            m.around_perform(ctx, NextPerform(inner))
        });
    }
    next().await?;
    let reached = reached.load(Ordering::Relaxed);
    Ok((reached <= layers).then(|| match reached.checked_sub(middleware.len() + 1) {
        Some(own) => declarations.around_perform[own].0.to_owned(),
        None => middleware[reached - 1].name().to_owned(),
    }))
}

/// Runs the `after_perform` callbacks: the job's own, then global middleware, each from the last
/// declared to the first.
pub(crate) async fn after_perform(middleware: &[Arc<dyn Middleware>], declarations: &Declarations, ctx: &JobContext) {
    for (name, callback) in declarations.after_perform.iter().rev() {
        if let Err(halt) = callback(ctx).await {
            tracing::warn!(target: "jobs", "after_perform callback `{name}` of {} returned {halt:?}", ctx.job_class());
        }
    }
    for m in middleware.iter().rev() {
        m.after_perform(ctx).await;
    }
}
