//! The runtime of [`jobs`](https://docs.rs/jobs): Active Job for Rust.
//!
//! Applications depend on the `jobs` facade crate, which re-exports this one together with the
//! `#[job]` attribute. The crate is built in layers, each a folder that imports only the ones
//! before it:
//!
//! | layer | holds |
//! |---|---|
//! | `contract` | the leaf: [`Job`], [`JobData`], the adapter traits, errors, clock, declarations, [`JobContext`] |
//! | `encoding` | arguments in Active Job's encodings, GlobalID, payload limits |
//! | `runtime` | the [`Runtime`] handle, the [`Registry`], instrumentation |
//! | `enqueue` | `perform_later`, `set()`, bulk enqueue: each job encoded once, one call to the store |
//! | `perform` | execution, callbacks, `rescue_from` / `retry_on` / `discard_on`, the retry policy |
//! | `worker` | the [`Worker`]: claim loop, heartbeats, shutdown |
//! | `adapters` | the in-process adapters: inline, memory, test |
//!
//! and on top, `builder.rs`, which assembles a [`Runtime`] from them. The root and the prelude
//! of the facade hold what an application uses; [`adapter`] what an adapter author needs;
//! [`encoding`] what hand-written jobs and custom argument types need. The cases every adapter
//! must pass live in the `jobs-conformance` crate, written against this crate's public API.

#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod adapters;
mod builder;
mod contract;
pub mod encoding;
mod enqueue;
mod perform;
mod runtime;
mod support;
mod worker;

pub use builder::RuntimeBuilder;
pub use contract::{
    AdapterError, BoxError, BoxFuture, Cancel, Clock, ConcurrencyLimit, Continuable, Continuation, Counts, CurrentStep,
    DeserializationError, Error, Event, EventKind, FlowControl, FlowKey, FlowKeys, HISTORY_RETENTION, Halt,
    HistoryPoint, Inspect, Job, JobAction, JobContext, JobData, JobError, JobFilter, JobInfo, JobPage, JobResult,
    JobState, ListParams, ManualClock, Middleware, MissedTicks, NextEnqueue, NextPerform, OnConflict, Outcome,
    PanicError, ProcessCommand, ProcessInfo, ProcessState, QueueStats, RecurringRun, RecurringTask, RecurringTaskState,
    Snooze, State, Subscriber, SystemClock, Target, Throttle, TimeoutError, UniqueBy, UniqueJob, cancel, snooze,
};
pub use encoding::{CustomSerializer, Global, GlobalId, Keywords};
pub use enqueue::{ConfiguredJob, Enqueued, PendingJob, perform_all_later};
pub use perform::{Backoff, Limiter, RetryPolicy};
pub use runtime::{JobRegistration, Registry, Runtime, Step, StepOptions};
pub use worker::{
    Recurring, RecurringTaskInfo, RecurringTasks, Schedule, Scheduler, Worker, WorkerBuilder, WorkerHandle,
    parse_recurring, read_recurring_file, shutdown_signal,
};

/// For adapter authors: the traits a queuing backend implements and the types they exchange with
/// the runtime. The conformance suite (`jobs-conformance`) proves an implementation.
pub mod adapter {
    pub use crate::contract::{
        Adapter, Backend, BoxFuture, Capabilities, ClaimParams, ClaimedJob, Counts, ErrorRecord, Failure, FlowKeys,
        FlowStore, HISTORY_RETENTION, HistoryPoint, Inspect, JobAction, JobFilter, JobInfo, JobPage, JobState,
        ListParams, NewJob, ProcessCommand, ProcessInfo, ProcessState, QueueStats, RecurringStore, RecurringTask,
        RecurringTaskState, Requeued, SlotOutcome, SlotParams, TICK_RETENTION, Target, TickOutcome, Ticket,
        UniqueOutcome, Uniqueness, format_time, parse_time,
    };
    pub use crate::enqueue::{EnqueueSink, TransactionalEnqueue};
    pub use crate::support::migrations;
    pub use crate::support::{
        KeyHolder, UniquePlan, due_micros, duration_to_micros, forward, hostname, micros_to_time, redact,
        time_to_micros,
    };
}

/// Observability: the trace propagation seam ([`TracePropagator`](telemetry::TracePropagator),
/// installed with [`RuntimeBuilder::trace_propagator`]), and the names and units of every metric
/// and attribute jobs records, after OpenTelemetry's messaging conventions.
pub mod telemetry {
    pub use crate::contract::{TRACE_HEADERS_KEY, TraceHeaders, TracePropagator};
    pub use crate::runtime::instrument::names::{
        CLASS, DEAD, DESTINATION, DISCARDED, FAILED, MESSAGE_ID, OLDEST_READY_AGE, OPERATION_NAME, OPERATION_TYPE,
        OUTCOME, PROCESS_DURATION, PROCESSED, QUEUE_LATENCY, QUEUE_SIZE, RESUMED, RETRIED, SENT_MESSAGES, STATE,
        SYSTEM, WORKER_BUSY, WORKER_CONCURRENCY, describe_metrics,
    };
}

/// Not public API: paths used by the code `#[job]` generates.
#[doc(hidden)]
pub mod __private {
    pub use inventory;
    pub use serde_json::Value;

    pub use crate::contract::{
        AroundEnqueueFn, AroundPerformFn, BoxFuture, CallbackResult, Continuable, Declarations, EncodeContext,
        EnqueueCallbackFn, Error, ErrorHandler, ErrorHandlerFn, FromArgs, Halt, Job, JobContext, JobData, JobError,
        JobResult, Matcher, NextEnqueue, NextPerform, PerformCallbackFn, RetryOn, State, Wait,
    };
    pub use crate::contract::{
        ConcurrencyLimit, FlowControl, FlowKey, JobState, OnConflict, Throttle, UniqueBy, UniqueJob,
    };
    pub use crate::encoding::{
        ArgumentsReader, Codec, JobArgument, Locate, Locator, ViaLocate, ViaNoLocate, ViaRecord, ViaRich, ViaSerde,
        to_argument,
    };
    pub use crate::enqueue::{ConfiguredJob, Enqueued, MAX_ARGUMENTS};
    pub use crate::runtime::JobRegistration;
}
