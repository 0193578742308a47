//! Burn-down: enqueue N no-op jobs, then drain them with one worker at concurrency C.

use std::sync::Arc;
use std::time::{Duration, Instant};

use jobs::{PendingJob, Runtime};

use crate::RunError;
use crate::cli::RunSettings;
use crate::counting::{Calls, Counting};
use crate::stats;
use crate::target::Target;
use crate::workload::{Counter, Limited, Noop, burn_down_registry};

/// How long each phase of a burn-down took.
#[derive(Clone, Copy, Debug)]
pub(crate) struct BurnDown {
    /// Enqueueing all N jobs, one by one or in bulk.
    pub(crate) enqueue: Duration,
    /// From starting the worker until all N jobs have run and the worker has shut down (so
    /// every completion has been written to the backend).
    pub(crate) drain: Duration,
    /// CPU time this process spent in the drain, all threads together (Linux only).
    pub(crate) drain_cpu: Option<Duration>,
    /// The backend calls the drain made.
    pub(crate) calls: Calls,
}

/// Enqueues `settings.jobs` no-op jobs into `target`, then drains them.
pub(crate) async fn run(target: &Target, settings: &RunSettings) -> Result<BurnDown, RunError> {
    let counter = Arc::new(Counter::new(settings.jobs, settings.job_cpu));
    let counting = Arc::new(Counting::new(target.adapter.clone()));
    let runtime = crate::otel::traced(
        Runtime::builder()
            .shared_adapter(counting.clone())
            .shared_state(counter.clone())
            .registry(burn_down_registry(settings.limit_keys.is_some())?),
        settings.otel,
    )
    .build()?;

    let started = Instant::now();
    match settings.bulk {
        None => {
            for n in 0..settings.jobs {
                match settings.limit_keys {
                    Some(keys) => runtime.perform_later(Limited { key: n % keys }).await?,
                    None => runtime.perform_later(Noop {}).await?,
                };
            }
        }
        Some(batch) => {
            // Batch i goes to enqueuer i mod K: each enqueuer's batches run one after the other.
            let (jobs, enqueuers, limit_keys) = (settings.jobs, settings.enqueuers, settings.limit_keys);
            let batches = jobs.div_ceil(batch);
            let mut tasks = tokio::task::JoinSet::new();
            for first in 0..enqueuers.min(batches) {
                let runtime = runtime.clone();
                tasks.spawn(async move {
                    for index in (first..batches).step_by(enqueuers as usize) {
                        let n = index * batch;
                        let size = (jobs - n).min(batch);
                        runtime.perform_all_later((n..n + size).map(|n| pending(limit_keys, n))).await?;
                    }
                    Ok::<_, jobs::Error>(())
                });
            }
            while let Some(done) = tasks.join_next().await {
                done.map_err(|panic| RunError::Failed(format!("an enqueuer panicked: {panic}")))??;
            }
        }
    }
    let enqueue = started.elapsed();

    perf_control(settings, "enable");
    let cpu_before = stats::ThreadTimes::now();
    let started = Instant::now();
    let worker = settings.worker(&runtime).build()?;
    let handle = worker.start();
    let drained = counter.wait(settings.stall).await;
    handle.shutdown().await?;
    let drain = started.elapsed();
    let drain_cpu = stats::ThreadTimes::now().zip(cpu_before).map(|(after, before)| after.since(&before));
    perf_control(settings, "disable");
    drained.map_err(RunError::Failed)?;
    Ok(BurnDown { enqueue, drain, drain_cpu, calls: counting.calls() })
}

/// The `n`th job of a bulk burn-down: limited under key `n mod keys` with `--limit-keys`, else a
/// no-op.
fn pending(limit_keys: Option<u64>, n: u64) -> PendingJob {
    match limit_keys {
        Some(keys) => PendingJob::new(Limited { key: n % keys }),
        None => PendingJob::new(Noop {}),
    }
}

/// Tells perf to start or stop sampling, when the run is being profiled with `--perf-ctl`.
fn perf_control(settings: &RunSettings, command: &str) {
    if let Some(fifo) = &settings.perf_ctl
        && let Err(error) = std::fs::write(fifo, format!("{command}\n"))
    {
        eprintln!("warning: cannot write `{command}` to {}: {error}", fifo.display());
    }
}
