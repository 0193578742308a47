//! Gauges sampled from the store: per queue, how many jobs are in each state, how long the oldest
//! ready job has been due, and the dead set; and this process's busy slots. One
//! [`Inspect::queues`](crate::Inspect::queues) call per interval, whatever the traffic.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use metrics::Label;
use tokio_util::sync::CancellationToken;

use crate::contract::{Adapter, JobState, QueueStats};
use crate::runtime::instrument::names;

/// What the sampling task works with.
pub(super) struct Gauges {
    pub(super) adapter: Arc<dyn Adapter>,
    pub(super) interval: Duration,
    pub(super) running: Arc<super::running::Running>,
    pub(super) concurrency: usize,
    /// Cancelled when the worker has stopped.
    pub(super) done: CancellationToken,
}

/// The states [`names::QUEUE_SIZE`] is reported for (the dead set is [`names::DEAD`]).
const SIZED: [JobState; 4] = [JobState::Scheduled, JobState::Ready, JobState::Running, JobState::Retrying];

/// Samples every `interval` until the worker stops; does nothing for an adapter without an
/// inspector (its store cannot be asked).
pub(super) async fn sample(gauges: Gauges) {
    let Some(inspector) = gauges.adapter.inspector() else {
        tracing::debug!(target: "jobs", "{} cannot be inspected: no queue gauges", gauges.adapter.name());
        return;
    };
    metrics::gauge!(names::WORKER_CONCURRENCY).set(gauges.concurrency as f64);
    let mut ticks = tokio::time::interval(gauges.interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut seen = BTreeSet::new();
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            () = gauges.done.cancelled() => break,
        }
        let busy = gauges.running.len();
        metrics::gauge!(names::WORKER_BUSY).set(busy as f64);
        match inspector.queues().await {
            Ok(queues) => seen = record(&queues, seen),
            Err(error) => tracing::debug!(target: "jobs", %error, "Could not sample the queue gauges"),
        }
    }
    metrics::gauge!(names::WORKER_BUSY).set(0.0);
}

/// Sets the gauges of every queue in `queues`, and zeroes those of queues `seen` before that are
/// gone (drained and forgotten by the store); returns the queues seen now.
fn record(queues: &[QueueStats], seen: BTreeSet<String>) -> BTreeSet<String> {
    let mut now = BTreeSet::new();
    for stats in queues {
        set(&stats.queue, |state| stats.count(state) as f64, stats.latency.as_secs_f64());
        now.insert(stats.queue.clone());
    }
    for gone in seen.difference(&now) {
        set(gone, |_| 0.0, 0.0);
    }
    now
}

fn set(queue: &str, count: impl Fn(JobState) -> f64, oldest_ready_age: f64) {
    let destination = Label::new(names::DESTINATION, queue.to_owned());
    for state in SIZED {
        let state_label = Label::from_static_parts(names::STATE, state.as_str());
        metrics::gauge!(names::QUEUE_SIZE, vec![destination.clone(), state_label]).set(count(state));
    }
    metrics::gauge!(names::DEAD, vec![destination.clone()]).set(count(JobState::Dead));
    metrics::gauge!(names::OLDEST_READY_AGE, vec![destination]).set(oldest_ready_age);
}
