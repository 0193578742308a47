//! The inspection side of the adapter contract: what tools (dashboards, CLIs, tests) ask a backend.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::adapter::{BoxFuture, ErrorRecord};
use super::error::Error;
use super::filter::{JobAction, JobPage, ListParams, Target};
use super::payload::JobData;
use super::process::{ProcessCommand, ProcessInfo};
use super::stats::{HistoryPoint, QueueStats};

/// Where a stored job stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    /// Waiting for its scheduled time; it has not failed yet.
    Scheduled,
    /// Due, waiting for a worker.
    Ready,
    /// Held back by a concurrency limit: every slot of its key is taken; it becomes ready when
    /// one frees (see [`FlowStore`](crate::adapter::FlowStore)).
    Blocked,
    /// Claimed by a worker that holds its lease.
    Running,
    /// Failed, waiting for the time of its next attempt.
    Retrying,
    /// Out of attempts: in the dead set with its errors, until retried or deleted.
    Dead,
    /// Performed; kept for a while so that it can still be looked up.
    Completed,
}

impl JobState {
    /// Every state, in the order a job usually goes through them.
    pub const ALL: [JobState; 7] = [
        JobState::Scheduled,
        JobState::Ready,
        JobState::Blocked,
        JobState::Running,
        JobState::Retrying,
        JobState::Dead,
        JobState::Completed,
    ];

    /// The state's name: `scheduled`, `ready`, `blocked`, `running`, `retrying`, `dead` or `completed`.
    pub fn as_str(&self) -> &'static str {
        match self {
            JobState::Scheduled => "scheduled",
            JobState::Ready => "ready",
            JobState::Blocked => "blocked",
            JobState::Running => "running",
            JobState::Retrying => "retrying",
            JobState::Dead => "dead",
            JobState::Completed => "completed",
        }
    }

    /// True while the job still has to run: scheduled, ready, blocked, running or retrying.
    pub fn is_pending(&self) -> bool {
        !matches!(self, JobState::Dead | JobState::Completed)
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for JobState {
    type Err = Error;

    /// ```
    /// # use jobs_core::JobState;
    /// assert_eq!("dead".parse::<JobState>().unwrap(), JobState::Dead);
    /// assert!("lost".parse::<JobState>().is_err());
    /// ```
    fn from_str(text: &str) -> Result<Self, Error> {
        JobState::ALL
            .into_iter()
            .find(|state| state.as_str() == text)
            .ok_or_else(|| Error::Config(format!("unknown job state `{text}`")))
    }
}

/// A stored job as a tool sees it, from [`Inspect::find`] and [`Inspect::list`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobInfo {
    /// The backend's id of the job (its provider job id).
    pub id: String,
    /// The Active Job `job_id` it carries (what `perform_later` returned), if its payload has one.
    /// A `retry_on` retry is a new stored job with the same `job_id`.
    pub job_id: Option<String>,
    /// Its job class, e.g. `SendInvoice` (empty if the payload cannot be read).
    pub class: String,
    /// The queue it is on.
    pub queue: String,
    /// Its priority within the queue (lower runs first; no priority is 0).
    pub priority: i32,
    /// Where it stands.
    pub state: JobState,
    /// How many claims of it counted (a release gives one back).
    pub attempts: u32,
    /// When it is or was due, where the adapter keeps it.
    pub run_at: Option<DateTime<Utc>>,
    /// When it was stored.
    pub enqueued_at: Option<DateTime<Utc>>,
    /// When its current run started, while it is running.
    pub started_at: Option<DateTime<Utc>>,
    /// When it completed or died.
    pub finished_at: Option<DateTime<Utc>>,
    /// The worker running it (the `worker_id` of [`ClaimParams`](crate::adapter::ClaimParams)),
    /// while it is running.
    pub worker_id: Option<String>,
    /// The stored payload, as the next run will see it (possibly undecodable).
    pub payload: String,
    /// The errors of its failed runs, oldest first.
    pub errors: Vec<ErrorRecord>,
}

