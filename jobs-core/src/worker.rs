//! The worker: claims jobs from a backend and performs them with bounded concurrency.

mod background;
mod builder;
mod crew;
mod flow;
mod gauges;
mod hand;
mod process;
mod queued;
mod recurring;
mod reports;
mod running;
mod tally;
mod weights;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::contract::{Adapter, Backend, ClaimParams, Failure, Requeued, Stops, Ticket};
use crate::contract::{Error, ProcessState};
use crate::runtime::Runtime;

pub use background::shutdown_signal;
use background::{Heartbeat, flush_reports, heartbeat, join_all, obey};
use builder::Settings;
use crew::Crew;
use hand::Hand;
use queued::Queued;

pub use builder::WorkerBuilder;
use process::{Process, Status};
pub use recurring::{
    Recurring, RecurringTaskInfo, RecurringTasks, Schedule, Scheduler, parse_recurring, read_recurring_file,
};
use reports::{Reports, Unsettled};
use running::Running;
use tally::Tally;

/// Claims jobs from the runtime's adapter and performs them, `concurrency` at a time.
///
/// ```no_run
/// # use jobs_core::Worker;
/// # async fn demo() -> Result<(), jobs_core::Error> {
/// Worker::builder().queues(["mailers", "default"]).concurrency(5).build()?.run().await
/// # }
/// ```
///
/// Shutdown happens in phases: stop claiming; let running jobs finish within the grace period;
/// then signal them to stop ([`JobContext::stopped`](crate::JobContext::stopped)) and, after the
/// stop timeout, hand the jobs still running back to the queue without spending an attempt.
/// A continuable job (`#[job(continuable)]`) stops at its next checkpoint as soon as shutdown
/// starts, and is enqueued again with its progress.
/// A panicking job is a failed job; it never takes the worker down.
///
/// A running worker registers itself with its backend as a process (id, host, pid, queues,
/// concurrency, busy slots, state) that [`Inspect::processes`](crate::Inspect::processes) lists,
/// refreshes that entry on every heartbeat, and leaves the list when it stops. An operator can
/// tell it to go quiet or to stop through [`Inspect::signal`](crate::Inspect::signal); it obeys
/// at its next heartbeat. It also counts its processed and failed runs per minute, queue and job
/// class, and writes them to the backend's history ([`Inspect::history`](crate::Inspect::history))
/// on each heartbeat. And it samples gauges of the store for `metrics` (queue sizes per state,
/// the age of the oldest ready job, the dead set) with one query per
/// [`gauges_interval`](WorkerBuilder::gauges_interval).
///
/// Unless told otherwise ([`WorkerBuilder::scheduler`]), it also runs a recurring-task
/// [`Scheduler`]: at start it stores its static tasks (`#[job(cron)]` jobs, [`Recurring`] tasks
/// and recurring files given to the builder), then enqueues the due ticks of every stored task,
/// each once across all workers, until it goes quiet.
#[derive(Debug)]
pub struct Worker {
    runtime: Runtime,
    adapter: Arc<dyn Adapter>,
    id: String,
    settings: Settings,
    status: Arc<Status>,
    /// The recurring-task scheduler, and whether the start removes undeclared static tasks.
    scheduler: Option<(Scheduler, bool)>,
}

/// A worker running in the background, from [`Worker::start`].
#[derive(Debug)]
pub struct WorkerHandle {
    id: String,
    shutdown: CancellationToken,
    status: Arc<Status>,
    task: tokio::task::JoinHandle<Result<(), Error>>,
}

