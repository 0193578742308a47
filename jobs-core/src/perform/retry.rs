//! The worker's default retry policy for failures nothing else handled.

use std::fmt;
use std::time::Duration;

/// How long to wait before retry number `n` (1 for the first retry).
#[derive(Clone, Copy)]
pub enum Backoff {
    /// Sidekiq's curve: `n⁴ + 15 + rand(10) × (n + 1)` seconds, counting from 0.
    Sidekiq,
    /// The same delay every time.
    Fixed(Duration),
    /// `base × 2^(n-1)`.
    Exponential(Duration),
    /// Your own function of the retry number.
    Custom(fn(u32) -> Duration),
}

impl fmt::Debug for Backoff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Backoff::Sidekiq => f.write_str("Sidekiq"),
            Backoff::Fixed(d) => write!(f, "Fixed({d:?})"),
            Backoff::Exponential(d) => write!(f, "Exponential({d:?})"),
            Backoff::Custom(_) => f.write_str("Custom"),
        }
    }
}

impl Backoff {
    /// The delay before retry number `retry` (1-based).
    pub fn delay(&self, retry: u32) -> Duration {
        match self {
            Backoff::Sidekiq => {
                let count = u64::from(retry.saturating_sub(1));
                Duration::from_secs(count.pow(4) + 15 + fastrand::u64(0..10) * (count + 1))
            }
            Backoff::Fixed(delay) => *delay,
            Backoff::Exponential(base) => base.saturating_mul(2u32.saturating_pow(retry.saturating_sub(1))),
            Backoff::Custom(f) => f(retry),
        }
    }
}

/// What a worker does with a failure that the job itself did not handle: retry it with backoff
/// up to a number of times, then move it to the dead set.
///
/// ```
/// # use jobs_core::{RetryPolicy, Backoff};
/// # use std::time::Duration;
/// let policy = RetryPolicy::default();              // 25 retries on Sidekiq's curve
/// assert_eq!(policy.max_retries(), 25);
/// let quick = RetryPolicy::retries(3).backoff(Backoff::Fixed(Duration::from_secs(1)));
/// assert_eq!(quick.retry_in(3), Some(Duration::from_secs(1)));  // third failure: retry
/// assert_eq!(quick.retry_in(4), None);                          // fourth failure: dead
/// ```
#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    max_retries: u32,
    backoff: Backoff,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { max_retries: 25, backoff: Backoff::Sidekiq }
    }
}

impl RetryPolicy {
    /// Retry up to `max_retries` times (a job then runs at most `max_retries + 1` times).
    pub fn retries(max_retries: u32) -> Self {
        RetryPolicy { max_retries, ..RetryPolicy::default() }
    }

    /// Never retry: failures go straight to the dead set.
    pub fn none() -> Self {
        RetryPolicy::retries(0)
    }

    /// Sets the backoff.
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// How many retries are allowed.
    pub fn max_retries(&self) -> u32 {
        self.max_retries
    }

    /// The run from which a failure ends the job, for a job claimed at `claimed_attempt`: the
    /// failed run `n` goes to the dead set when `max(n, claimed_attempt) > max_retries`.
    pub(crate) fn last_run(&self, claimed_attempt: u32) -> u32 {
        if claimed_attempt > self.max_retries { 0 } else { self.max_retries.saturating_add(1) }
    }

    /// After the `failed_attempt`-th failed run: the delay before the next one, or `None` for dead.
    pub fn retry_in(&self, failed_attempt: u32) -> Option<Duration> {
        (failed_attempt <= self.max_retries).then(|| self.backoff.delay(failed_attempt))
    }
}
