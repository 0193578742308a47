//! Worker processes as the operations API sees them: who is running, and the signals they take.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What a worker process is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProcessState {
    /// Claiming and running jobs.
    Running,
    /// Running the jobs it holds, claiming no more (Sidekiq's quiet, after TSTP).
    Quiet,
    /// Shutting down: finishing or handing back the jobs it holds.
    Stopping,
}

impl ProcessState {
    /// `running`, `quiet` or `stopping`.
    pub fn as_str(&self) -> &'static str {
        match self {
            ProcessState::Running => "running",
            ProcessState::Quiet => "quiet",
            ProcessState::Stopping => "stopping",
        }
    }
}

/// What an operator asks of a process through [`Inspect::signal`](crate::Inspect::signal).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProcessCommand {
    /// Stop claiming; keep running what it holds (Sidekiq's TSTP).
    Quiet,
    /// Shut down gracefully (Sidekiq's TERM).
    Stop,
}

impl ProcessCommand {
    /// `quiet` or `stop`.
    pub fn as_str(&self) -> &'static str {
        match self {
            ProcessCommand::Quiet => "quiet",
            ProcessCommand::Stop => "stop",
        }
    }
}

/// A worker process, as it registers itself with
/// [`Backend::beat_process`](crate::adapter::Backend::beat_process) and as
/// [`Inspect::processes`](crate::Inspect::processes) lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessInfo {
    /// Its id: the worker's id (on Redis, Sidekiq's process identity `host:pid:nonce`).
    pub id: String,
    /// The host it runs on.
    pub hostname: String,
    /// Its operating-system process id.
    pub pid: u32,
    /// What runs it, e.g. `jobs 0.1.0`.
    pub version: String,
    /// The queues it takes jobs from, in precedence order (`*`: every queue).
    pub queues: Vec<String>,
    /// How many jobs it runs at once at most.
    pub concurrency: usize,
    /// How many jobs it runs now.
    pub busy: usize,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// Its latest heartbeat (set by the backend from its clock where it has one).
    pub last_heartbeat: DateTime<Utc>,
    /// What it is doing.
    pub state: ProcessState,
}
