//! Flow control in the schema ([`FlowStore`]): concurrency slots and throttle counts here, unique
//! enqueues in [`crate::unique`].
//!
//! Taking, releasing and expiring slots are each one call of a function of the schema
//! (migrations 5 and 6), one round trip: the function takes the key's advisory lock first, so the
//! decision and the block it leads to are atomic with respect to every release of the key. A slot
//! is held under the claim (fencing token) that took it, and released only under that claim.

use std::time::Duration;

use jobs_core::adapter::{FlowStore, NewJob, SlotOutcome, SlotParams, Ticket, UniqueOutcome, Uniqueness};
use jobs_core::adapter::{duration_to_micros, forward};
use jobs_core::{BoxFuture, Error};

use crate::adapter::PostgresAdapter;
use crate::error::PostgresError;

impl PostgresAdapter {
    async fn acquire(&self, params: SlotParams<'_>) -> Result<SlotOutcome, Error> {
        if params.limit == 0 {
            return Err(Error::Config(format!(
                "the concurrency limit of key `{}` is 0: a limit allows at least 1 job at a time",
                params.key
            )));
        }
        let Ok(id) = params.ticket.id.parse::<i64>() else { return Ok(SlotOutcome::Stale) };
        let limit = i32::try_from(params.limit).unwrap_or(i32::MAX);
        let sql = &self.inner().sql.acquire_slot;
        let outcome: String = self
            .retrying("acquire_slot", || {
                sqlx::query_scalar(sql.get())
                    .bind(id)
                    .bind(params.ticket.token)
                    .bind(params.key)
                    .bind(limit)
                    .bind(duration_to_micros(params.hold))
                    .bind(params.block)
                    .fetch_one(self.pool())
            })
            .await?;
        Ok(match outcome.as_str() {
            "acquired" => SlotOutcome::Acquired,
            "blocked" => SlotOutcome::Blocked,
            "full" => SlotOutcome::Full,
            "stale" => SlotOutcome::Stale,
            other => return Err(PostgresError::Malformed(format!("slot outcome `{other}`")).into()),
        })
    }

    async fn release(&self, key: &str, ticket: &Ticket) -> Result<bool, PostgresError> {
        let Ok(holder) = ticket.id.parse::<i64>() else { return Ok(false) };
        let sql = &self.inner().sql.release_slot;
        self.retrying("release_slot", || {
            sqlx::query_scalar(sql.get())
                .bind(key)
                .bind(holder)
                .bind(ticket.token)
                .bind(&self.inner().channel)
                .fetch_one(self.pool())
        })
        .await
    }

    async fn expire(&self) -> Result<u64, PostgresError> {
        let sql = &self.inner().sql.expire_slots;
        let made: i64 = self
            .retrying("expire_slots", || {
                sqlx::query_scalar(sql.get()).bind(&self.inner().channel).fetch_one(self.pool())
            })
            .await?;
        Ok(u64::try_from(made).unwrap_or(0))
    }

    async fn count(&self, key: &str, window: i64, ttl: Duration) -> Result<u64, PostgresError> {
        let sql = &self.inner().sql.count_start;
        let n: i64 = self
            .retrying("count_start", || {
                sqlx::query_scalar(sql.get())
                    .bind(key)
                    .bind(window)
                    .bind(duration_to_micros(ttl))
                    .fetch_one(self.pool())
            })
            .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

impl FlowStore for PostgresAdapter {
    fn acquire_slot<'a>(&'a self, params: SlotParams<'a>) -> BoxFuture<'a, Result<SlotOutcome, Error>> {
        forward(self.acquire(params))
    }

    fn release_slot<'a>(&'a self, key: &'a str, ticket: &'a Ticket) -> BoxFuture<'a, Result<bool, Error>> {
        forward(self.release(key, ticket))
    }

    fn expire_slots(&self) -> BoxFuture<'_, Result<u64, Error>> {
        forward(self.expire())
    }

    fn count_start<'a>(&'a self, key: &'a str, window: i64, ttl: Duration) -> BoxFuture<'a, Result<u64, Error>> {
        forward(self.count(key, window, ttl))
    }

    fn enqueue_unique<'a>(
        &'a self,
        jobs: &'a [NewJob],
        unique: &'a [Option<Uniqueness>],
    ) -> BoxFuture<'a, Result<Vec<UniqueOutcome>, Error>> {
        forward(self.store_unique(jobs, unique))
    }
}