impl WorkerHandle {
    /// The worker's id, as [`Inspect::processes`](crate::Inspect::processes) lists it.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Makes the worker quiet, as Sidekiq's TSTP does: it claims no more jobs, hands back those it
    /// claimed ahead and has not started, and keeps running the jobs it holds until
    /// [`shutdown`](WorkerHandle::shutdown). Its process entry shows it as
    /// [`ProcessState::Quiet`](crate::ProcessState::Quiet). Calling it again does nothing.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), jobs_core::Error> {
    /// let worker = jobs_core::Worker::builder().build()?.start();
    /// worker.quiet();
    /// assert_eq!(worker.state(), jobs_core::ProcessState::Quiet);
    /// worker.shutdown().await
    /// # }
    /// ```
    pub fn quiet(&self) {
        if !self.status.quiet.is_cancelled() && self.status.state() == ProcessState::Running {
            self.status.set_state(ProcessState::Quiet);
        }
        self.status.quiet.cancel();
    }

    /// What the worker is doing: running, quiet (claiming no more), or stopping.
    pub fn state(&self) -> ProcessState {
        self.status.state()
    }

    /// Whether the worker has stopped (after [`shutdown`](WorkerHandle::shutdown), or a stop
    /// command from an operator).
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }

    /// Shuts the worker down gracefully and waits until it has.
    pub async fn shutdown(self) -> Result<(), Error> {
        self.shutdown.cancel();
        self.task.await.map_err(|e| Error::Config(format!("worker task failed: {e}")))?
    }
}

pub(super) enum Report {
    Complete(Ticket),
    Requeued(Requeued),
    Fail(Failure),
    Release(Ticket),
}

impl Worker {
    /// Starts building a worker.
    pub fn builder() -> WorkerBuilder {
        WorkerBuilder::default()
    }

    /// This worker's id (process id and a random part).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Runs until SIGINT or SIGTERM (or an operator's stop command), then shuts down gracefully.
    pub async fn run(self) -> Result<(), Error> {
        self.run_until(shutdown_signal()).await
    }

    /// Runs in the background; stop it with [`WorkerHandle::shutdown`].
    pub fn start(self) -> WorkerHandle {
        let shutdown = CancellationToken::new();
        let token = shutdown.clone();
        let (id, status) = (self.id.clone(), self.status.clone());
        let task = tokio::spawn(async move { self.run_until(token.cancelled_owned()).await });
        WorkerHandle { id, shutdown, status, task }
    }

