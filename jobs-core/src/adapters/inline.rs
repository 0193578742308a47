//! The inline adapter: performs each job at enqueue, in the caller.

use crate::contract::{Adapter, BoxFuture, Capabilities, Error, NewJob, Outcome};
use crate::perform::execution::execute;
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

    fn enqueue_all<'a>(&'a self, jobs: &'a [NewJob]) -> BoxFuture<'a, Result<Vec<Option<String>>, Error>> {
        Box::pin(async move {
            if jobs.iter().any(|job| job.data().scheduled_at.is_some()) {
                return Err(Error::not_supported(
                    self.name(),
                    "scheduled jobs (wait / wait_until): it runs jobs at once; use the memory or sqlite adapter",
                ));
            }
            // The enqueueing runtime is the current one: the enqueue pipeline scopes its adapter
            // call (as Rails' inline adapter runs `ActiveJob::Base.execute`).
            let runtime = Runtime::current()?;
            for job in jobs {
                let executed = execute(&runtime, job.data().clone(), Default::default()).await;
                if let (Outcome::Failed, Some(error)) = (executed.outcome, executed.error) {
                    return Err(Error::Job(error));
                }
            }
            Ok(vec![None; jobs.len()])
        })
    }
}
