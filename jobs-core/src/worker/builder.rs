//! Building a worker: its queues, concurrency, leases, shutdown phases and retry policy.

use std::path::PathBuf;
use std::time::Duration;

use crate::contract::Error;
use crate::perform::retry::RetryPolicy;
use crate::runtime::Runtime;

use super::Worker;
use super::hand::Prefetch;
use super::recurring::{Recurring, Scheduler, from_registration, read_recurring_file};
use super::weights::QueueOrder;

/// Builds a [`Worker`].
#[derive(Debug, Default)]
pub struct WorkerBuilder {
    runtime: Option<Runtime>,
    settings: Settings,
    recurring: Vec<Recurring>,
    recurring_files: Vec<PathBuf>,
    no_scheduler: bool,
}

#[derive(Debug, Clone)]
pub(super) struct Settings {
    pub(super) queues: QueueOrder,
    weights: Option<Vec<(String, u32)>>,
    pub(super) concurrency: usize,
    pub(super) grace: Duration,
    pub(super) stop_timeout: Duration,
    pub(super) lease: Duration,
    pub(super) poll_interval: Duration,
    pub(super) claim_batch_wait: Duration,
    pub(super) prefetch: Prefetch,
    pub(super) retry: RetryPolicy,
    pub(super) gauges_interval: Option<Duration>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            queues: QueueOrder::Strict(vec!["default".to_owned()]),
            weights: None,
            concurrency: 10,
            grace: Duration::from_secs(20),
            stop_timeout: Duration::from_secs(5),
            lease: Duration::from_secs(60),
            poll_interval: Duration::from_secs(1),
            claim_batch_wait: Duration::from_millis(2),
            prefetch: Prefetch::Adaptive,
            retry: RetryPolicy::default(),
            gauges_interval: Some(Duration::from_secs(15)),
        }
    }
}

impl WorkerBuilder {
    /// The runtime whose adapter, registry and state the worker uses (default: the current one).
    pub fn runtime(mut self, runtime: &Runtime) -> Self {
        self.runtime = Some(runtime.clone());
        self
    }

    /// Queues to work, in strict order of precedence: a queue is served only when those before
    /// it have nothing due; `"*"` works every queue (default: `default`). Replaces any
    /// [`weighted_queues`](Self::weighted_queues).
    pub fn queues<I, S>(mut self, queues: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.settings.queues = QueueOrder::Strict(queues.into_iter().map(Into::into).collect());
        self.settings.weights = None;
        self
    }

    /// Queues to work by weight, as Sidekiq's `-q critical,3 -q default,1`: before each claim
    /// the queues are ordered by a weighted random draw, so `critical` is tried first three
    /// times in four and `default` once in four, and neither starves while the other has a
    /// backlog. Each weight must be at least 1, each queue named once, and `"*"` cannot be
    /// weighted ([`build`](Self::build) says which). Replaces any [`queues`](Self::queues).
    ///
    /// ```
    /// # fn demo() -> Result<(), jobs_core::Error> {
    /// # let runtime = jobs_core::Runtime::builder().adapter(jobs_core::adapters::MemoryAdapter::new()).build()?;
    /// let worker = jobs_core::Worker::builder()
    ///     .runtime(&runtime)
    ///     .weighted_queues([("critical", 3), ("default", 1)])
    ///     .build()?;
    /// # Ok(()) }
    /// # demo().unwrap();
    /// ```
    pub fn weighted_queues<I, S>(mut self, weights: I) -> Self
    where
        I: IntoIterator<Item = (S, u32)>,
        S: Into<String>,
    {
        self.settings.weights = Some(weights.into_iter().map(|(queue, weight)| (queue.into(), weight)).collect());
        self
    }

