//! What a job class declares about flow control: a concurrency limit, a uniqueness rule and a
//! throttle. `#[job(limits_concurrency(..), unique(..), throttle(..))]` builds them; a job
//! implemented by hand sets [`Job::FLOW`](crate::Job::FLOW) and, for keys computed from its
//! arguments, [`Job::flow_key`](crate::Job::flow_key).
//!
//! The store enforces them (see [`FlowStore`](super::FlowStore)); the runtime computes each
//! job's keys when it is enqueued ([`FlowKeys`](super::FlowKeys)).

use std::time::Duration;

use super::inspect::JobState;

/// A job class's flow control: any of a concurrency limit, a uniqueness rule and a throttle.
///
/// ```
/// use std::time::Duration;
/// use jobs_core::{ConcurrencyLimit, FlowControl, Throttle};
///
/// const FLOW: FlowControl = FlowControl {
///     concurrency: Some(ConcurrencyLimit::to(2).group("billing")),
///     unique: None,
///     throttle: Some(Throttle::new(10, Duration::from_secs(1))),
/// };
/// assert!(!FLOW.is_empty());
/// assert!(FlowControl::NONE.is_empty());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FlowControl {
    /// At most this many jobs of the class (or of its key) run at once.
    pub concurrency: Option<ConcurrencyLimit>,
    /// An enqueue of a job equal to one stored already is a duplicate.
    pub unique: Option<UniqueJob>,
    /// At most this many jobs of the class (or of its key) start per period.
    pub throttle: Option<Throttle>,
}

impl FlowControl {
    /// No flow control: what jobs declare unless told otherwise.
    pub const NONE: FlowControl = FlowControl { concurrency: None, unique: None, throttle: None };

    /// Whether nothing is declared.
    pub const fn is_empty(&self) -> bool {
        self.concurrency.is_none() && self.unique.is_none() && self.throttle.is_none()
    }
}

/// Which of a job's flow-control keys [`Job::flow_key`](crate::Job::flow_key) is asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FlowKey {
    /// The key of the concurrency limit (`limits_concurrency(key = ..)`).
    Concurrency,
    /// The job's own unique key (`unique(key = ..)`), in place of a digest of its arguments.
    Unique,
    /// The key of the throttle (`throttle(key = ..)`).
    Throttle,
}

/// What a job does when every slot of its concurrency key is taken.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OnConflict {
    /// Waits in [`JobState::Blocked`] until a slot frees, then runs (Solid Queue's default).
    #[default]
    Block,
    /// Is discarded: it never runs, as with `discard_on` (its `after_discard` callbacks do not
    /// run: the job never started).
    Discard,
}

/// A concurrency limit, Solid Queue's `limits_concurrency`: at most [`to`](Self::to) jobs with
/// the same key run at once, across every worker.
///
/// The key is the [`group`](Self::group) (or the job's class) followed by the job's own key
/// ([`Job::flow_key`](crate::Job::flow_key) with [`FlowKey::Concurrency`]), if it has one:
/// `billing/account-42`. A slot whose holder never released it (a worker that died) frees after
/// [`duration`](Self::duration).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConcurrencyLimit {
    /// How many jobs of a key may run at once (at least 1).
    pub to: u32,
    /// The longest a slot is held: after this, a slot its worker never released frees (3 minutes
    /// by default, as in Solid Queue). Longer than the job's longest run.
    pub duration: Duration,
    /// What a job does when every slot is taken.
    pub on_conflict: OnConflict,
    /// Shares one limit between job classes: jobs of every class with the same group (and key)
    /// count against the same slots. `None`: the job's class.
    pub group: Option<&'static str>,
}

impl ConcurrencyLimit {
    /// Solid Queue's default hold time: 3 minutes.
    pub const DEFAULT_DURATION: Duration = Duration::from_secs(180);

