//! The worker as a process the backend lists: its entry, its state, and its beats.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use crate::contract::{Backend, Error, ProcessCommand, ProcessInfo, ProcessState};
use crate::support::hostname;

/// What a worker is doing, shared with its [`WorkerHandle`](super::WorkerHandle).
#[derive(Debug)]
pub(super) struct Status {
    state: Mutex<ProcessState>,
    /// Cancelled when the worker is to claim no more (quiet, or shutting down).
    pub(super) quiet: CancellationToken,
}

impl Default for Status {
    fn default() -> Self {
        Status { state: Mutex::new(ProcessState::Running), quiet: CancellationToken::new() }
    }
}

impl Status {
    pub(super) fn state(&self) -> ProcessState {
        *self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn set_state(&self, state: ProcessState) {
        *self.state.lock().unwrap_or_else(|e| e.into_inner()) = state;
    }
}

/// The worker's entry in the backend's process registry.
#[derive(Debug)]
pub(super) struct Process {
    entry: ProcessInfo,
    /// False once the backend said it keeps no process registry: beats stop.
    supported: AtomicBool,
}

impl Process {
    pub(super) fn new(id: &str, queues: &[String], concurrency: usize, started_at: DateTime<Utc>) -> Self {
        let entry = ProcessInfo {
            id: id.to_owned(),
            hostname: hostname(),
            pid: std::process::id(),
            version: concat!("jobs ", env!("CARGO_PKG_VERSION")).to_owned(),
            queues: queues.to_vec(),
            concurrency,
            busy: 0,
            started_at,
            last_heartbeat: started_at,
            state: ProcessState::Running,
        };
        Process { entry, supported: AtomicBool::new(true) }
    }

    /// Registers or refreshes the entry, alive for `ttl`; returns the command an operator left.
    pub(super) async fn beat(
        &self,
        backend: &dyn Backend,
        state: ProcessState,
        busy: usize,
        ttl: Duration,
    ) -> Option<ProcessCommand> {
        if !self.supported.load(Ordering::Relaxed) {
            return None;
        }
        let info = ProcessInfo { state, busy, ..self.entry.clone() };
        match backend.beat_process(&info, ttl).await {
            Ok(command) => command,
            Err(Error::NotSupported { .. }) => {
                tracing::debug!(target: "jobs", worker = %self.entry.id, "The backend lists no worker processes");
                self.supported.store(false, Ordering::Relaxed);
                None
            }
            Err(error) => {
                tracing::warn!(target: "jobs", worker = %self.entry.id, %error, "Could not register the worker process");
                None
            }
        }
    }
}
