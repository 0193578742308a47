//! The jobs a worker claimed and has not started yet, in claim order, waiting for one of its
//! runners.
//!
//! A worker runs its jobs on `concurrency` long-lived runner tasks (see `Crew::runner`) rather
//! than on a task per job: a task costs each job an allocation aligned for tokio's task cell,
//! its scheduling, its join and the drop of its handle (~2 000 instructions, about a tenth of a
//! no-op job's run), where a queued job costs a lock and a permit.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};

use tokio::sync::Semaphore;

use crate::contract::ClaimedJob;

use super::running::Place;

/// A claimed job and its place among the worker's claims.
pub(super) type Next = (ClaimedJob, Place);

/// The queue: the jobs, and a permit for each job pushed, which a runner takes before it pops.
/// A runner may find the queue empty after taking a permit (the jobs were taken back at quiet):
/// it then waits again.
#[derive(Debug)]
pub(super) struct Queued {
    jobs: Mutex<VecDeque<Next>>,
    pushed: Semaphore,
}

impl Default for Queued {
    fn default() -> Self {
        Queued { jobs: Mutex::default(), pushed: Semaphore::new(0) }
    }
}

impl Queued {
    fn jobs(&self) -> MutexGuard<'_, VecDeque<Next>> {
        self.jobs.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues `jobs` behind those queued, and wakes as many waiting runners.
    pub(super) fn push_all(&self, jobs: impl Iterator<Item = Next>) {
        let added = {
            let mut queue = self.jobs();
            let before = queue.len();
            queue.extend(jobs);
            queue.len() - before
        };
        self.pushed.add_permits(added);
    }

    /// The next job if one is queued, without waiting.
    pub(super) fn try_next(&self) -> Option<Next> {
        self.pushed.try_acquire().ok()?.forget();
        self.jobs().pop_front()
    }

    /// Waits for a job to be queued and takes it; `None` when another took it first.
    pub(super) async fn next(&self) -> Option<Next> {
        self.pushed.acquire().await.ok()?.forget();
        self.jobs().pop_front()
    }

    /// Takes every job queued (their permits stay: runners that take one find nothing).
    pub(super) fn take_all(&self) -> Vec<Next> {
        self.jobs().drain(..).collect()
    }
}

#[cfg(test)]
mod tests {
    use crate::contract::Ticket;

    use super::super::running::Running;
    use super::*;

    fn claimed(running: &Running, ids: &[&str]) -> Vec<Next> {
        let jobs: Vec<ClaimedJob> = ids
            .iter()
            .map(|id| ClaimedJob {
                ticket: Ticket { id: (*id).to_owned(), token: 1 },
                payload: String::new(),
                attempt: 1,
            })
            .collect();
        let places = running.insert_all(jobs.iter().map(|job| &job.ticket));
        jobs.into_iter().zip(places).collect()
    }

    fn id(next: Option<Next>) -> Option<String> {
        next.map(|(job, _)| job.ticket.id)
    }

    #[tokio::test]
    async fn jobs_come_out_in_claim_order_and_a_waiting_runner_wakes() {
        let (queued, running) = (std::sync::Arc::new(Queued::default()), Running::default());
        assert!(queued.try_next().is_none());
        let waiting = tokio::spawn({
            let queued = queued.clone();
            async move { id(queued.next().await) }
        });
        tokio::task::yield_now().await;
        queued.push_all(claimed(&running, &["a", "b", "c"]).into_iter());
        let first = waiting.await.unwrap();
        let rest = [id(queued.try_next()), id(queued.try_next())];
        assert_eq!(first.as_deref(), Some("a"), "the waiting runner took the first job");
        assert_eq!(rest, [Some("b".to_owned()), Some("c".to_owned())]);
        assert!(queued.try_next().is_none());
    }

    #[tokio::test]
    async fn jobs_taken_back_leave_permits_that_find_nothing() {
        let (queued, running) = (Queued::default(), Running::default());
        queued.push_all(claimed(&running, &["a", "b"]).into_iter());
        let taken: Vec<String> = queued.take_all().into_iter().map(|(job, _)| job.ticket.id).collect();
        assert_eq!(taken, ["a", "b"]);
        assert!(queued.try_next().is_none(), "a permit whose job was taken back yields nothing");
        assert!(queued.next().await.is_none());
        assert!(queued.try_next().is_none(), "both permits used up");
    }
}
