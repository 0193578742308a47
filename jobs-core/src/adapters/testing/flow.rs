//! The test adapter's flow store: unique jobs over the recorded jobs, so that a duplicate
//! enqueue is not recorded and `assert_enqueued_jobs` counts what a real store would keep, and
//! start counts for throttles and limiters. It has no workers, so no concurrency slots.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{Recorded, TestAdapter};
use crate::contract::{
    BoxFuture, Error, FlowStore, JobState, NewJob, SlotOutcome, SlotParams, Ticket, UniqueOutcome, Uniqueness,
};
use crate::runtime::Runtime;

impl Recorded {
    /// The id of the enqueued job that holds `unique`'s key at `now`, with its provider id.
    fn holder(&self, unique: &Uniqueness, now: DateTime<Utc>) -> Option<(String, Option<String>)> {
        let (job_id, until) = self.unique.get(&unique.key)?;
        if until.is_some_and(|until| now >= until) {
            return None;
        }
        let job = self.enqueued.iter().find(|d| d.job_id == *job_id)?;
        let state = if job.scheduled_at.is_some_and(|at| at > now) { JobState::Scheduled } else { JobState::Ready };
        unique.states.contains(&state).then(|| (job.job_id.clone(), job.provider_job_id.clone()))
    }
}

impl FlowStore for TestAdapter {
    fn acquire_slot<'a>(&'a self, _params: SlotParams<'a>) -> BoxFuture<'a, Result<SlotOutcome, Error>> {
        Box::pin(async { Err(Error::not_supported("Test", "concurrency slots: it has no workers")) })
    }

    fn release_slot<'a>(&'a self, _key: &'a str, _ticket: &'a Ticket) -> BoxFuture<'a, Result<bool, Error>> {
        Box::pin(async { Ok(false) })
    }

    fn expire_slots(&self) -> BoxFuture<'_, Result<u64, Error>> {
        Box::pin(async { Ok(0) })
    }

    fn count_start<'a>(&'a self, key: &'a str, window: i64, _ttl: Duration) -> BoxFuture<'a, Result<u64, Error>> {
        Box::pin(async move {
            let mut recorded = self.recorded();
            let count = recorded.starts.entry((key.to_owned(), window)).or_default();
            *count += 1;
            Ok(*count)
        })
    }

    fn enqueue_unique<'a>(
        &'a self,
        jobs: &'a [NewJob],
        unique: &'a [Option<Uniqueness>],
    ) -> BoxFuture<'a, Result<Vec<UniqueOutcome>, Error>> {
        Box::pin(async move {
            let now = Runtime::current().map_or_else(|_| Utc::now(), |runtime| runtime.now());
            let mut recorded = self.recorded();
            let mut outcomes = Vec::with_capacity(jobs.len());
            for (job, rule) in jobs.iter().zip(unique.iter().chain(std::iter::repeat(&None))) {
                if let Some(rule) = rule
                    && let Some((job_id, provider_job_id)) = recorded.holder(rule, now)
                    && job_id != job.data().job_id
                {
                    outcomes.push(UniqueOutcome::Duplicate { job_id, provider_job_id });
                    continue;
                }
                let id = recorded.record(job);
                if let Some(rule) = rule {
                    recorded.unique.insert(rule.key.clone(), (job.data().job_id.clone(), rule.until));
                }
                outcomes.push(UniqueOutcome::Stored(Some(id)));
            }
            Ok(outcomes)
        })
    }
}
