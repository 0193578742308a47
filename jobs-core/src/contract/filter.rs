//! What the operations API selects and does: filters, pages of jobs, and actions on jobs.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::inspect::{JobInfo, JobState};

/// Which jobs a listing or an action applies to; every field set must match (no field: every job).
///
/// ```
/// # use jobs_core::{JobFilter, JobState};
/// let filter = JobFilter::new().state(JobState::Dead).queue("mailers").class("SendInvoice");
/// assert_eq!(filter.state, Some(JobState::Dead));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct JobFilter {
    /// Only jobs on this queue.
    pub queue: Option<String>,
    /// Only jobs in this state.
    pub state: Option<JobState>,
    /// Only jobs of this job class (exact match, e.g. `SendInvoice`).
    pub class: Option<String>,
    /// Only jobs stored at or after this time.
    pub enqueued_after: Option<DateTime<Utc>>,
    /// Only jobs stored before this time.
    pub enqueued_before: Option<DateTime<Utc>>,
    /// Only jobs due (scheduled, or retrying) at or after this time.
    pub run_after: Option<DateTime<Utc>>,
    /// Only jobs due before this time.
    pub run_before: Option<DateTime<Utc>>,
    /// Only jobs that completed or died before this time (for purging old completed jobs).
    pub finished_before: Option<DateTime<Utc>>,
    /// Only jobs whose stored payload contains this text (case-sensitive), e.g. an argument's value.
    pub text: Option<String>,
}

impl JobFilter {
    /// Every job.
    pub fn new() -> Self {
        JobFilter::default()
    }

    /// Only jobs on `queue`.
    pub fn queue(mut self, queue: impl Into<String>) -> Self {
        self.queue = Some(queue.into());
        self
    }

    /// Only jobs in `state`.
    pub fn state(mut self, state: JobState) -> Self {
        self.state = Some(state);
        self
    }

    /// Only jobs of job class `class`.
    pub fn class(mut self, class: impl Into<String>) -> Self {
        self.class = Some(class.into());
        self
    }

    /// Only jobs stored in `[after, before)`; either end may be open.
    pub fn enqueued(mut self, after: Option<DateTime<Utc>>, before: Option<DateTime<Utc>>) -> Self {
        self.enqueued_after = after;
        self.enqueued_before = before;
        self
    }

    /// Only jobs due in `[after, before)`; either end may be open.
    pub fn run_at(mut self, after: Option<DateTime<Utc>>, before: Option<DateTime<Utc>>) -> Self {
        self.run_after = after;
        self.run_before = before;
        self
    }

    /// Only jobs that completed or died before `before`.
    pub fn finished_before(mut self, before: DateTime<Utc>) -> Self {
        self.finished_before = Some(before);
        self
    }

    /// Only jobs whose payload contains `text`.
    pub fn text(mut self, text: impl Into<String>) -> Self {
        self.text = Some(text.into());
        self
    }

    /// Whether `job` matches: the reference meaning of every field, for adapters that filter in
    /// process. A time filter never matches a job that lacks that time.
    ///
    /// ```
    /// # use jobs_core::{JobFilter, JobInfo, JobState};
    /// let job = JobInfo {
    ///     id: "1".into(), job_id: None, class: "SendInvoice".into(), queue: "default".into(), priority: 0,
    ///     state: JobState::Ready, attempts: 0, run_at: None, enqueued_at: None, started_at: None,
    ///     finished_at: None, worker_id: None, payload: r#"{"arguments":[42]}"#.into(), errors: vec![],
    /// };
    /// assert!(JobFilter::new().class("SendInvoice").text("42").matches(&job));
    /// assert!(!JobFilter::new().state(JobState::Dead).matches(&job));
    /// ```
    pub fn matches(&self, job: &JobInfo) -> bool {
        fn at_or_after(time: Option<DateTime<Utc>>, bound: Option<DateTime<Utc>>) -> bool {
            bound.is_none_or(|bound| time.is_some_and(|t| t >= bound))
        }
        fn before(time: Option<DateTime<Utc>>, bound: Option<DateTime<Utc>>) -> bool {
            bound.is_none_or(|bound| time.is_some_and(|t| t < bound))
        }
        self.queue.as_deref().is_none_or(|q| q == job.queue)
            && self.state.is_none_or(|s| s == job.state)
            && self.class.as_deref().is_none_or(|c| c == job.class)
            && at_or_after(job.enqueued_at, self.enqueued_after)
            && before(job.enqueued_at, self.enqueued_before)
            && at_or_after(job.run_at, self.run_after)
            && before(job.run_at, self.run_before)
            && before(job.finished_at, self.finished_before)
            && self.text.as_deref().is_none_or(|t| job.payload.contains(t))
    }
}

/// Which jobs [`Inspect::list`](crate::Inspect::list) returns: a filter and a page.
///
/// ```
/// # use jobs_core::{ListParams, JobFilter, JobState};
/// let params = ListParams::new().filter(JobFilter::new().state(JobState::Dead)).newest_first().limit(20);
/// assert_eq!(params.limit, 20);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListParams {
    /// Which jobs.
    pub filter: JobFilter,
    /// At most this many jobs (default 100).
    pub limit: usize,
    /// Start after this cursor: the [`JobPage::next`] of the previous page.
    pub after: Option<String>,
    /// Newest first instead of oldest first.
    pub newest_first: bool,
}

