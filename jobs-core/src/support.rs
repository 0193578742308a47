//! Helpers for adapter authors: what every adapter needs and should do the same way, written
//! once — hiding passwords in URLs ([`redact`]).
//!
//! Applications do not need this module; adapters outside this workspace may use it as the
//! built-in ones do.

mod redact;

pub use redact::redact;
