//! The store side of flow control: concurrency limits, unique jobs and throttles.
//!
//! Each is enforced by the store (a slot row, a unique key, a window counter) in one atomic step,
//! never by trusting that one process is alone: the runtime decides *when* to ask (at enqueue for
//! unique jobs, after a claim for limits and throttles) and the store answers for every worker at
//! once. A store that keeps these implements [`FlowStore`] and returns it from
//! [`Adapter::flow`](super::Adapter::flow).

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::adapter::{BoxFuture, NewJob, Ticket};
use super::error::Error;
use super::inspect::JobState;

/// The flow-control keys of a job, computed from its arguments when it is enqueued and carried
/// in its payload under `flow` (a key of this crate that Active Job ignores). Absent for jobs
/// without flow control.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowKeys {
    /// The concurrency key, its group included (`Charge/account-42`): at most the declared number
    /// of jobs with this key run at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<String>,
    /// The unique key (a digest of what the declaration names, or the job's own key): while a
    /// job with this key is stored in one of the declared states, an enqueue of another one is
    /// a duplicate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unique: Option<String>,
    /// The throttle key: at most the declared number of jobs with this key start per period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throttle: Option<String>,
    /// The start the throttle reserved for this job when it delayed it to a later window: the
    /// job then starts at that time without taking another start of its key.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "super::payload::time_format")]
    pub throttle_slot: Option<DateTime<Utc>>,
}

impl FlowKeys {
    /// True when no key is set (the job has no flow control).
    pub fn is_empty(&self) -> bool {
        self.concurrency.is_none() && self.unique.is_none() && self.throttle.is_none() && self.throttle_slot.is_none()
    }
}

/// What [`FlowStore::acquire_slot`] is asked: take one of `limit` slots of `key` for the job
/// running under `ticket`.
#[derive(Clone, Copy, Debug)]
pub struct SlotParams<'a> {
    /// The claim of the job that wants a slot; the slot's holder is `ticket.id`, and the slot is
    /// held under this claim (`ticket.token`): only a release with the same claim frees it.
    pub ticket: &'a Ticket,
    /// The concurrency key.
    pub key: &'a str,
    /// How many jobs of the key may hold a slot at once (at least 1).
    pub limit: u32,
    /// The longest a slot is held: a slot its holder never released (a worker that died) is
    /// freed this long after it was taken, so that nothing blocks for ever.
    pub hold: Duration,
    /// When every slot is taken: `true` blocks the job (see [`SlotOutcome::Blocked`]); `false`
    /// changes nothing and answers [`SlotOutcome::Full`] (the runtime then discards the job).
    pub block: bool,
}

/// The answer of [`FlowStore::acquire_slot`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlotOutcome {
    /// The job holds a slot of its key: taken now, or already held by this same job (a job
    /// rescued after its worker died or lost its lease keeps its slot; its hold time starts
    /// again, and the slot is now held under the new claim, so that the earlier run's release
    /// leaves it alone).
    Acquired,
    /// Every slot was taken, so the job is blocked: stored in [`JobState::Blocked`] under its
    /// key, its claim ended without counting the attempt. It becomes ready again when a slot of
    /// its key is released or expires ([`FlowStore::release_slot`], [`FlowStore::expire_slots`]).
    Blocked,
    /// Every slot was taken and blocking was not asked for: nothing changed, the job still runs
    /// under its claim.
    Full,
    /// The ticket is no longer the job's current claim: nothing changed.
    Stale,
}

/// A unique job's key and the rule that makes another enqueue with that key a duplicate, for
/// [`FlowStore::enqueue_unique`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Uniqueness {
    /// The unique key (the job's [`FlowKeys::unique`]).
    pub key: String,
    /// The job being enqueued is a duplicate while the stored job holding the key is in one of
    /// these states (the enqueued job's own list is the one compared). Once the holder has left
    /// them (completed, dead, deleted), the key is free.
    pub states: Vec<JobState>,
    /// When this job takes the key: it holds it no longer than this, whatever its state (kept
    /// with the key and compared by later enqueues); `None`: for as long as it is in one of the
    /// states they name.
    pub until: Option<DateTime<Utc>>,
}