    /// Runs until `signal` completes or an operator's [`ProcessCommand::Stop`](crate::ProcessCommand)
    /// arrives, then shuts down gracefully. A quiet worker (an operator's
    /// [`ProcessCommand::Quiet`](crate::ProcessCommand), or [`WorkerHandle::quiet`]) claims no more
    /// jobs but keeps running until then.
    pub async fn run_until(mut self, signal: impl Future<Output = ()> + Send) -> Result<(), Error> {
        let scheduler = match self.scheduler.take() {
            Some((scheduler, remove_undeclared)) => {
                scheduler.sync(remove_undeclared).await?;
                Some(scheduler)
            }
            None => None,
        };
        tracing::info!(
            target: "jobs",
            worker = %self.id,
            "Worker started on {} (queues: {}; concurrency {})",
            self.adapter.name(),
            self.settings.queues.describe(),
            self.settings.concurrency,
        );
        let backend = self.adapter.backend().expect("checked at build");
        let quiet = self.status.quiet.clone();
        let stop = CancellationToken::new();
        let shutdown = CancellationToken::new();
        let running: Arc<Running> = Arc::default();
        let (reports, inbox, unsettled) = Reports::channel();
        let settings = &self.settings;
        let process =
            Arc::new(Process::new(&self.id, settings.queues.queues(), settings.concurrency, self.runtime.now()));
        let tally = Arc::new(Tally::default());
        let command = process.beat(backend, self.status.state(), 0, settings.lease).await;
        obey(command, &self.status, &shutdown);

        let flusher = tokio::spawn(flush_reports(self.adapter.clone(), inbox, unsettled.clone()));
        let beats_done = CancellationToken::new();
        let heartbeat = tokio::spawn(heartbeat(Heartbeat {
            adapter: self.adapter.clone(),
            running: running.clone(),
            lease: settings.lease,
            process: process.clone(),
            status: self.status.clone(),
            tally: tally.clone(),
            expire_slots: self.runtime.registry().has_flow_control(),
            shutdown: shutdown.clone(),
            done: beats_done.clone(),
        }));

        let scheduling = scheduler.map(|scheduler| tokio::spawn(scheduler.run(quiet.clone())));
        let gauges = settings.gauges_interval.map(|interval| {
            tokio::spawn(gauges::sample(gauges::Gauges {
                adapter: self.adapter.clone(),
                interval,
                running: running.clone(),
                concurrency: settings.concurrency,
                done: beats_done.clone(),
            }))
        });

        tokio::pin!(signal);
        let mut tasks = {
            let claiming = self.claim_loop(&quiet, &stop, &running, (&reports, &unsettled), &tally);
            tokio::pin!(claiming);
            tokio::select! {
                tasks = &mut claiming => tasks,
                () = &mut signal => {
                    shutdown.cancel();
                    quiet.cancel();
                    claiming.await
                }
                () = shutdown.cancelled() => {
                    quiet.cancel();
                    claiming.await
                }
            }
        };
        if !shutdown.is_cancelled() {
            // Quiet: run the jobs held, claim no more, until told to stop.
            self.status.set_state(ProcessState::Quiet);
            tracing::info!(target: "jobs", worker = %self.id, running = running.len(), "Worker quiet");
            loop {
                tokio::select! {
                    Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
                    () = &mut signal => break,
                    () = shutdown.cancelled() => break,
                }
            }
        }
        self.status.set_state(ProcessState::Stopping);
        if let Some(scheduling) = scheduling {
            let _ = scheduling.await;
        }

        tracing::info!(target: "jobs", worker = %self.id, running = running.len(), "Worker shutting down");
        if tokio::time::timeout(settings.grace, join_all(&mut tasks)).await.is_err() {
            tracing::warn!(target: "jobs", running = running.len(), "Grace period over: asking running jobs to stop");
            stop.cancel();
            if tokio::time::timeout(settings.stop_timeout, join_all(&mut tasks)).await.is_err() {
                tasks.abort_all();
                join_all(&mut tasks).await;
            }
        }
        for ticket in running.drain() {
            reports.send(Report::Release(ticket));
        }
        drop(reports);
        let _ = flusher.await;
        beats_done.cancel();
        let _ = heartbeat.await;
        if let Some(gauges) = gauges {
            let _ = gauges.await;
        }
        tally.flush(backend).await;
        if let Err(error) = backend.worker_stopped(&self.id).await {
            tracing::warn!(target: "jobs", worker = %self.id, %error, "Could not tell the backend this worker stopped");
        }
        tracing::info!(target: "jobs", worker = %self.id, "Worker stopped");
        Ok(())
    }

