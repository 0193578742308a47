//! Flow control ([`FlowStore`]) on Redis: one Lua script call per operation (`slot_acquire.lua`,
//! `slot_release.lua`, `slot_expire.lua`, `count_start.lua`, `enqueue_unique.lua`, sharing
//! `flow.lua`). The keys, and what each operation costs, are in the [crate docs](crate#flow-control).

use std::time::Duration;

use chrono::Utc;
use jobs_core::adapter::{FlowStore, NewJob, SlotOutcome, SlotParams, Ticket, UniqueOutcome, Uniqueness, forward};
use jobs_core::{BoxFuture, Error};

use crate::adapter::{RedisAdapter, push_new};
use crate::envelope;
use crate::error::RedisError;
use crate::scripts;

/// How many keys one call of `slot_expire.lua` visits at most, of those with expired slots and
/// of those with blocked jobs each.
const EXPIRE_VISIT: usize = 1000;

impl RedisAdapter {
    async fn acquire(&self, params: SlotParams<'_>) -> Result<SlotOutcome, Error> {
        if params.limit == 0 {
            return Err(Error::Config(format!("concurrency key `{}`: a limit of 0 slots lets no job run", params.key)));
        }
        let mut call = self.invocation(&scripts::SLOT_ACQUIRE);
        call.arg(params.ticket.token)
            .arg(&params.ticket.id)
            .arg(params.key)
            .arg(params.limit)
            .arg(params.hold.as_secs_f64())
            .arg(if params.block { "1" } else { "0" });
        let outcome: String = self.run(&call).await?;
        match outcome.as_str() {
            "acquired" => Ok(SlotOutcome::Acquired),
            "blocked" => Ok(SlotOutcome::Blocked),
            "full" => Ok(SlotOutcome::Full),
            "stale" => Ok(SlotOutcome::Stale),
            other => Err(RedisError::Malformed(format!("a slot outcome `{other}`")).into()),
        }
    }

    async fn release(&self, key: &str, ticket: &Ticket) -> Result<bool, RedisError> {
        let mut call = self.invocation(&scripts::SLOT_RELEASE);
        call.arg(key).arg(&ticket.id).arg(ticket.token);
        Ok(self.run::<i64>(&call).await? == 1)
    }

    async fn expire(&self) -> Result<u64, RedisError> {
        let mut call = self.invocation(&scripts::SLOT_EXPIRE);
        call.arg(EXPIRE_VISIT);
        self.run(&call).await
    }

    async fn count(&self, key: &str, window: i64, ttl: Duration) -> Result<u64, RedisError> {
        let mut call = self.invocation(&scripts::COUNT_START);
        call.arg(key).arg(window).arg(ttl.as_millis().max(1) as u64);
        self.run(&call).await
    }

    async fn enqueue_uniques(
        &self,
        jobs: &[NewJob],
        unique: &[Option<Uniqueness>],
    ) -> Result<Vec<UniqueOutcome>, Error> {
        if unique.len() > jobs.len() {
            return Err(Error::Config(format!(
                "enqueue_unique: {} uniqueness rules for {} jobs (one per job at most, None for a job without)",
                unique.len(),
                jobs.len()
            )));
        }
        if jobs.is_empty() {
            return Ok(Vec::new());
        }
        let now = envelope::seconds(Utc::now());
        let mut call = self.invocation(&scripts::ENQUEUE_UNIQUE);
        let mut jids = Vec::with_capacity(jobs.len());
        for (index, new) in jobs.iter().enumerate() {
            let rule = unique.get(index).and_then(Option::as_ref);
            let jid = push_new(&mut call, new, now);
            let data = new.data();
            let concurrency = data.flow.as_ref().and_then(|flow| flow.concurrency.as_deref()).unwrap_or_default();
            call.arg(&jid).arg(&data.job_id);
            match rule {
                Some(rule) => {
                    if rule.key.is_empty() {
                        return Err(Error::Config(format!("job {}: an empty unique key", data.job_id)));
                    }
                    let states: Vec<&str> = rule.states.iter().map(|state| state.as_str()).collect();
                    let until = rule.until.map(|until| format!("{:.6}", envelope::seconds(until))).unwrap_or_default();
                    call.arg(&rule.key).arg(states.join(",")).arg(until).arg(concurrency);
                }
                None => {
                    call.arg("").arg("").arg("").arg(concurrency);
                }
            }
            jids.push(jid);
        }
        let reply: Vec<String> = self.run(&call).await?;
        if reply.len() != 2 * jobs.len() {
            return Err(
                RedisError::Malformed(format!("{} values for {} unique enqueues", reply.len(), jobs.len())).into()
            );
        }
        Ok(reply
            .chunks(2)
            .zip(jids)
            .map(|(holder, jid)| match holder {
                [id, job_id] if !id.is_empty() => {
                    UniqueOutcome::Duplicate { job_id: job_id.clone(), provider_job_id: Some(id.clone()) }
                }
                _ => UniqueOutcome::Stored(Some(jid)),
            })
            .collect())
    }
}

impl FlowStore for RedisAdapter {
    /// One script call: see the [crate docs](crate#flow-control) for the keys.
    fn acquire_slot<'a>(&'a self, params: SlotParams<'a>) -> BoxFuture<'a, Result<SlotOutcome, Error>> {
        Box::pin(self.acquire(params))
    }

    /// One script call.
    fn release_slot<'a>(&'a self, key: &'a str, ticket: &'a Ticket) -> BoxFuture<'a, Result<bool, Error>> {
        forward(self.release(key, ticket))
    }

    /// One script call, visiting the keys whose earliest slot expired and those with blocked
    /// jobs (a thousand of each at most, so that the call stays short; the next call visits the
    /// rest): each key's blocked jobs are made ready up to its free slots.
    fn expire_slots(&self) -> BoxFuture<'_, Result<u64, Error>> {
        forward(self.expire())
    }

    /// One script call (INCR, and PEXPIRE on the first start of the window).
    fn count_start<'a>(&'a self, key: &'a str, window: i64, ttl: Duration) -> BoxFuture<'a, Result<u64, Error>> {
        forward(self.count(key, window, ttl))
    }

    /// One script call for the whole batch, atomic: every check, then every write.
    fn enqueue_unique<'a>(
        &'a self,
        jobs: &'a [NewJob],
        unique: &'a [Option<Uniqueness>],
    ) -> BoxFuture<'a, Result<Vec<UniqueOutcome>, Error>> {
        Box::pin(self.enqueue_uniques(jobs, unique))
    }
}
