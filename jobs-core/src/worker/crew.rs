//! One worker's runs: what they share, and how each claimed job is run, handed back or settled.

use std::any::Any;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures_util::FutureExt;
use serde::de::IgnoredAny;

use crate::contract::{ClaimedJob, Environment, ErrorRecord, Failure, JobError, Outcome, Requeued, Stops, Ticket};
use crate::perform::execution::{execute_payload, panic_message};
use crate::perform::retry::RetryPolicy;
use crate::runtime::{Ending, Executed, Runtime, instrument};

use super::Report;
use super::flow;
use super::hand::Hand;
use super::queued::Queued;
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
    /// The jobs claimed and not started, for the runners.
    pub(super) queued: Queued,
}

/// One held job of a crew; dropping it (when the job finished or went back, or its run
/// panicked) frees its place in the hand.
pub(super) struct Held<'a>(pub(super) &'a Hand);

impl Drop for Held<'_> {
    fn drop(&mut self) {
        self.0.release();
    }
}

impl Crew {
    /// One of the worker's `concurrency` runners: runs the queued jobs one after another until
    /// the worker goes quiet, then hands back the jobs not started.
    pub(super) async fn runner(self: Arc<Self>) {
        let quiet = &self.stops.quiet;
        loop {
            // A queued job is taken without waiting on the quiet token (which registers a
            // waiter under its lock).
            let next = match self.queued.try_next() {
                Some(next) => Some(next),
                None if quiet.is_cancelled() => break,
                None => tokio::select! {
                    biased;
                    () = quiet.cancelled() => break,
                    next = self.queued.next() => next,
                },
            };
            let Some((job, place)) = next else { continue };
            let _held = Held(&self.hand);
            if quiet.is_cancelled() {
                self.hand_back(place);
                continue;
            }
            // A job's own panics are caught in its pipeline; this catches the rest of the run's
            // (an event subscriber's, say), so that the worker keeps its concurrency and the job
            // fails as for any other error.
            let attempt = job.attempt;
            if let Err(panic) = AssertUnwindSafe(self.run(job, place)).catch_unwind().await {
                self.panicked(place, attempt, &*panic);
            }
            // Jobs that never wait would otherwise keep this task on its thread for as long as
            // the queue holds jobs: every job counts against tokio's budget, which yields when
            // spent.
            tokio::task::coop::consume_budget().await;
        }
        self.hand_back_queued();
    }

    /// Hands back every job queued and not started (at quiet).
    pub(super) fn hand_back_queued(&self) {
        for (_, place) in self.queued.take_all() {
            let _held = Held(&self.hand);
            self.hand_back(place);
        }
    }

    /// Returns the job claimed at `place`, which never started, to the queue without spending
    /// its attempt.
    pub(super) fn hand_back(&self, place: Place) {
        if let Some(ticket) = self.running.remove(place) {
            self.reports.send(Report::Release(ticket));
        }
    }

