//! The memory adapter's flow control: concurrency slots, blocked jobs, throttle counts and unique
//! keys, kept in the store under its one lock, so that each operation is atomic.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};

use super::store::{EntryState, Store};
use crate::contract::{JobData, JobState, NewJob, SlotOutcome, SlotParams, Ticket, UniqueOutcome, Uniqueness};

/// Throttle counts kept before old windows are swept.
const SWEEP_COUNTS_ABOVE: usize = 4_096;

/// Unique keys kept before the keys of finished jobs are swept.
const SWEEP_UNIQUES_ABOVE: usize = 4_096;

#[derive(Debug, Default)]
pub(super) struct Flow {
    /// The slots taken per concurrency key.
    slots: HashMap<String, Vec<Slot>>,
    /// The limit of each key, as its latest taker declared it.
    limits: HashMap<String, u32>,
    /// Blocked jobs per concurrency key, in (priority, id) order.
    blocked: HashMap<String, BTreeSet<(i32, u64)>>,
    /// The key each blocked job waits on.
    blocked_on: HashMap<u64, String>,
    /// Starts per (throttle key, window), with the time the count is forgotten.
    counts: HashMap<(String, i64), (u64, DateTime<Utc>)>,
    /// The holder of each unique key.
    uniques: HashMap<String, Holder>,
    /// Sweep the keys of finished jobs once `uniques` grows past this.
    sweep_uniques_at: usize,
}

#[derive(Debug)]
struct Slot {
    holder: u64,
    /// The fencing token of the holder's claim that took the slot (or took it again last).
    token: i64,
    expires_at: DateTime<Utc>,
}

#[derive(Debug)]
struct Holder {
    id: u64,
    job_id: String,
    until: Option<DateTime<Utc>>,
}

impl Store {
    pub(super) fn acquire_slot(&mut self, params: SlotParams<'_>, now: DateTime<Utc>) -> SlotOutcome {
        let Some((id, _)) = self.current(params.ticket) else { return SlotOutcome::Stale };
        let expires_at = now + chrono::Duration::from_std(params.hold).unwrap_or(chrono::Duration::MAX);
        let flow = &mut self.flow;
        flow.limits.insert(params.key.to_owned(), params.limit);
        let slots = flow.slots.entry(params.key.to_owned()).or_default();
        let token = params.ticket.token;
        if let Some(slot) = slots.iter_mut().find(|slot| slot.holder == id) {
            (slot.token, slot.expires_at) = (token, expires_at);
            return SlotOutcome::Acquired;
        }
        if slots.iter().filter(|slot| slot.expires_at > now).count() < params.limit as usize {
            slots.push(Slot { holder: id, token, expires_at });
            return SlotOutcome::Acquired;
        }
        if !params.block {
            return SlotOutcome::Full;
        }
        let entry = self.jobs.get_mut(&id).expect("a current ticket names a stored job");
        entry.block();
        let priority = entry.priority();
        self.flow.blocked.entry(params.key.to_owned()).or_default().insert((priority, id));
        self.flow.blocked_on.insert(id, params.key.to_owned());
        SlotOutcome::Blocked
    }

    /// Frees the slot of `key` held under the claim `ticket` and readies the first job blocked on
    /// it; a slot its job holds under a later claim stays.
    pub(super) fn release_slot(&mut self, key: &str, ticket: &Ticket) -> bool {
        let Ok(holder) = ticket.id.parse::<u64>() else { return false };
        let Some(slots) = self.flow.slots.get_mut(key) else { return false };
        let before = slots.len();
        slots.retain(|slot| (slot.holder, slot.token) != (holder, ticket.token));
        let freed = slots.len() < before;
        if slots.is_empty() {
            self.flow.slots.remove(key);
        }
        if freed {
            self.unblock(key, 1);
        }
        freed
    }

    /// Frees expired slots; readies as many blocked jobs of each key as it has free slots.
    pub(super) fn expire_slots(&mut self, now: DateTime<Utc>) -> u64 {
        for slots in self.flow.slots.values_mut() {
            slots.retain(|slot| slot.expires_at > now);
        }
        self.flow.slots.retain(|_, slots| !slots.is_empty());
        let keys: Vec<String> = self.flow.blocked.keys().cloned().collect();
        let mut readied = 0;
        for key in keys {
            let taken = self.flow.slots.get(&key).map_or(0, Vec::len);
            let limit = self.flow.limits.get(&key).copied().unwrap_or(1) as usize;
            readied += self.unblock(&key, limit.saturating_sub(taken));
        }
        readied
    }