impl JobInfo {
    /// The decoded payload.
    pub fn data(&self) -> Result<JobData, Error> {
        JobData::from_json(&self.payload)
    }

    /// The job as [`Inspect::find`] shows it by its `job_id`: this, the latest stored job
    /// carrying it, with `earlier`, the errors of the runs stored before it (oldest first), ahead
    /// of its own. A scheduled job with errors before it is a retry waiting for its time.
    ///
    /// ```
    /// # use jobs_core::{JobInfo, JobState};
    /// # use jobs_core::adapter::ErrorRecord;
    /// # let at = chrono::Utc::now();
    /// # let retry = JobInfo { id: "2".into(), job_id: Some("j".into()), class: "Sync".into(), queue: "default".into(),
    /// #     priority: 0, state: JobState::Scheduled, attempts: 0, run_at: None, enqueued_at: None, started_at: None,
    /// #     finished_at: None, worker_id: None, payload: "{}".into(), errors: vec![] };
    /// let timeout = ErrorRecord { class: "Timeout".into(), message: "slow".into(), attempt: 1, at };
    /// let shown = retry.with_earlier_errors(vec![timeout.clone()]);
    /// assert_eq!((shown.state, shown.errors), (JobState::Retrying, vec![timeout]));
    /// ```
    pub fn with_earlier_errors(mut self, mut earlier: Vec<ErrorRecord>) -> JobInfo {
        if earlier.is_empty() {
            return self;
        }
        if self.state == JobState::Scheduled {
            self.state = JobState::Retrying;
        }
        earlier.append(&mut self.errors);
        self.errors = earlier;
        self
    }
}

/// How many jobs each queue holds in each state, from [`Inspect::counts`]; absent means none.
///
/// ```
/// # use jobs_core::{Counts, JobState};
/// let counts: Counts = [("mailers".to_string(), JobState::Ready, 3), ("default".to_string(), JobState::Dead, 1)]
///     .into_iter()
///     .collect();
/// assert_eq!(counts.get("mailers", JobState::Ready), 3);
/// assert_eq!(counts.get("mailers", JobState::Dead), 0);
/// assert_eq!(counts.pending(), 3);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts(BTreeMap<String, BTreeMap<JobState, u64>>);

impl Counts {
    /// No jobs at all.
    pub fn new() -> Self {
        Counts::default()
    }

    /// Adds `count` jobs of `queue` in `state`.
    pub fn add(&mut self, queue: &str, state: JobState, count: u64) {
        if count > 0 {
            *self.0.entry(queue.to_owned()).or_default().entry(state).or_default() += count;
        }
    }

    /// How many jobs of `queue` are in `state`.
    pub fn get(&self, queue: &str, state: JobState) -> u64 {
        self.0.get(queue).and_then(|states| states.get(&state)).copied().unwrap_or(0)
    }

    /// How many jobs of every queue are in `state`.
    pub fn total(&self, state: JobState) -> u64 {
        self.0.values().filter_map(|states| states.get(&state)).sum()
    }

    /// How many jobs still have to run, in every queue (see [`JobState::is_pending`]).
    pub fn pending(&self) -> u64 {
        JobState::ALL.iter().filter(|s| s.is_pending()).map(|s| self.total(*s)).sum()
    }

    /// Every (queue, state, count), by queue then state.
    pub fn iter(&self) -> impl Iterator<Item = (&str, JobState, u64)> + '_ {
        self.0.iter().flat_map(|(queue, states)| states.iter().map(move |(s, n)| (queue.as_str(), *s, *n)))
    }
}

impl FromIterator<(String, JobState, u64)> for Counts {
    fn from_iter<I: IntoIterator<Item = (String, JobState, u64)>>(iter: I) -> Self {
        let mut counts = Counts::new();
        for (queue, state, count) in iter {
            counts.add(&queue, state, count);
        }
        counts
    }
}

