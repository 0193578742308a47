//! [`FlowStore`]: concurrency slots (`slots.rs`), unique keys (`unique.rs`) and throttle counts.

use std::time::Duration;

use jobs_core::adapter::{
    FlowStore, NewJob, SlotOutcome, SlotParams, Ticket, UniqueOutcome, Uniqueness, duration_to_micros, forward,
    time_to_micros,
};
use jobs_core::{BoxFuture, Error};

use crate::adapter::SqliteAdapter;
use crate::error::SqliteError;

/// Counts one start of key `?1` in window `?2`, to be forgotten after `?3`; returns the count.
/// One statement, so one atomic step whatever other connections do.
const COUNT_START: &str = "
    INSERT INTO jobs_flow_counts (key, window_number, n, expires_at) VALUES (?1, ?2, 1, ?3)
    ON CONFLICT (key, window_number) DO UPDATE SET n = n + 1
    RETURNING n";

impl SqliteAdapter {
    async fn count(&self, key: &str, window: i64, ttl: Duration) -> Result<u64, SqliteError> {
        let expires_at = time_to_micros(self.now()).saturating_add(duration_to_micros(ttl));
        let query = sqlx::query_scalar::<_, i64>(COUNT_START).bind(key).bind(window).bind(expires_at);
        let n = query.fetch_one(self.pool()).await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

impl FlowStore for SqliteAdapter {
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
        Box::pin(self.enqueue_unique_jobs(jobs, unique))
    }
}
