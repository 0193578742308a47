//! The inline adapter: performs each job at enqueue, in the caller.

use crate::adapter::{Adapter, BoxFuture, Capabilities};
use crate::error::Error;
use crate::events::Outcome;
use crate::execution::execute;
use crate::payload::JobData;
use crate::runtime::Runtime;

/// Performs every job as it is enqueued, in the caller's task; for scripts and tests.
///
/// `perform_later` returns once the job has run, with the job's failure as [`Error::Job`].
/// Scheduling (`wait`, `wait_until`) is [`Error::NotSupported`]: nothing here can wait.
#[derive(Clone, Copy, Debug, Default)]
pub struct InlineAdapter;

impl InlineAdapter {
    /// A new inline adapter.
    pub fn new() -> Self {
        InlineAdapter
    }
}

impl Adapter for InlineAdapter {
    fn name(&self) -> &str {
        "Inline"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::default()
    }

    fn enqueue<'a>(&'a self, runtime: &'a Runtime, job: &'a JobData) -> BoxFuture<'a, Result<Option<String>, Error>> {
        Box::pin(async move {
            if job.scheduled_at.is_some() {
                return Err(Error::not_supported(
                    self.name(),
                    "scheduled jobs (wait / wait_until): it runs jobs at once; use the memory or sqlite adapter",
                ));
            }
            let executed = execute(runtime, job.clone(), Default::default()).await;
            match (executed.outcome, executed.error) {
                (Outcome::Failed, Some(error)) => Err(Error::Job(error)),
                _ => Ok(None),
            }
        })
    }
}
