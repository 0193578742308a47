//! Helpers for adapter authors: what every adapter needs and should do the same way, written
//! once — hiding passwords in URLs ([`redact`]), converting times and durations to and from the
//! microseconds stores keep ([`time_to_micros`], [`due_micros`], [`micros_to_time`],
//! [`duration_to_micros`]), forwarding a trait method to the adapter's own ([`forward`]),
//! keeping track of schema versions ([`migrations`]), naming the host ([`hostname`]), and the
//! store-independent decisions of a unique enqueue ([`UniquePlan`]).
//!
//! Applications do not need this module; adapters outside this workspace may use it as the
//! built-in ones do.

mod forward;
pub(crate) mod hash;
mod hostname;
pub mod migrations;
mod redact;
mod time;
mod unique;

pub use forward::forward;
pub use hostname::hostname;
pub use redact::redact;
pub use time::{due_micros, duration_to_micros, micros_to_time, time_to_micros};
pub use unique::{KeyHolder, UniquePlan};
