//! The runs' reports (completions, failures, releases) on their way to the store, and how many
//! the store has not written yet.
//!
//! Reports are written in batches beside the claim loop, so a run's slot is free again before
//! its completion is stored. Were the store to fall behind on writing them (slow, overloaded, or
//! a plan gone wrong), the worker would go on claiming and running jobs whose completions only
//! pile up in memory, each one a job that runs again should the process die. So the claim loop
//! waits while [`limit`] reports are unwritten: the store's pace of writing them bounds its pace
//! of claiming.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::{Notify, mpsc};

use super::Report;

/// Unwritten reports a worker allows before it claims more, at least: two of the flusher's
/// batches.
const AT_LEAST: usize = 2 * BATCH;

/// Reports the flusher writes per round of store calls, at most.
pub(super) const BATCH: usize = 1024;

/// The unwritten reports beyond which a worker that may hold `capacity` jobs claims no more:
/// [`AT_LEAST`], or four times its capacity if that is more.
pub(super) fn limit(capacity: usize) -> usize {
    AT_LEAST.max(capacity.saturating_mul(4))
}

/// The sending side: every report sent counts as unwritten until the flusher settles it.
#[derive(Clone, Debug)]
pub(super) struct Reports {
    sender: mpsc::UnboundedSender<Report>,
    unsettled: Arc<Unsettled>,
}

/// How many reports are sent and not yet written, and a wake-up when some are.
#[derive(Debug, Default)]
pub(super) struct Unsettled {
    count: AtomicUsize,
    settled: Notify,
}

impl Reports {
    /// A channel of reports: its sender, its receiver (the flusher's) and its unwritten count.
    pub(super) fn channel() -> (Reports, mpsc::UnboundedReceiver<Report>, Arc<Unsettled>) {
        let (sender, inbox) = mpsc::unbounded_channel();
        let unsettled = Arc::new(Unsettled::default());
        (Reports { sender, unsettled: unsettled.clone() }, inbox, unsettled)
    }

    /// Sends a report to the flusher.
    pub(super) fn send(&self, report: Report) {
        self.unsettled.count.fetch_add(1, Ordering::AcqRel);
        if self.sender.send(report).is_err() {
            // The flusher is gone (the worker is shutting down): nothing will write it.
            self.unsettled.settle(1);
        }
    }
}

impl Unsettled {
    /// How many reports are unwritten.
    pub(super) fn count(&self) -> usize {
        self.count.load(Ordering::Acquire)
    }

    /// `count` reports were written (or given up on), waking a claim loop that waits.
    pub(super) fn settle(&self, count: usize) {
        self.count.fetch_sub(count, Ordering::AcqRel);
        self.settled.notify_waiters();
    }

    /// Waits until fewer than `limit` reports are unwritten.
    pub(super) async fn below(&self, limit: usize) {
        loop {
            let settled = self.settled.notified();
            tokio::pin!(settled);
            settled.as_mut().enable();
            if self.count() < limit {
                return;
            }
            settled.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::Ticket;

    fn release() -> Report {
        Report::Release(Ticket { id: "1".into(), token: 1 })
    }

    #[tokio::test]
    async fn counts_reports_until_settled_and_wakes_a_waiter() {
        let (reports, mut inbox, unsettled) = Reports::channel();
        for _ in 0..3 {
            reports.send(release());
        }
        assert_eq!(unsettled.count(), 3);
        let waiter = tokio::spawn({
            let unsettled = unsettled.clone();
            async move { unsettled.below(2).await }
        });
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished(), "3 unwritten is not below 2");
        let mut batch = Vec::new();
        inbox.recv_many(&mut batch, 10).await;
        unsettled.settle(batch.len());
        waiter.await.unwrap();
        assert_eq!(unsettled.count(), 0);
        drop(inbox);
        reports.send(release());
        assert_eq!(unsettled.count(), 0, "a report nobody will write is not waited for");
    }

    #[test]
    fn the_limit_grows_with_what_a_worker_may_hold() {
        assert_eq!((limit(10), limit(1_000)), (2_048, 4_000));
    }
}