    async fn claim_loop(
        &self,
        quiet: &CancellationToken,
        stop: &CancellationToken,
        running: &Arc<Running>,
        (reports, unsettled): (&Reports, &Unsettled),
        tally: &Arc<Tally>,
    ) -> JoinSet<()> {
        let backend = self.adapter.backend().expect("checked at build");
        // `concurrency` runners run the jobs (see `queued.rs`); `crew.hand` counts the jobs
        // claimed and not yet finished: running ones plus those claimed ahead, queued for a
        // runner, so that the next claim overlaps the jobs running now instead of waiting for
        // them (see `hand.rs`).
        let concurrency = self.settings.concurrency;
        let prefetch = self.settings.prefetch;
        let crew = Arc::new(Crew {
            runtime: self.runtime.clone(),
            env: self.runtime.environment(),
            running: running.clone(),
            reports: reports.clone(),
            retry: self.settings.retry,
            stops: Arc::new(Stops { quiet: quiet.clone(), stop: stop.clone() }),
            tally: tally.clone(),
            flow: self.runtime.registry().has_flow_control(),
            hand: Hand::default(),
            queued: Queued::default(),
        });
        let hand = &crew.hand;
        let mut tasks = JoinSet::new();
        for _ in 0..concurrency {
            tasks.spawn(crew.clone().runner());
        }
        let mut error_backoff = Duration::from_millis(100);
        // When the last claim came back full there is a backlog: rather than claiming one job
        // each time one job finishes (a round trip per job on a networked backend), wait briefly
        // for a batch's worth of room (half of what it may hold) and claim it at once. An idle
        // worker never waits.
        let mut backlog = false;
        loop {
            // What the worker may hold, for this round (it follows the pace of recent runs).
            let capacity = hand.capacity(concurrency, prefetch);
            let batch = capacity.div_ceil(2);
            tokio::select! {
                () = hand.fewer_than(capacity) => {}
                () = quiet.cancelled() => return tasks,
            }
            // Room for a batch: at most `capacity - batch` held.
            if backlog && batch > 1 && hand.held() > capacity - batch {
                let deadline = tokio::time::Instant::now() + self.settings.claim_batch_wait;
                tokio::select! {
                    () = hand.fewer_than(capacity - batch + 1) => {}
                    () = tokio::time::sleep_until(deadline) => {}
                    () = quiet.cancelled() => return tasks,
                }
            }
            // A store that falls behind on writing reports holds the claims back (reports.rs).
            let unwritten = reports::limit(capacity);
            if unsettled.count() >= unwritten {
                tokio::select! {
                    () = unsettled.below(unwritten) => {}
                    () = quiet.cancelled() => return tasks,
                }
            }
            let limit = capacity.saturating_sub(hand.held());
            // Strict order borrows the configured queues; weights draw a fresh order per claim.
            let queues = self.settings.queues.next();
            let params = ClaimParams { queues: &queues, limit, lease: self.settings.lease, worker_id: &self.id };
            let claimed = match backend.claim(params).await {
                Ok(claimed) => {
                    error_backoff = Duration::from_millis(100);
                    claimed
                }
                Err(error) => {
                    tracing::error!(target: "jobs", %error, "Claiming jobs failed; retrying in {error_backoff:?}");
                    tokio::select! {
                        () = tokio::time::sleep(error_backoff) => {},
                        () = quiet.cancelled() => return tasks,
                    }
                    error_backoff = (error_backoff * 2).min(Duration::from_secs(10));
                    continue;
                }
            };
            if claimed.is_empty() {
                backlog = false;
                let wait = tokio::select! {
                    wait = self.idle_wait(backend) => wait,
                    () = quiet.cancelled() => return tasks,
                };
                tokio::select! {
                    () = backend.wait_for_jobs(self.settings.queues.queues(), wait) => {},
                    () = quiet.cancelled() => return tasks,
                }
                continue;
            }
            backlog = claimed.len() == limit;
            let places = running.insert_all(claimed.iter().map(|job| &job.ticket));
            hand.take(claimed.len());
            crew.queued.push_all(claimed.into_iter().zip(places));
            if quiet.is_cancelled() {
                // Went quiet during the claim: the runners may have stopped taking jobs.
                crew.hand_back_queued();
            }
        }
    }
}

impl Worker {
    /// How long an idle worker waits for a wake-up before claiming again: until the next
    /// scheduled job is due, at most the poll interval, and at least [`MIN_IDLE_WAIT`] so that
    /// a job due but not yet claimable (locked by another claim in flight) is not spun on.
    async fn idle_wait(&self, backend: &dyn Backend) -> Duration {
        let poll = self.settings.poll_interval;
        match backend.next_due(self.settings.queues.queues()).await {
            Ok(Some(due)) => due.clamp(MIN_IDLE_WAIT, poll.max(MIN_IDLE_WAIT)),
            Ok(None) => poll,
            Err(error) => {
                tracing::debug!(target: "jobs", %error, "Could not ask when the next job is due; polling");
                poll
            }
        }
    }
}

/// The shortest wait of an idle worker before it claims again.
const MIN_IDLE_WAIT: Duration = Duration::from_millis(1);