    async fn run(&self, job: ClaimedJob, place: Place) {
        let slot = match self.flow {
            false => None,
            true => match flow::gate(&self.runtime, &job).await {
                flow::Gate::Run(slot) => slot,
                flow::Gate::Skip(report) => {
                    if self.running.remove(place).is_some()
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
        // The job's id moves into its payload; its report takes the ticket `running` holds.
        let ClaimedJob { ticket: Ticket { id, .. }, payload, attempt } = job;
        let executed = self.runtime.scope(execute_payload(&self.runtime, &payload, id, ending)).await;
        // However the run ended (a failure, a retry, a snooze, a shutdown), its slot frees now.
        if let Some(slot) = slot {
            slot.release().await;
        }
        if executed.ended_at.is_some() {
            self.hand.ran(executed.took);
        }
        let Some(ticket) = self.running.remove(place) else {
            return; // already handed back at shutdown
        };
        let report = match (executed.outcome, &executed.error) {
            (Outcome::Failed, _) if self.stops.stop.is_cancelled() => Report::Release(ticket),
            (Outcome::Failed, Some(error)) => Report::Fail(self.failure(ticket, &payload, attempt, &executed, error)),
            // Enqueued again by `retry_on` (or resumed after a failure): the run keeps its error.
            (Outcome::Retried | Outcome::Resumed, Some(error)) => {
                let error = error_record(error, attempt_of(attempt, &executed), self.runtime.now());
                Report::Requeued(Requeued { ticket, error })
            }
            _ => Report::Complete(ticket),
        };
        if !matches!(report, Report::Release(_)) {
            let (queue, class) = executed
                .data
                .as_ref()
                .map_or((UNKNOWN_QUEUE, UNDECODABLE), |data| (data.queue_name.as_str(), data.job_class.as_str()));
            let at = executed.ended_at.unwrap_or_else(|| self.runtime.now());
            self.tally.count(at, queue, class, matches!(report, Report::Fail(_)));
        }
        self.reports.send(report);
    }

    /// A run that panicked outside its job (in an event subscriber, say) fails like a job that
    /// raised: it runs again under the worker's retry policy, then goes to the dead set with the
    /// panic's message, its payload as stored. A panic after the run was reported (its place
    /// already empty) is only logged.
    fn panicked(&self, place: Place, attempt: u32, panic: &(dyn Any + Send)) {
        let error = JobError::panic(format!("the run panicked outside its job: {}", panic_message(panic)));
        tracing::error!(target: "jobs", "{}", error.message());
        let Some(ticket) = self.running.remove(place) else { return };
        let retry_in = self.retry.retry_in(attempt);
        let error = error_record(&error, attempt, self.runtime.now());
        self.reports.send(Report::Fail(Failure { ticket, error, retry_in, payload: None }));
    }

    /// The failure of the run of `payload` under `ticket`, claimed as attempt `claimed`.
    fn failure(&self, ticket: Ticket, payload: &str, claimed: u32, executed: &Executed, error: &JobError) -> Failure {
        let attempt = attempt_of(claimed, executed);
        // A payload that is not JSON never will be: like Sidekiq, send it to the dead set at once.
        // One that is JSON but names an unknown class or does not decode goes through retries,
        // since the next deploy may know how to read it.
        let poison = executed.data.is_none() && serde_json::from_str::<IgnoredAny>(payload).is_err();
        let retry_in = if poison { None } else { self.retry.retry_in(attempt) };
        let now = self.runtime.now();
        let rewritten = executed.data.as_ref().and_then(|data| {
            let mut data = data.clone();
            if let Some(delay) = retry_in {
                data.scheduled_at = chrono::Duration::from_std(delay).ok().map(|d| now + d);
            }
            data.to_json().ok()
        });
        let class = executed.data.as_ref().map_or(UNDECODABLE, |d| d.job_class.as_str());
        match retry_in {
            Some(delay) => tracing::info!(
                target: "jobs", provider_job_id = %ticket.id,
                "Retrying {class} in {} seconds, due to a {}", instrument::seconds(delay), error.class()
            ),
            None if poison => tracing::error!(
                target: "jobs", provider_job_id = %ticket.id,
                "Moving a payload that is not JSON to the dead set: {error}"
            ),
            None => tracing::error!(
                target: "jobs", provider_job_id = %ticket.id,
                "Stopped retrying {class} after {attempt} attempts, moving it to the dead set: {error}"
            ),
        }
        Failure { ticket, error: error_record(error, attempt, now), retry_in, payload: rewritten }
    }
}

/// Which attempt a run claimed as attempt `claimed` was: the payload's executions, or the claims
/// counted when the payload could not be read.
fn attempt_of(claimed: u32, executed: &Executed) -> u32 {
    executed.data.as_ref().map_or(claimed, |d| d.executions.max(claimed))
}

/// How `error`, from run `attempt` at `now`, is kept in the job's history.
fn error_record(error: &JobError, attempt: u32, now: DateTime<Utc>) -> ErrorRecord {
    ErrorRecord { class: error.class().to_owned(), message: error.message(), attempt, at: now }
}
