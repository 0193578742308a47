//! The runtime handle: the adapter, the registry, the application state, the clock, middleware
//! and subscribers, shared by every layer above, with its instrumentation (logs, metrics, events).
//!
//! Above the [`contract`](crate::contract) and the [`encoding`](crate::encoding). The handle is
//! here so that enqueueing, performing and the worker can all reach it; what each of them does
//! with it lives in their own layer (`Runtime::perform_later` in `enqueue`, `perform_now` in
//! `perform`), and the builder that assembles a runtime from the layers sits on top
//! (`builder.rs`).

mod context;
mod handle;
pub(crate) mod instrument;
mod registry;
mod steps;

pub use handle::Runtime;
pub(crate) use handle::RuntimeParts;
pub(crate) use registry::{Ending, Executed};
pub use registry::{JobRegistration, Registry};
pub use steps::{Step, StepOptions};
