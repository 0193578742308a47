//! Where a worker's run of a continuable job stores its progress at checkpoints
//! ([`Backend::save_progress`](super::adapter::Backend::save_progress)), so that a job whose worker dies resumes from there.

use std::fmt;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::time::Instant;

use super::adapter::{Adapter, Ticket};
use super::continuation::Continuation;
use super::error::Error;
use super::payload::JobData;

/// Whether this process has said that its backend cannot store progress (said once).
static UNSUPPORTED_LOGGED: AtomicBool = AtomicBool::new(false);

/// The backend and claim a continuable job runs under, and how often its progress is stored.
/// Only a worker's runs of continuable jobs have one.
pub(crate) struct ProgressSink {
    adapter: Arc<dyn Adapter>,
    ticket: Ticket,
    interval: Duration,
    /// When progress was last stored (the run's start before the first time).
    last: Mutex<Instant>,
    /// Set once the backend said it cannot store progress: the run stops trying.
    unsupported: AtomicBool,
}

impl fmt::Debug for ProgressSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProgressSink").field("ticket", &self.ticket).field("interval", &self.interval).finish()
    }
}

impl ProgressSink {
    /// Stores through `adapter`'s backend under `ticket`, at most once per `interval`.
    pub(crate) fn new(adapter: Arc<dyn Adapter>, ticket: Ticket, interval: Duration) -> Self {
        ProgressSink {
            adapter,
            ticket,
            interval,
            last: Mutex::new(Instant::now()),
            unsupported: AtomicBool::new(false),
        }
    }

    /// Whether to store now: always when `forced` (a step completed), else once `interval` has
    /// passed since the last time. Counts as stored when it says yes.
    pub(crate) fn due(&self, forced: bool) -> bool {
        if self.unsupported.load(Ordering::Relaxed) {
            return false;
        }
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        if forced || now.duration_since(*last) >= self.interval {
            *last = now;
            true
        } else {
            false
        }
    }

    /// Stores `data` with `continuation` as the payload a rescued job runs again with, in the
    /// form an interrupted job is enqueued again with: its attempt given back (the next run
    /// counts it again) and no provider id. A failure is logged and the job goes on.
    pub(crate) async fn save(&self, data: &JobData, continuation: Continuation) {
        let Some(backend) = self.adapter.backend() else { return };
        let stored = JobData {
            continuation: Some(continuation),
            executions: data.executions.saturating_sub(1),
            provider_job_id: None,
            ..data.clone()
        };
        let payload = match stored.to_json() {
            Ok(payload) => payload,
            Err(error) => {
                tracing::warn!(target: "jobs", job_id = %data.job_id, %error, "Could not encode the progress of {}", data.job_class);
                return;
            }
        };
        match backend.save_progress(&self.ticket, &payload).await {
            Ok(true) => {}
            Ok(false) => tracing::warn!(
                target: "jobs", job_id = %data.job_id, provider_job_id = %self.ticket.id,
                "Did not store the progress of {}: its claim is no longer current (lease expired?)", data.job_class
            ),
            Err(Error::NotSupported { .. }) => {
                self.unsupported.store(true, Ordering::Relaxed);
                if !UNSUPPORTED_LOGGED.swap(true, Ordering::Relaxed) {
                    tracing::debug!(
                        target: "jobs", adapter = self.adapter.name(),
                        "This backend cannot store progress at checkpoints; continuable jobs keep it only when interrupted"
                    );
                }
            }
            Err(error) => tracing::warn!(
                target: "jobs", job_id = %data.job_id, provider_job_id = %self.ticket.id, %error,
                "Could not store the progress of {}; it goes on", data.job_class
            ),
        }
    }
}
