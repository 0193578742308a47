//! Starts counted in fixed windows shared through the store: the throttle of a job class and
//! [`Limiter`], a rate limit a job (or any code with a runtime) takes before calling an external
//! API.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::contract::{Error, FlowStore};
use crate::enqueue::unique::flow_store;
use crate::runtime::Runtime;

/// How many windows ahead a reservation looks before it gives up: a backlog that needs more is
/// an error rather than an endless probe.
const MAX_WINDOWS_AHEAD: i64 = 100_000;

/// Per key, the first window this process does not know to be full, so that a backlog of jobs
/// of one key does not probe every full window from the current one each time.
fn hints() -> &'static Mutex<HashMap<String, i64>> {
    static HINTS: OnceLock<Mutex<HashMap<String, i64>>> = OnceLock::new();
    HINTS.get_or_init(Mutex::default)
}

/// Reserves one start of `key` (at most `limit` per `period`): counts it in the first window
/// from `now` on whose count stays within `limit`, and returns when that window starts (`now`
/// itself for the current window). Every process counting through the same store shares the
/// windows, so the limit holds across all of them.
pub(crate) async fn reserve_start(
    flow: &dyn FlowStore,
    key: &str,
    limit: u32,
    period: Duration,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, Error> {
    let length = i64::try_from(period.as_millis()).unwrap_or(i64::MAX).max(1);
    let now_ms = now.timestamp_millis();
    let current = now_ms.div_euclid(length);
    // Hints are per store: two adapters in one process count apart.
    let hint_key = format!("{:p}/{key}", flow as *const dyn FlowStore as *const ());
    let hinted = hints().lock().unwrap_or_else(|e| e.into_inner()).get(&hint_key).copied().unwrap_or(current);
    let mut window = hinted.max(current);
    loop {
        if window - current > MAX_WINDOWS_AHEAD {
            return Err(Error::Config(format!(
                "no free start of `{key}` within {MAX_WINDOWS_AHEAD} windows of {period:?}: {limit} per window is too few"
            )));
        }
        // Remembered until a window after this one has ended.
        let ttl_ms = (window + 2).saturating_mul(length).saturating_sub(now_ms);
        let ttl = Duration::from_millis(u64::try_from(ttl_ms).unwrap_or(u64::MAX));
        let count = flow.count_start(key, window, ttl).await?;
        if count <= u64::from(limit) {
            let next_free = if count == u64::from(limit) { window + 1 } else { window };
            remember(&hint_key, current, next_free);
            if window == current {
                return Ok(now);
            }
            return Ok(DateTime::from_timestamp_millis(window.saturating_mul(length)).unwrap_or(now));
        }
        window += 1;
    }
}

/// Notes that windows of `key` before `next_free` are full; forgets hints of windows past.
fn remember(key: &str, current: i64, next_free: i64) {
    let mut hints = hints().lock().unwrap_or_else(|e| e.into_inner());
    if hints.len() > 4096 {
        hints.retain(|_, window| *window > current);
    }
    match hints.get_mut(key) {
        Some(hint) => *hint = (*hint).max(next_free),
        None if next_free > current => {
            hints.insert(key.to_owned(), next_free);
        }
        None => {}
    }
}

/// A rate limit shared by every worker through the store: at most `limit` acquisitions per
/// `period` for one name, counted in fixed windows (Sidekiq Enterprise's window limiter). For
/// calls to an external API from inside jobs:
///
/// ```no_run
/// use std::time::Duration;
/// use jobs_core::Limiter;
///
/// # async fn charge() -> Result<(), jobs_core::Error> {
/// // In a job: waits until one of Stripe's 100 calls per second is free, across all workers.
/// Limiter::window("stripe", 100, Duration::from_secs(1)).acquire().await?;
/// // ... call Stripe ...
/// # Ok(()) }
/// ```
///
/// It finds the store the way [`snooze`](crate::snooze) finds the running job: through the
/// current runtime (the worker's, inside a job; the installed one elsewhere), or the one given
/// with [`Limiter::on`]. The adapter must keep flow control
/// ([`FlowStore`](crate::adapter::FlowStore)): otherwise [`Error::NotSupported`].
#[derive(Clone, Debug)]
pub struct Limiter {
    key: String,
    limit: u32,
    period: Duration,
    runtime: Option<Runtime>,
}

impl Limiter {
    /// At most `limit` acquisitions of `name` per `period` (a window of that length).
    pub fn window(name: impl Into<String>, limit: u32, period: Duration) -> Self {
        Limiter { key: format!("limiter:{}", name.into()), limit, period, runtime: None }
    }

    /// Counts through `runtime`'s adapter rather than the current runtime's.
    pub fn on(mut self, runtime: &Runtime) -> Self {
        self.runtime = Some(runtime.clone());
        self
    }

    /// Waits until a start is free in the shared windows, and takes it. A wait ends early if the
    /// task is cancelled (the start stays counted).
    pub async fn acquire(&self) -> Result<(), Error> {
        if self.limit == 0 || self.period.is_zero() {
            return Err(Error::Config("a limiter needs a limit and a period of more than zero".into()));
        }
        let runtime = match &self.runtime {
            Some(runtime) => runtime.clone(),
            None => Runtime::current()?,
        };
        let flow = flow_store(runtime.adapter().as_ref(), "limiters")?;
        let now = runtime.now();
        let start = reserve_start(flow, &self.key, self.limit, self.period, now).await?;
        if let Ok(wait) = (start - now).to_std()
            && !wait.is_zero()
        {
            tokio::time::sleep(wait).await;
        }
        Ok(())
    }
}
