//! The jobs a worker holds (claimed, not finished), and how many it may claim ahead of its
//! free slots.
//!
//! By default the claim-ahead adapts to the pace of the jobs: a worker holds beyond its slots
//! only what it will start within [`AHEAD_HORIZON`], judged by how long its recent jobs ran. Many
//! short jobs then travel in batches of hundreds per round trip, and a job held ahead waits at
//! most about that horizon for a slot, so an idle worker elsewhere loses little by not getting it.
//! For jobs of a few microseconds the cap, not the horizon, decides: a run's own time says little
//! about how fast the worker turns jobs over (its claims and reports cost more than such a job),
//! and the cap keeps a worker from holding thousands on the word of a few fast runs.
//! Long jobs (more than `concurrency × horizon`) are not claimed ahead at all, as in Sidekiq.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::Notify;

/// How long a job claimed ahead should wait for a slot, at most, under the adaptive default.
pub(super) const AHEAD_HORIZON: Duration = Duration::from_millis(10);

/// The adaptive claim-ahead holds at most this many jobs per slot beyond the slots...
const AHEAD_PER_SLOT: usize = 64;

/// ...and at most this many in all.
const AHEAD_MAX: usize = 1_000;

/// How many jobs a worker claims beyond its free slots.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Prefetch {
    /// Exactly this many (`WorkerBuilder::prefetch`); 0 claims only for free slots.
    Fixed(usize),
    /// As many as start within [`AHEAD_HORIZON`] at the pace of recent jobs, at most
    /// [`AHEAD_PER_SLOT`] per slot and [`AHEAD_MAX`] in all (the default).
    Adaptive,
}

/// The jobs a worker holds: a count, and a wake-up for the claim loop once it has fallen to the
/// level the loop waits for.
#[derive(Debug, Default)]
pub(super) struct Hand {
    held: AtomicUsize,
    /// Wakes the claim loop waiting in [`fewer_than`](Hand::fewer_than).
    finished: Notify,
    /// The claim loop waits until fewer than this many jobs are held: a job that finishes above
    /// it wakes nothing. (A wake-up per finished job cost the loop a poll per job and, on a
    /// runtime with several threads, a thread woken per job.)
    wake_below: AtomicUsize,
    /// A moving average of how long a run takes, in nanoseconds (0: no run finished yet).
    run_nanos: AtomicU64,
}

impl Hand {
    /// How many jobs are held.
    pub(super) fn held(&self) -> usize {
        self.held.load(Ordering::Acquire)
    }

    /// Holds `count` more jobs; each is let go of with [`release`](Hand::release) (by the
    /// worker's `Held` guard).
    pub(super) fn take(&self, count: usize) {
        self.held.fetch_add(count, Ordering::AcqRel);
    }

    /// Lets go of one held job (it finished or went back), waking the claim loop if it waits for
    /// fewer held jobs than are left.
    pub(super) fn release(&self) {
        // Sequentially consistent with `fewer_than`'s store and load: of a release and a wait
        // that cross, at least one sees the other, so the wake-up is not lost.
        let held = self.held.fetch_sub(1, Ordering::SeqCst) - 1;
        if held < self.wake_below.load(Ordering::SeqCst) {
            self.finished.notify_one();
        }
    }

    /// Waits until fewer than `level` jobs are held (returns at once if they are).
    pub(super) async fn fewer_than(&self, level: usize) {
        loop {
            self.wake_below.store(level, Ordering::SeqCst);
            if self.held.load(Ordering::SeqCst) < level {
                return;
            }
            // A release between the check and this wait leaves its wake-up stored in `finished`.
            self.finished.notified().await;
        }
    }

    /// Counts a run of `took` in the moving average of run times (weight 1/8).
    pub(super) fn ran(&self, took: Duration) {
        let sample = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX).max(1);
        let average = self.run_nanos.load(Ordering::Relaxed);
        let next = if average == 0 { sample } else { average - average / 8 + sample / 8 };
        self.run_nanos.store(next.max(1), Ordering::Relaxed);
    }

    /// How many jobs the worker may hold at most now: its `concurrency` slots plus the jobs it
    /// claims ahead under `prefetch`.
    pub(super) fn capacity(&self, concurrency: usize, prefetch: Prefetch) -> usize {
        concurrency + ahead(concurrency, prefetch, self.run_nanos.load(Ordering::Relaxed))
    }
}

/// The claim-ahead for `concurrency` slots under `prefetch`, when runs take `run_nanos` on
/// average (0: unknown, nothing is claimed ahead until a run has finished).
fn ahead(concurrency: usize, prefetch: Prefetch, run_nanos: u64) -> usize {
    match prefetch {
        Prefetch::Fixed(jobs) => jobs,
        Prefetch::Adaptive if run_nanos == 0 => 0,
        Prefetch::Adaptive => {
            let within_horizon = concurrency as u128 * AHEAD_HORIZON.as_nanos() / u128::from(run_nanos);
            usize::try_from(within_horizon)
                .unwrap_or(usize::MAX)
                .min(concurrency.saturating_mul(AHEAD_PER_SLOT))
                .min(AHEAD_MAX)
        }
    }
}

#[cfg(test)]
mod tests {
    use futures_util::FutureExt;

    use super::*;

    #[test]
    fn short_jobs_are_claimed_ahead_long_ones_are_not() {
        let micros = |n: u64| n * 1_000;
        assert_eq!(ahead(10, Prefetch::Adaptive, 0), 0, "nothing ahead before a run has finished");
        assert_eq!(ahead(10, Prefetch::Adaptive, micros(1)), 640, "no-op jobs: 64 per slot");
        assert_eq!(ahead(100, Prefetch::Adaptive, micros(1)), 1_000, "no-op jobs: 1000 in all");
        assert_eq!(ahead(10, Prefetch::Adaptive, micros(20)), 640, "20 µs jobs: within 10 ms, 64 per slot");
        assert_eq!(ahead(10, Prefetch::Adaptive, micros(5_000)), 20, "5 ms jobs: what starts within 10 ms");
        assert_eq!(ahead(10, Prefetch::Adaptive, micros(100_000)), 1);
        assert_eq!(ahead(10, Prefetch::Adaptive, micros(2_000_000)), 0, "long jobs: none");
        assert_eq!(ahead(10, Prefetch::Fixed(3), micros(2_000_000)), 3, "a fixed prefetch is kept");
    }

    #[test]
    fn the_hand_counts_held_jobs_and_the_pace_of_runs() {
        let hand = Hand::default();
        hand.take(3);
        assert_eq!(hand.held(), 3);
        for _ in 0..3 {
            hand.release();
        }
        assert_eq!(hand.held(), 0);
        hand.take(3);
        assert!(hand.fewer_than(4).now_or_never().is_some(), "3 held: fewer than 4 at once");
        let mut wait = Box::pin(hand.fewer_than(2));
        assert!((&mut wait).now_or_never().is_none());
        hand.release();
        assert!((&mut wait).now_or_never().is_none(), "2 held: still waiting for fewer than 2");
        hand.release();
        assert!(wait.now_or_never().is_some(), "1 held: the wait is over");
        hand.release();
        for _ in 0..64 {
            hand.ran(Duration::from_millis(5));
        }
        assert_eq!(hand.capacity(10, Prefetch::Adaptive), 10 + 20);
    }
}