/// The side of a backend that tools read and steer, reached through
/// [`Adapter::inspector`](crate::adapter::Adapter::inspector): the operations API that the `jobs`
/// CLI and the dashboard are views of.
///
/// Guarantees, proven for each adapter by the conformance suite:
/// * `find` and `list` show a job in the state it is in now, with every error of its failed runs;
///   a completed job stays findable for a retention period the adapter documents;
/// * `counts` and `queues` agree with `list`;
/// * `list` pages with an opaque cursor ([`JobPage::next`]): walking every page returns each
///   matching job once, even while jobs are added, and costs about the same on the last page as on
///   the first (keyset pagination, no offset);
/// * `apply` changes only the jobs its [`JobAction`] applies to, leaves running jobs alone, and
///   returns how many it changed; a filter is applied in one round trip where the store allows;
/// * a paused queue keeps accepting jobs but no worker claims from it until it is resumed; pausing
///   a paused queue or resuming a running one is harmless;
/// * `history` returns what workers recorded with
///   [`Backend::record_history`](crate::adapter::Backend::record_history) for at least 24 hours;
/// * `processes` lists the workers whose last heartbeat is younger than the time to live they
///   gave, and `signal` reaches such a worker at its next heartbeat;
/// * what the adapter cannot do is an [`Error::NotSupported`], declared in its
///   [`Capabilities`](crate::adapter::Capabilities).
pub trait Inspect: Send + Sync {
    /// How many jobs each queue holds in each state.
    fn counts(&self) -> BoxFuture<'_, Result<Counts, Error>>;

    /// One page of the jobs matching `params.filter`, in id order (oldest first, or newest first
    /// with [`ListParams::newest_first`]), starting after `params.after`.
    fn list<'a>(&'a self, params: &'a ListParams) -> BoxFuture<'a, Result<JobPage, Error>>;

    /// The job with backend id `id` (its provider job id), or else with Active Job job id `id`
    /// (what `perform_later` returned as `job_id`), if the backend still has it. Several stored
    /// jobs share a job id once `retry_on` has enqueued a retry (a new job, as in Rails): the
    /// latest is returned, so that a job waiting for its retry never shows as completed, with the
    /// errors of the runs before it ([`JobInfo::with_earlier_errors`]).
    fn find<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<JobInfo>, Error>>;

    /// Applies `action` to the jobs `target` selects; returns how many it changed (jobs the action
    /// does not apply to, running ones included, are left alone and not counted).
    fn apply<'a>(&'a self, action: JobAction, target: &'a Target) -> BoxFuture<'a, Result<u64, Error>>;

    /// Every queue that holds jobs or is paused, by name, with its size per state, its latency
    /// and whether it is paused.
    fn queues(&self) -> BoxFuture<'_, Result<Vec<QueueStats>, Error>>;

    /// Processed and failed runs per minute, queue and job class, from `since` on, oldest first.
    fn history(&self, since: DateTime<Utc>) -> BoxFuture<'_, Result<Vec<HistoryPoint>, Error>>;

    /// The live worker processes, by id.
    fn processes(&self) -> BoxFuture<'_, Result<Vec<ProcessInfo>, Error>>;

    /// Asks the live process `id` to go quiet or stop; it acts at its next heartbeat. Returns
    /// false when no live process has that id.
    fn signal<'a>(&'a self, id: &'a str, command: ProcessCommand) -> BoxFuture<'a, Result<bool, Error>>;

    /// Stops workers from claiming jobs of `queue` until it is resumed.
    fn pause<'a>(&'a self, queue: &'a str) -> BoxFuture<'a, Result<(), Error>>;

    /// Lets workers claim jobs of `queue` again.
    fn resume<'a>(&'a self, queue: &'a str) -> BoxFuture<'a, Result<(), Error>>;

    /// The paused queues, sorted.
    fn paused(&self) -> BoxFuture<'_, Result<Vec<String>, Error>>;
}
