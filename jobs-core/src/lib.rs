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
mod callbacks;
mod clock;
#[cfg(feature = "conformance")]
pub mod conformance;
mod context;
mod declarations;
mod enqueue;
mod error;
mod events;
mod execution;
mod global_id;
mod inspect;
mod instrument;
mod job;
mod limits;
pub mod migrations;
mod payload;
mod registry;
mod rescue;
mod retry;
mod runtime;
mod state;
mod worker;

pub use adapter::{Adapter, Backend, BoxFuture, Capabilities, ClaimParams, ClaimedJob, ErrorRecord, Failure, Ticket};
pub use arguments::{
    ArgumentsReader, CustomSerializer, JobArgument, Keywords, RichArgument, serializers, to_argument, to_rich_argument,
};
pub use callbacks::Middleware;
pub use clock::{Clock, ManualClock, SystemClock};
pub use context::JobContext;
pub use declarations::{
    AroundEnqueueFn, AroundPerformFn, CallbackResult, Declarations, EnqueueCallbackFn, ErrorHandler, ErrorHandlerFn,
    Halt, Matcher, NextEnqueue, NextPerform, PerformCallbackFn, RetryOn, Wait,
};
pub use enqueue::{ConfiguredJob, EnqueueOptions, EnqueueSink, Enqueued, MAX_ARGUMENTS, PendingJob, perform_all_later};
pub use error::{BoxError, DeserializationError, Error, JobError, PanicError, TimeoutError};
pub use events::{Event, EventKind, Outcome, Subscriber};
pub use global_id::{Global, GlobalId};
pub use inspect::{Counts, Inspect, JobInfo, JobState, ListParams};
pub use job::{FromArgs, Job, JobResult};
pub use limits::{DEFAULT_MAX_PAYLOAD_SIZE, MAX_ARGUMENT_DEPTH};
pub use payload::{JobData, due_micros, format_time, parse_time};
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

    pub use crate::adapter::BoxFuture;

    pub use crate::arguments::{
        ArgumentsReader, Codec, JobArgument, Locate, Locator, ViaLocate, ViaNoLocate, ViaRecord, ViaRich, ViaSerde,
        to_argument,
    };
    pub use crate::context::JobContext;
    pub use crate::declarations::{
        AroundEnqueueFn, AroundPerformFn, CallbackResult, Declarations, EnqueueCallbackFn, ErrorHandler,
        ErrorHandlerFn, Halt, Matcher, NextEnqueue, NextPerform, PerformCallbackFn, RetryOn, Wait,
    };
    pub use crate::enqueue::{ConfiguredJob, Enqueued};
    pub use crate::error::{Error, JobError};
    pub use crate::job::{FromArgs, Job, JobResult};
    pub use crate::payload::JobData;
    pub use crate::registry::JobRegistration;
}
