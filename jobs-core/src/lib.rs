//! The runtime of [`jobs`](https://docs.rs/jobs): Active Job for Rust.
//!
//! Applications depend on the `jobs` facade crate, which re-exports this one together with the
//! `#[job]` attribute. This crate holds the contract types ([`Job`], [`JobData`], [`Adapter`],
//! [`Backend`], [`Inspect`], [`Error`]), the runtime that enqueues and performs jobs, the
//! [`Worker`], the in-process adapters ([`adapters`]) and, behind the `conformance` feature, the
//! suite of cases every adapter must pass (`conformance`, `conformance_suite!`).

mod adapter;
pub mod adapters;
mod arguments;
mod clock;
#[cfg(feature = "conformance")]
pub mod conformance;
mod context;
mod enqueue;
mod error;
mod execution;
mod inspect;
mod instrument;
mod job;
mod payload;
mod registry;
mod retry;
mod runtime;
mod state;
mod worker;

pub use adapter::{Adapter, Backend, BoxFuture, Capabilities, ClaimParams, ClaimedJob, ErrorRecord, Failure, Ticket};
pub use arguments::{ArgumentsReader, JobArgument, to_argument};
pub use clock::{Clock, ManualClock, SystemClock};
pub use context::JobContext;
pub use enqueue::{ConfiguredJob, EnqueueOptions, Enqueued, MAX_ARGUMENTS, PendingJob, perform_all_later};
pub use error::{BoxError, Error, JobError};
pub use inspect::{Counts, Inspect, JobInfo, JobState, ListParams};
pub use job::{FromArgs, Job, JobResult};
pub use payload::{JobData, format_time, parse_time};
pub use registry::{JobRegistration, Registry};
pub use retry::{Backoff, RetryPolicy};
pub use runtime::{Runtime, RuntimeBuilder};
pub use state::State;
pub use worker::{Worker, WorkerBuilder, WorkerHandle, shutdown_signal};

/// Not public API: paths used by the code `#[job]` generates.
#[doc(hidden)]
pub mod __private {
    pub use inventory;
    pub use serde_json::Value;

    pub use crate::arguments::{ArgumentsReader, JobArgument, to_argument};
    pub use crate::registry::JobRegistration;

    /// Checks, at the argument's span, that its type can be a job argument.
    pub const fn assert_argument<T: JobArgument>() {}
}