impl Default for ListParams {
    fn default() -> Self {
        ListParams { filter: JobFilter::default(), limit: 100, after: None, newest_first: false }
    }
}

impl ListParams {
    /// Every job, oldest first, first page of 100.
    pub fn new() -> Self {
        ListParams::default()
    }

    /// Only jobs matching `filter`.
    pub fn filter(mut self, filter: JobFilter) -> Self {
        self.filter = filter;
        self
    }

    /// Only jobs on `queue`.
    pub fn queue(mut self, queue: impl Into<String>) -> Self {
        self.filter.queue = Some(queue.into());
        self
    }

    /// Only jobs in `state`.
    pub fn state(mut self, state: JobState) -> Self {
        self.filter.state = Some(state);
        self
    }

    /// At most `limit` jobs.
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = limit;
        self
    }

    /// The page after the one that returned `cursor` as its [`JobPage::next`].
    pub fn after(mut self, cursor: impl Into<String>) -> Self {
        self.after = Some(cursor.into());
        self
    }

    /// Newest first.
    pub fn newest_first(mut self) -> Self {
        self.newest_first = true;
        self
    }
}

/// One page of jobs from [`Inspect::list`](crate::Inspect::list).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct JobPage {
    /// The jobs, in the order asked for.
    pub jobs: Vec<JobInfo>,
    /// The cursor of the next page ([`ListParams::after`]), or `None` when this page is the last.
    /// Opaque: each adapter chooses its form.
    pub next: Option<String>,
}

impl JobPage {
    /// The page of a listing that fetched up to `limit + 1` jobs in order, keyed by their ids: the
    /// first `limit` jobs, and the last one's id as the cursor when more followed.
    ///
    /// ```
    /// # use jobs_core::{JobInfo, JobPage, JobState};
    /// # let job = |id: &str| JobInfo {
    /// #     id: id.into(), job_id: None, class: String::new(), queue: "q".into(), priority: 0,
    /// #     state: JobState::Ready, attempts: 0, run_at: None, enqueued_at: None, started_at: None,
    /// #     finished_at: None, worker_id: None, payload: String::new(), errors: vec![],
    /// # };
    /// let page = JobPage::from_fetched(vec![job("1"), job("2"), job("3")], 2);
    /// assert_eq!((page.jobs.len(), page.next.as_deref()), (2, Some("2")));
    /// assert_eq!(JobPage::from_fetched(vec![job("1")], 2).next, None);
    /// ```
    pub fn from_fetched(mut jobs: Vec<JobInfo>, limit: usize) -> Self {
        let next = if jobs.len() > limit {
            jobs.truncate(limit);
            jobs.last().map(|job| job.id.clone())
        } else {
            None
        };
        JobPage { jobs, next }
    }
}

/// What [`Inspect::apply`](crate::Inspect::apply) does to each selected job. A job in a state the
/// action does not name is left alone; running jobs are never touched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobAction {
    /// Dead → ready at once, keeping its errors (Sidekiq's "retry now" on the dead set).
    Retry,
    /// Scheduled or retrying → ready at once (Sidekiq's "add to queue").
    RunNow,
    /// Scheduled, ready or retrying → dead, with an error of class [`JobAction::DISCARDED`]
    /// recorded, so that it can still be looked at and retried (River's cancel).
    Discard,
    /// Removed, in any state but running.
    Delete,
}

impl JobAction {
    /// The class of the error [`JobAction::Discard`] records.
    pub const DISCARDED: &'static str = "jobs::Discarded";

    /// The message of the error [`JobAction::Discard`] records.
    pub const DISCARDED_MESSAGE: &'static str = "discarded by an operator";

    /// Every action.
    pub const ALL: [JobAction; 4] = [JobAction::Retry, JobAction::RunNow, JobAction::Discard, JobAction::Delete];

    /// Whether the action changes a job in `state`.
    ///
    /// A blocked job can be discarded, or run now: it is made ready and claimed like any ready job,
    /// and blocks again if every slot of its key is still taken (a limit is never bypassed).
    ///
    /// ```
    /// # use jobs_core::{JobAction, JobState};
    /// assert!(JobAction::Retry.applies_to(JobState::Dead));
    /// assert!(!JobAction::Delete.applies_to(JobState::Running));
    /// ```
    pub fn applies_to(&self, state: JobState) -> bool {
        match self {
            JobAction::Retry => state == JobState::Dead,
            JobAction::RunNow => matches!(state, JobState::Scheduled | JobState::Retrying | JobState::Blocked),
            JobAction::Discard => {
                matches!(state, JobState::Scheduled | JobState::Ready | JobState::Retrying | JobState::Blocked)
            }
            JobAction::Delete => state != JobState::Running,
        }
    }

    /// The action's name: `retry`, `run_now`, `discard` or `delete`.
    pub fn as_str(&self) -> &'static str {
        match self {
            JobAction::Retry => "retry",
            JobAction::RunNow => "run_now",
            JobAction::Discard => "discard",
            JobAction::Delete => "delete",
        }
    }
}

/// The jobs an action applies to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// These jobs, by backend id (unknown ids are skipped).
    Ids(Vec<String>),
    /// Every job matching the filter.
    Filter(JobFilter),
}