/// What became of one job given to [`FlowStore::enqueue_unique`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UniqueOutcome {
    /// Stored, with the backend's id, as [`Adapter::enqueue_all`](super::Adapter::enqueue_all)
    /// returns it.
    Stored(Option<String>),
    /// Not stored: a job holding the same unique key is stored already. Its ids.
    Duplicate {
        /// The Active Job `job_id` of the job that holds the key.
        job_id: String,
        /// Its backend id.
        provider_job_id: Option<String>,
    },
}

/// The store side of flow control, kept by durable adapters (and the memory adapter).
///
/// Guarantees, proven for each adapter by the conformance suite with several workers, and with
/// workers killed mid-run:
/// * slots: at most `limit` holders of a key at any instant; taking, releasing and blocking are
///   atomic with respect to each other, so a job is never blocked on a key whose slots all freed
///   meanwhile (a release makes the oldest blocked job of its key ready: priority, then FIFO);
/// * a slot is fenced by the claim that holds it, as every write about a run is: a run whose
///   lease was taken away (its worker cut off, frozen or starved of heartbeats) and whose job was
///   rescued and taken again cannot free the slot the newer run holds;
/// * a blocked job keeps its payload and attempts, is listed by [`Inspect`](super::Inspect) in
///   [`JobState::Blocked`], and runs only after it is ready again and claimed;
/// * unique jobs: of several enqueues of the same key at once, on any number of processes,
///   exactly one is stored while the key is held; a job whose Active Job `job_id` is the
///   holder's own (a retry, a snooze) is not a duplicate and takes the key over;
/// * throttle counts: concurrent calls for the same key and window each get a different count.
pub trait FlowStore: Send + Sync {
    /// Takes one of the `limit` slots of `key` for the job running under `ticket`, or, when every
    /// slot is taken, blocks it (or answers [`SlotOutcome::Full`]): see [`SlotOutcome`].
    fn acquire_slot<'a>(&'a self, params: SlotParams<'a>) -> BoxFuture<'a, Result<SlotOutcome, Error>>;

    /// Frees the slot of `key` that the job of `ticket` (`ticket.id`, its backend id) holds under
    /// that claim (`ticket.token`), if it holds one, and makes the first blocked job of `key`
    /// ready (priority, then FIFO), if any. Returns whether a slot was freed. A slot the job holds
    /// under another claim (it was rescued and a later run took the slot again) is left alone:
    /// `false`. The runtime calls it when a run that took a slot ends, however it ends.
    fn release_slot<'a>(&'a self, key: &'a str, ticket: &'a Ticket) -> BoxFuture<'a, Result<bool, Error>>;

    /// Frees every slot held for longer than its hold time and makes one blocked job of its key
    /// ready for each slot freed; makes ready every blocked job of a key that has no slot taken at
    /// all. Returns how many jobs it made ready. Workers call it with their rescue of expired
    /// leases.
    fn expire_slots(&self) -> BoxFuture<'_, Result<u64, Error>>;

    /// Counts one start of `key` in the time window numbered `window` (the window's start divided
    /// by its length, since the Unix epoch) and returns the count, this start included. The count
    /// is forgotten after `ttl`. The throttle and `Limiter` build on it.
    fn count_start<'a>(&'a self, key: &'a str, window: i64, ttl: Duration) -> BoxFuture<'a, Result<u64, Error>>;

    /// Stores `jobs` as [`Adapter::enqueue_all`](super::Adapter::enqueue_all) does, except that
    /// a job with a [`Uniqueness`] (same index in `unique`) is not stored when its key is held
    /// (see [`Uniqueness`]): it is reported as [`UniqueOutcome::Duplicate`] with the holder's ids. The
    /// jobs stored take their keys. A duplicate within the batch itself is reported against the
    /// first job of the batch with the key. All or nothing, in one transaction where the store
    /// has them.
    fn enqueue_unique<'a>(
        &'a self,
        jobs: &'a [NewJob],
        unique: &'a [Option<Uniqueness>],
    ) -> BoxFuture<'a, Result<Vec<UniqueOutcome>, Error>>;
}
