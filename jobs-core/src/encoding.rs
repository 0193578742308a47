//! Encoding: a job's parameters into the payload's `arguments` and back, in Active Job's forms.
//!
//! Above the contract only. Serde types travel as their JSON (hashes with
//! `_aj_symbol_keys`), types with an encoding of their own ([`RichArgument`]: times, dates,
//! durations, decimals, records as [`Global<T>`], custom serializers) in theirs. What encoding
//! needs from the runtime a job is enqueued on comes in an explicit
//! [`EncodeContext`].

mod arguments;
mod global_id;
mod limits;

pub use crate::contract::EncodeContext;
pub use arguments::serializers;
pub use arguments::{
    ArgumentsReader, CustomSerializer, JobArgument, Keywords, RichArgument, from_argument, to_argument,
    to_rich_argument,
};
#[doc(hidden)]
pub use arguments::{Codec, Locate, Locator, ViaLocate, ViaNoLocate, ViaRecord, ViaRich, ViaSerde};
pub use global_id::{Global, GlobalId};
pub(crate) use limits::check_payload_size;
pub use limits::{DEFAULT_MAX_PAYLOAD_SIZE, MAX_ARGUMENT_DEPTH};
