//! The enqueue callbacks: global middleware and the job's own, around the store.

use std::sync::Arc;

use crate::contract::{BoxFuture, Declarations, Error, Halt, JobData, Middleware, NextEnqueue};

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
    // As ActiveSupport runs after callbacks: the job's own, then global ones, last declared first.
    for (name, callback) in declarations.after_enqueue.iter().rev() {
        if let Err(halt) = callback(job).await {
            tracing::warn!(target: "jobs", "after_enqueue callback `{name}` of {} returned {halt:?}", job.job_class);
        }
    }
    for m in middleware.iter().rev() {
        m.after_enqueue(job).await;
    }
    Ok(())
}
