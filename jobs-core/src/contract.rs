//! The contract: the types that jobs, adapters and the runtime's layers agree on.
//!
//! A leaf: nothing here imports another part of this crate. The [`Job`] trait and its payload
//! ([`JobData`], and [`NewJob`] once encoded), the adapter traits ([`Adapter`], [`Backend`],
//! [`Inspect`]) with their parameter types, the errors, the clock, the declarations `#[job]`
//! compiles to, the context a running job sees, middleware, event subscribers and the trace propagation seam.

mod adapter;
mod checkpoints;
mod clock;
mod context;
mod continuation;
mod control;
mod declarations;
mod encode;
mod error;
mod events;
mod filter;
mod flow;
mod inspect;
mod job;
mod limits;
mod middleware;
mod payload;
mod process;
mod propagation;
mod recurring;
mod state;
mod stats;

pub use adapter::{
    Adapter, Backend, BoxFuture, Capabilities, ClaimParams, ClaimedJob, ErrorRecord, Failure, NewJob, Requeued, Ticket,
};
pub(crate) use checkpoints::ProgressSink;
pub use clock::{Clock, ManualClock, SystemClock};
pub(crate) use context::Environment;
pub use context::JobContext;
pub(crate) use context::{Signals, Stops};
pub use continuation::{Continuable, Continuation, CurrentStep};
pub(crate) use continuation::{Entry, Progress, successor};
pub use control::{Cancel, Snooze, cancel, snooze};
pub use declarations::{
    AroundEnqueueFn, AroundPerformFn, CallbackResult, Declarations, EnqueueCallbackFn, ErrorHandler, ErrorHandlerFn,
    Halt, Matcher, NextEnqueue, NextPerform, PerformCallbackFn, RetryOn, Wait,
};
pub use encode::EncodeContext;
pub use error::{AdapterError, BoxError, DeserializationError, Error, JobError, PanicError, TimeoutError};
pub use events::{Event, EventKind, Outcome, Subscriber};
pub use filter::{JobAction, JobFilter, JobPage, ListParams, Target};
pub use flow::{FlowKeys, FlowStore, SlotOutcome, SlotParams, UniqueOutcome, Uniqueness};
pub use inspect::{Counts, Inspect, JobInfo, JobState};
pub use job::{FromArgs, Job, JobResult};
pub use limits::{ConcurrencyLimit, FlowControl, FlowKey, OnConflict, Throttle, UniqueBy, UniqueJob};
pub use middleware::Middleware;
pub use payload::{JobData, format_time, parse_time};
pub use process::{ProcessCommand, ProcessInfo, ProcessState};
pub use propagation::{TRACE_HEADERS_KEY, TraceHeaders, TracePropagator};
pub use recurring::{
    MissedTicks, RecurringRun, RecurringStore, RecurringTask, RecurringTaskState, TICK_RETENTION, TickOutcome,
};
pub use state::State;
pub(crate) use state::StateMap;
pub use stats::{HISTORY_RETENTION, HistoryPoint, QueueStats};