    /// Makes up to `count` jobs blocked on `key` ready, first in (priority, id) order.
    fn unblock(&mut self, key: &str, count: usize) -> u64 {
        let mut readied = 0;
        for _ in 0..count {
            let Some(blocked) = self.flow.blocked.get_mut(key) else { break };
            let Some((_, id)) = blocked.pop_first() else { break };
            if blocked.is_empty() {
                self.flow.blocked.remove(key);
            }
            self.flow.blocked_on.remove(&id);
            self.make_ready(id);
            readied += 1;
        }
        readied
    }

    /// Takes a blocked job out of its key's waiting list (an operator acted on it).
    pub(super) fn detach_blocked(&mut self, id: u64) {
        let Some(key) = self.flow.blocked_on.remove(&id) else { return };
        if let Some(blocked) = self.flow.blocked.get_mut(&key) {
            blocked.retain(|(_, blocked)| *blocked != id);
            if blocked.is_empty() {
                self.flow.blocked.remove(&key);
            }
        }
    }

    pub(super) fn count_start(&mut self, key: &str, window: i64, forget_at: DateTime<Utc>, now: DateTime<Utc>) -> u64 {
        let counts = &mut self.flow.counts;
        if counts.len() > SWEEP_COUNTS_ABOVE {
            counts.retain(|_, (_, until)| *until > now);
        }
        let count = counts.entry((key.to_owned(), window)).or_insert((0, forget_at));
        if count.1 <= now {
            *count = (0, forget_at);
        }
        count.0 += 1;
        count.0
    }

    /// Stores `jobs` but the duplicates among them (see [`FlowStore::enqueue_unique`]).
    ///
    /// [`FlowStore::enqueue_unique`]: crate::contract::FlowStore::enqueue_unique
    pub(super) fn enqueue_unique(
        &mut self,
        jobs: &[NewJob],
        unique: &[Option<Uniqueness>],
        now: DateTime<Utc>,
    ) -> Vec<UniqueOutcome> {
        let mut outcomes = Vec::with_capacity(jobs.len());
        for (index, job) in jobs.iter().enumerate() {
            let data = job.data();
            let rule = unique.get(index).and_then(Option::as_ref);
            if let Some(duplicate) = rule.and_then(|rule| self.holder_of(rule, data, now)) {
                outcomes.push(duplicate);
                continue;
            }
            let id = self.insert(
                &data.queue_name,
                data.priority.unwrap_or(0),
                job.payload().to_owned(),
                data.scheduled_at,
                now,
            );
            if let Some(rule) = rule {
                let holder = Holder { id, job_id: data.job_id.clone(), until: rule.until };
                self.flow.uniques.insert(rule.key.clone(), holder);
            }
            outcomes.push(UniqueOutcome::Stored(Some(id.to_string())));
        }
        self.sweep_uniques();
        outcomes
    }

    /// Forgets the keys whose holder finished or is gone, once there are many.
    fn sweep_uniques(&mut self) {
        if self.flow.uniques.len() <= self.flow.sweep_uniques_at.max(SWEEP_UNIQUES_ABOVE) {
            return;
        }
        let jobs = &self.jobs;
        self.flow.uniques.retain(|_, holder| {
            jobs.get(&holder.id).is_some_and(|entry| !matches!(entry.state, EntryState::Dead | EntryState::Completed))
        });
        self.flow.sweep_uniques_at = self.flow.uniques.len() * 2;
    }

    /// The job that makes `data` a duplicate under `rule`, if one holds the key.
    fn holder_of(&self, rule: &Uniqueness, data: &JobData, now: DateTime<Utc>) -> Option<UniqueOutcome> {
        let holder = self.flow.uniques.get(&rule.key)?;
        if holder.job_id == data.job_id || holder.until.is_some_and(|until| until <= now) {
            return None;
        }
        let state: JobState = self.jobs.get(&holder.id)?.state_at(now);
        rule.states.contains(&state).then(|| UniqueOutcome::Duplicate {
            job_id: holder.job_id.clone(),
            provider_job_id: Some(holder.id.to_string()),
        })
    }
}
