//! The inline adapter: performs each job at enqueue, in the caller.

use std::time::Duration;

use crate::contract::{
    Adapter, BoxFuture, Capabilities, Error, FlowStore, NewJob, Outcome, SlotOutcome, SlotParams, Ticket,
    UniqueOutcome, Uniqueness,
};
use crate::perform::execution::execute;
use crate::runtime::Runtime;

/// Performs every job as it is enqueued, in the caller's task; for scripts and tests.
///
/// `perform_later` returns once the job has run, with the job's failure as [`Error::Job`].
/// Scheduling (`wait`, `wait_until`) is [`Error::NotSupported`]: nothing here can wait.
/// A unique job is always stored (run): the job before it ran to its end at its own enqueue, so
/// there is nothing for it to be a duplicate of. Concurrency limits, throttles and limiters are
/// [`Error::NotSupported`]: they need a store that workers share.
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
                let executed = execute(&runtime, Box::new(job.data().clone()), Default::default()).await;
                if let (Outcome::Failed, Some(error)) = (executed.outcome, executed.error) {
                    return Err(Error::Job(error));
                }
            }
            Ok(vec![None; jobs.len()])
        })
    }

    fn flow(&self) -> Option<&dyn FlowStore> {
        Some(self)
    }
}

impl FlowStore for InlineAdapter {
    fn acquire_slot<'a>(&'a self, _params: SlotParams<'a>) -> BoxFuture<'a, Result<SlotOutcome, Error>> {
        Box::pin(async { Err(Error::not_supported("Inline", "concurrency limits: it runs jobs at enqueue")) })
    }

    fn release_slot<'a>(&'a self, _key: &'a str, _ticket: &'a Ticket) -> BoxFuture<'a, Result<bool, Error>> {
        Box::pin(async { Ok(false) })
    }

    fn expire_slots(&self) -> BoxFuture<'_, Result<u64, Error>> {
        Box::pin(async { Ok(0) })
    }

    fn count_start<'a>(&'a self, _key: &'a str, _window: i64, _ttl: Duration) -> BoxFuture<'a, Result<u64, Error>> {
        Box::pin(async { Err(Error::not_supported("Inline", "throttles and limiters: it runs jobs at enqueue")) })
    }

    fn enqueue_unique<'a>(
        &'a self,
        jobs: &'a [NewJob],
        _unique: &'a [Option<Uniqueness>],
    ) -> BoxFuture<'a, Result<Vec<UniqueOutcome>, Error>> {
        Box::pin(async move { Ok(self.enqueue_all(jobs).await?.into_iter().map(UniqueOutcome::Stored).collect()) })
    }
}
