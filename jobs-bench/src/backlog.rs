//! `--backlog-scheduled N`: future jobs present in the store during a run, never drained.
//!
//! A busy store holds many jobs that are not due yet (reminders, retries backing off, cron ticks
//! enqueued ahead). They must cost a worker nothing: its claims look for due jobs only. The
//! backlog is stored before the run's own jobs, through the adapter's bulk enqueue, on the queue
//! the run drains and at the same (default) priority, due a day later: the case where an index in
//! priority order meets the future jobs right behind the due ones.

use std::time::{Duration, Instant};

use jobs::{ConfiguredJob, PendingJob, Runtime};

use crate::RunError;
use crate::target::Target;
use crate::workload::Noop;

/// How far in the future the backlog's jobs are due: far beyond any run.
const DUE_IN: Duration = Duration::from_secs(86_400);

/// Jobs per bulk enqueue while filling the backlog.
const BATCH: u64 = 5_000;

/// Stores `count` no-op jobs due in a day on `target` (nothing when `count` is 0); returns how long
/// it took.
pub(crate) async fn fill(target: &Target, count: u64) -> Result<Duration, RunError> {
    let started = Instant::now();
    if count == 0 {
        return Ok(started.elapsed());
    }
    let runtime = Runtime::builder().shared_adapter(target.adapter.clone()).build()?;
    let mut left = count;
    while left > 0 {
        let size = left.min(BATCH);
        let jobs: Vec<PendingJob> =
            (0..size).map(|_| ConfiguredJob::<Noop>::new().wait(DUE_IN).build(Noop {})).collect();
        runtime.perform_all_later(jobs).await?;
        left -= size;
    }
    Ok(started.elapsed())
}
