//! One worker's runs: what they share, and how each claimed job is run, handed back or settled.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::de::IgnoredAny;
use tokio::sync::Semaphore;

use crate::contract::{ClaimedJob, Environment, ErrorRecord, Failure, JobError, Outcome, Requeued, Stops};
use crate::perform::execution::execute_payload;
use crate::perform::retry::RetryPolicy;
use crate::runtime::{Ending, Executed, Runtime, instrument};

use super::Report;
use super::flow;
use super::hand::Hand;
use super::reports::Reports;
use super::running::{Place, Running};
use super::tally::Tally;

/// The class of a job whose payload could not be read, in logs and in the history.
const UNDECODABLE: &str = "(undecodable payload)";

/// The queue of a job whose payload could not be read, in the history.
const UNKNOWN_QUEUE: &str = "(unknown)";

/// What all the runs of one worker share, behind one `Arc`: a run clones that one pointer rather
/// than a handle per field, since every clone and drop is an atomic write to a cache line that
/// the runtime's other threads read too.
pub(super) struct Crew {
    pub(super) runtime: Runtime,
    /// The runtime as its jobs' environment.
    pub(super) env: Arc<dyn Environment>,
    pub(super) running: Arc<Running>,
    pub(super) reports: Reports,
    pub(super) retry: RetryPolicy,
    /// The worker's quiet and stop signals, handed to each run as they are.
    pub(super) stops: Arc<Stops>,
    pub(super) tally: Arc<Tally>,
    /// Whether a registered class has a concurrency limit or a throttle to enforce.
    pub(super) flow: bool,
    /// The jobs held (claimed and not finished), told how long each run took.
    pub(super) hand: Hand,
    /// Bounds the jobs running at once.
    pub(super) slots: Semaphore,
}

/// One held job of a crew; dropping it (when the job finished or went back) frees its place in
/// the hand.
pub(super) struct Held(pub(super) Arc<Crew>);

impl Drop for Held {
    fn drop(&mut self) {
        self.0.hand.release();
    }
}

impl Crew {
    /// Runs a job claimed at `place`: waits for a slot, unless the worker goes quiet first, in
    /// which case a job that has not started goes back to the queue.
    pub(super) async fn start(held: Held, job: ClaimedJob, place: Place) {
        let crew = &*held.0;
        let quiet = &crew.stops.quiet;
        // A free slot is taken without waiting on the quiet token (which registers a waiter
        // under its lock).
        let slot = if quiet.is_cancelled() {
            None
        } else if let Ok(slot) = crew.slots.try_acquire() {
            Some(slot)
        } else {
            tokio::select! {
                biased;
                () = quiet.cancelled() => None,
                slot = crew.slots.acquire() => slot.ok(),
            }
        };
        match slot {
            Some(slot) => {
                crew.run(job, place).await;
                drop(slot);
            }
            None => crew.hand_back(job, place),
        }
    }

    /// Returns a job that never started to the queue, without spending its attempt.
    fn hand_back(&self, job: ClaimedJob, place: Place) {
        if self.running.remove(place) {
            self.reports.send(Report::Release(job.ticket));
        }
    }

    async fn run(&self, job: ClaimedJob, place: Place) {
        let slot = match self.flow {
            false => None,
            true => match flow::gate(&self.runtime, &job).await {
                flow::Gate::Run(slot) => slot,
                flow::Gate::Skip(report) => {
                    if self.running.remove(place)
                        && let Some(report) = report
                    {
                        self.reports.send(report);
                    }
                    return;
                }
            },
        };
        // The job runs with the worker's runtime as the current one, so that what it enqueues
        // goes where the worker's jobs come from, installed runtime or not.
        let ending = Ending {
            stops: self.stops.clone(),
            last_run: self.retry.last_run(job.attempt),
            claim_token: Some(job.ticket.token),
            env: Some(self.env.clone()),
        };
        let started = tokio::time::Instant::now();
        let executed = self.runtime.scope(execute_payload(&self.runtime, &job.payload, &job.ticket.id, ending)).await;
        // However the run ended (a failure, a retry, a snooze, a shutdown), its slot frees now.
        if let Some(slot) = slot {
            slot.release().await;
        }
        self.hand.ran(started.elapsed());
        if !self.running.remove(place) {
            return; // already handed back at shutdown
        }
        let report = match (executed.outcome, &executed.error) {
            (Outcome::Failed, _) if self.stops.stop.is_cancelled() => Report::Release(job.ticket),
            (Outcome::Failed, Some(error)) => Report::Fail(self.failure(&job, &executed, error)),
            // Enqueued again by `retry_on` (or resumed after a failure): the run keeps its error.
            (Outcome::Retried | Outcome::Resumed, Some(error)) => {
                let error = error_record(error, attempt_of(&job, &executed), self.runtime.now());
                Report::Requeued(Requeued { ticket: job.ticket.clone(), error })
            }
            _ => Report::Complete(job.ticket),
        };
        if !matches!(report, Report::Release(_)) {
            let (queue, class) = executed
                .data
                .as_ref()
                .map_or((UNKNOWN_QUEUE, UNDECODABLE), |data| (data.queue_name.as_str(), data.job_class.as_str()));
            self.tally.count(self.runtime.now(), queue, class, matches!(report, Report::Fail(_)));
        }
        self.reports.send(report);
    }

    fn failure(&self, job: &ClaimedJob, executed: &Executed, error: &JobError) -> Failure {
        let attempt = attempt_of(job, executed);
        // A payload that is not JSON never will be: like Sidekiq, send it to the dead set at once.
        // One that is JSON but names an unknown class or does not decode goes through retries,
        // since the next deploy may know how to read it.
        let poison = executed.data.is_none() && serde_json::from_str::<IgnoredAny>(&job.payload).is_err();
        let retry_in = if poison { None } else { self.retry.retry_in(attempt) };
        let now = self.runtime.now();
        let payload = executed.data.as_ref().and_then(|data| {
            let mut data = data.clone();
            if let Some(delay) = retry_in {
                data.scheduled_at = chrono::Duration::from_std(delay).ok().map(|d| now + d);
            }
            data.to_json().ok()
        });
        let class = executed.data.as_ref().map_or(UNDECODABLE, |d| d.job_class.as_str());
        match retry_in {
            Some(delay) => tracing::info!(
                target: "jobs", provider_job_id = %job.ticket.id,
                "Retrying {class} in {} seconds, due to a {}", instrument::seconds(delay), error.class()
            ),
            None if poison => tracing::error!(
                target: "jobs", provider_job_id = %job.ticket.id,
                "Moving a payload that is not JSON to the dead set: {error}"
            ),
            None => tracing::error!(
                target: "jobs", provider_job_id = %job.ticket.id,
                "Stopped retrying {class} after {attempt} attempts, moving it to the dead set: {error}"
            ),
        }
        Failure { ticket: job.ticket.clone(), error: error_record(error, attempt, now), retry_in, payload }
    }
}

/// Which attempt the run of `job` was: the payload's executions, or the claims counted when the
/// payload could not be read.
fn attempt_of(job: &ClaimedJob, executed: &Executed) -> u32 {
    executed.data.as_ref().map_or(job.attempt, |d| d.executions.max(job.attempt))
}

/// How `error`, from run `attempt` at `now`, is kept in the job's history.
fn error_record(error: &JobError, attempt: u32, now: DateTime<Utc>) -> ErrorRecord {
    ErrorRecord { class: error.class().to_owned(), message: error.message(), attempt, at: now }
}