    /// How many jobs run at once (default 10).
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.settings.concurrency = concurrency;
        self
    }

    /// On shutdown, how long running jobs may take to finish before they are asked to stop
    /// (default 20 s). With the 5 s [`stop_timeout`](Self::stop_timeout) a shutdown ends within
    /// 25 s, leaving margin under Kubernetes' default 30 s `terminationGracePeriodSeconds`
    /// before the SIGKILL (Sidekiq's 25 s alone would use it all).
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.settings.grace = grace;
        self
    }

    /// After asking jobs to stop, how long to wait before abandoning them; abandoned jobs are
    /// handed back to the queue without spending an attempt (default 5 s).
    pub fn stop_timeout(mut self, timeout: Duration) -> Self {
        self.settings.stop_timeout = timeout;
        self
    }

    /// How long a claim holds without a heartbeat (default 60 s); heartbeats renew it every
    /// third of that.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.settings.lease = lease;
        self
    }

    /// The longest an idle worker waits before it looks for jobs again (default 1 s). Backends
    /// wake it earlier when a job is enqueued, and it looks again when the next scheduled job
    /// is due ([`Backend::next_due`](crate::adapter::Backend::next_due)), so this bounds only
    /// what nothing announces (another process's enqueues on a backend without wake-ups).
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.settings.poll_interval = interval;
        self
    }

    /// While a backlog is being worked, how long to wait for half the slots to free so that they
    /// are claimed in one batch (default 2 ms; zero claims as soon as one slot is free).
    pub fn claim_batch_wait(mut self, wait: Duration) -> Self {
        self.settings.claim_batch_wait = wait;
        self
    }

    /// Claims exactly `jobs` jobs ahead of free slots, instead of the adaptive default; 0 claims
    /// only for free slots, as Sidekiq and Solid Queue do.
    ///
    /// Jobs claimed ahead wait in the worker for a slot, under a lease the worker renews; on
    /// shutdown (or when the worker goes quiet) those that have not started go back to the queue
    /// untouched. Claiming ahead lets a claim on a networked backend overlap the jobs running, at
    /// the cost of holding jobs that another worker could have taken.
    ///
    /// The default adapts to the jobs: the worker claims ahead as many jobs as its slots will
    /// start within 10 ms at the pace of its recent runs, at most 64 per slot and 1 000 in all.
    /// Short jobs then travel hundreds per round trip; a job held ahead waits about 10 ms at most;
    /// jobs that run longer than `concurrency` × 10 ms are not claimed ahead at all.
    pub fn prefetch(mut self, jobs: usize) -> Self {
        self.settings.prefetch = Prefetch::Fixed(jobs);
        self
    }

    /// What to do with failures the job did not handle (default: 25 retries on Sidekiq's curve).
    /// A stored payload that is not JSON skips the policy and goes to the dead set at once.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.settings.retry = policy;
        self
    }

    /// A static recurring task for this worker's scheduler (see [`Recurring`]): stored at start,
    /// replacing its earlier definition. Like the tasks of a [recurring file](Self::recurring_file),
    /// it makes the start remove the stored static tasks no longer declared.
    pub fn recurring(mut self, task: Recurring) -> Self {
        self.recurring.push(task);
        self
    }

    /// Reads static recurring tasks from a `recurring.toml` at [`build`](Self::build) (see
    /// [`read_recurring_file`](crate::read_recurring_file)): an invalid task is a build error
    /// naming it. At start the worker stores them and removes the stored static tasks that are
    /// no longer declared (in the file, with [`recurring`](Self::recurring) or with
    /// `#[job(cron)]`), as Solid Queue does; jobs already enqueued stay.
    pub fn recurring_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.recurring_files.push(path.into());
        self
    }

    /// Whether the worker runs a recurring-task [`Scheduler`] (default: yes, when its adapter
    /// stores recurring tasks). Any number of workers may run one; each tick is enqueued once.
    /// A worker without one neither stores its declared tasks nor enqueues any.
    pub fn scheduler(mut self, run: bool) -> Self {
        self.no_scheduler = !run;
        self
    }

    /// The scheduler, if the worker runs one: its static tasks (`#[job(cron)]` jobs of the
    /// registry, the recurring files, the builder's tasks), each checked, and whether they were
    /// declared explicitly (files or builder tasks), which lets the start remove undeclared ones.
    fn scheduler_of(&self, runtime: &Runtime) -> Result<Option<(Scheduler, bool)>, Error> {
        let explicit = !self.recurring.is_empty() || !self.recurring_files.is_empty();
        if self.no_scheduler || (runtime.adapter().recurring().is_none() && !explicit) {
            return Ok(None);
        }
        let mut tasks: Vec<_> = runtime.registry().registrations().filter_map(from_registration).collect();
        tasks.sort_by(|a, b| a.key.cmp(&b.key));
        for path in &self.recurring_files {
            tasks.extend(read_recurring_file(path)?);
        }
        for task in &self.recurring {
            tasks.push(task.to_task(runtime)?);
        }
        Ok(Some((Scheduler::new(runtime, tasks)?, explicit)))
    }

    /// How often to sample the store's gauges for `metrics` (`jobs.queue.size` per queue and
    /// state, `jobs.queue.oldest_ready_age`, `jobs.dead`) and this process's `jobs.worker.busy`:
    /// one [`Inspect::queues`](crate::Inspect::queues) call per interval, none per job (default
    /// 15 s, Prometheus' usual scrape interval; `None` turns sampling off). Adapters without an
    /// inspector are never sampled.
    pub fn gauges_interval(mut self, interval: Option<Duration>) -> Self {
        self.settings.gauges_interval = interval;
        self
    }

    /// Builds the worker; fails if no runtime is given or current, if its adapter cannot be
    /// drained by a worker, if the settings are out of range, if a recurring task is invalid, or
    /// if a registered job class has a concurrency limit or a throttle and the adapter keeps no
    /// flow control ([`Adapter::flow`](crate::adapter::Adapter::flow)): its limits would not hold.
    pub fn build(self) -> Result<Worker, Error> {
        let runtime = match self.runtime.clone() {
            Some(runtime) => runtime,
            None => Runtime::current()?,
        };
        let adapter = runtime.adapter().clone();
        if adapter.backend().is_none() {
            return Err(Error::not_supported(adapter.name(), "workers (it performs jobs itself)"));
        }
        if runtime.registry().has_flow_control() && adapter.flow().is_none() {
            let mut limited: Vec<&str> = runtime
                .registry()
                .registrations()
                .filter(|r| r.flow().concurrency.is_some() || r.flow().throttle.is_some())
                .map(|r| r.name())
                .collect();
            limited.sort_unstable();
            return Err(Error::not_supported(
                adapter.name(),
                format!(
                    "concurrency limits and throttles, which {} declare; use an adapter that keeps them, such as sqlite",
                    limited.join(", ")
                ),
            ));
        }
        let mut settings = self.settings.clone();
        if let Some(weights) = settings.weights.take() {
            settings.queues = QueueOrder::weighted(weights).map_err(Error::Config)?;
        }
        if settings.concurrency == 0 {
            return Err(Error::Config("worker concurrency must be at least 1".into()));
        }
        if settings.queues.queues().is_empty() {
            return Err(Error::Config("a worker needs at least one queue".into()));
        }
        if settings.gauges_interval.is_some_and(|interval| interval.is_zero()) {
            return Err(Error::Config("the gauges interval must be more than zero (None turns sampling off)".into()));
        }
        if settings.lease < Duration::from_millis(30) {
            return Err(Error::Config("the lease must be at least 30ms".into()));
        }
        let scheduler = self.scheduler_of(&runtime)?;
        let id = format!("{}:{}", std::process::id(), uuid::Uuid::new_v4().simple());
        Ok(Worker { runtime, adapter, id, settings, status: Default::default(), scheduler })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_shutdown_ends_well_within_kubernetes_termination_grace() {
        let settings = Settings::default();
        // Kubernetes sends SIGKILL 30 s after SIGTERM unless the pod says otherwise.
        assert!(settings.grace + settings.stop_timeout <= Duration::from_secs(25), "{settings:?}");
    }
}