    /// A limit of `to` jobs at once, blocking, held at most [`DEFAULT_DURATION`](Self::DEFAULT_DURATION).
    pub const fn to(to: u32) -> Self {
        ConcurrencyLimit { to, duration: Self::DEFAULT_DURATION, on_conflict: OnConflict::Block, group: None }
    }

    /// With another hold time.
    pub const fn duration(self, duration: Duration) -> Self {
        ConcurrencyLimit { duration, ..self }
    }

    /// With another conflict behaviour.
    pub const fn on_conflict(self, on_conflict: OnConflict) -> Self {
        ConcurrencyLimit { on_conflict, ..self }
    }

    /// Shared with every class of `group`.
    pub const fn group(self, group: &'static str) -> Self {
        ConcurrencyLimit { group: Some(group), ..self }
    }
}

/// What a unique job's key is computed from, when the job has no key of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UniqueBy {
    /// The encoded arguments.
    pub args: bool,
    /// The queue the job goes to.
    pub queue: bool,
    /// The job's class.
    pub class: bool,
}

impl UniqueBy {
    /// Arguments, queue and class: the default.
    pub const ALL: UniqueBy = UniqueBy { args: true, queue: true, class: true };
}

impl Default for UniqueBy {
    fn default() -> Self {
        UniqueBy::ALL
    }
}

/// A uniqueness rule (River's unique options, Sidekiq Enterprise's `unique_for`): while a job
/// with the same key is stored in one of [`states`](Self::states), an enqueue of another one is a
/// duplicate, which returns the stored job's handle marked as such, not an error.
///
/// The key is a digest of what [`by`](Self::by) names, or the job's own key
/// ([`Job::flow_key`](crate::Job::flow_key) with [`FlowKey::Unique`]) when it gives one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UniqueJob {
    /// What the key is computed from.
    pub by: UniqueBy,
    /// The key is held at most this long after the enqueue, whatever the holder's state; `None`:
    /// for as long as the holder is in one of `states`.
    pub period: Option<Duration>,
    /// The states in which the stored job holds the key.
    pub states: &'static [JobState],
}

impl UniqueJob {
    /// Every state a job waits or runs in: scheduled, ready, blocked, running, retrying.
    pub const ALL_STATES: &'static [JobState] =
        &[JobState::Scheduled, JobState::Ready, JobState::Blocked, JobState::Running, JobState::Retrying];

    /// Unique by arguments, queue and class, in every state a job waits or runs in, with no time limit.
    pub const DEFAULT: UniqueJob = UniqueJob { by: UniqueBy::ALL, period: None, states: Self::ALL_STATES };

    /// With what the key is computed from.
    pub const fn by(self, by: UniqueBy) -> Self {
        UniqueJob { by, ..self }
    }

    /// Holding the key at most `period` after the enqueue.
    pub const fn period(self, period: Duration) -> Self {
        UniqueJob { period: Some(period), ..self }
    }

    /// Holding the key only in `states`.
    pub const fn states(self, states: &'static [JobState]) -> Self {
        UniqueJob { states, ..self }
    }
}

impl Default for UniqueJob {
    fn default() -> Self {
        UniqueJob::DEFAULT
    }
}

/// A throttle (GoodJob's `perform_throttle`, Sidekiq Enterprise's window limiter): at most
/// [`limit`](Self::limit) jobs with the same key start per [`period`](Self::period), counted in
/// fixed windows shared by every worker. A job over the limit is delayed to the next window with
/// a free start: not failed, and not counted as an attempt.
///
/// The key is the job's class followed by its own key ([`Job::flow_key`](crate::Job::flow_key)
/// with [`FlowKey::Throttle`]), if it has one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Throttle {
    /// Starts per period (at least 1).
    pub limit: u32,
    /// The length of a window (at least a millisecond).
    pub period: Duration,
}

impl Throttle {
    /// At most `limit` starts per `period`.
    pub const fn new(limit: u32, period: Duration) -> Self {
        Throttle { limit, period }
    }
}
