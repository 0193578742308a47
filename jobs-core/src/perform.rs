//! Performing: decode a payload, run the job inside its callbacks, handle its error the Active
//! Job way (`rescue_from`, `retry_on`, `discard_on`), and the worker's retry policy.
//!
//! Above [`enqueue`](crate::enqueue) (a retry or `perform_now` builds a payload as an enqueue
//! does), the runtime handle, the encoding and the contract. One pipeline for every path
//! (worker, test adapter, inline adapter, `perform_now`), so a job behaves the same wherever it
//! runs.

mod callbacks;
mod control;
pub(crate) mod execution;
pub(crate) mod limiter;
mod now;
mod registration;
pub(crate) mod requeue;
mod rescue;
mod resume;
pub(crate) mod retry;

pub use limiter::Limiter;
pub use retry::{Backoff, RetryPolicy};
