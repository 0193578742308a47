//! Encoding a job's parameters into the payload's `arguments` array and back, as Active Job does.
//!
//! Two paths meet here. Types with an Active Job encoding of their own ([`RichArgument`]: times,
//! dates, durations, decimals, records, custom serializers) write `_aj_serialized` /
//! `_aj_globalid` objects. Every other serde type ([`JobArgument`]) is written as its JSON, with
//! `_aj_symbol_keys` on each hash and the `_aj_*` keys refused; on the way back, the payload is
//! first normalized into plain JSON. `#[job]` picks the path per parameter type.

mod decode;
mod dispatch;
mod encode;
mod keywords;
mod rich;
pub mod serializers;

#[cfg(feature = "decimal")]
mod decimal;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

pub use dispatch::{Codec, Locate, Locator, ViaLocate, ViaNoLocate, ViaRecord, ViaRich, ViaSerde};
pub use keywords::Keywords;
pub use rich::{CustomSerializer, RichArgument};

use crate::contract::EncodeContext;
use crate::contract::Error;
use crate::encoding::limits::{MAX_ARGUMENT_DEPTH, too_deep, too_deep_message};

pub(crate) const GLOBALID: &str = "_aj_globalid";
pub(crate) const SERIALIZED: &str = "_aj_serialized";
pub(crate) const SYMBOL_KEYS: &str = "_aj_symbol_keys";
pub(crate) const RUBY2_KEYWORDS: &str = "_aj_ruby2_keywords";

/// Marker for types that can be passed to a job as a serialized argument through serde.
///
/// Implemented for every `Serialize + DeserializeOwned + Send + 'static` type; the `#[job]` macro
/// checks each parameter against it (unless the type is a [`RichArgument`]) so that a wrong type
/// is reported on the parameter itself.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a job argument",
    label = "job arguments must implement `Serialize + DeserializeOwned + Send + 'static`",
    note = "arguments are stored as JSON and decoded again by the worker; derive `serde::Serialize` and `serde::Deserialize`, pass a record as `Global<T>`, or pass an id and load the value in the job"
)]
pub trait JobArgument: Serialize + DeserializeOwned + Send + 'static {}

#[diagnostic::do_not_recommend]
impl<T: Serialize + DeserializeOwned + Send + 'static> JobArgument for T {}

/// Serializes one argument of `job` through serde (the parameter is named for error messages):
/// hashes carry `_aj_symbol_keys` (a struct's fields are symbols in Ruby, a map's keys strings),
/// and keys starting with `_aj_`, which Active Job reserves, are an [`Error::Serialization`].
///
/// ```
/// # use jobs_core::encoding::to_argument;
/// #[derive(serde::Serialize, serde::Deserialize)]
/// struct Options { greeting: String }
///
/// let json = to_argument("Greet", "options", &Options { greeting: "hi".into() }).unwrap();
/// assert_eq!(json, serde_json::json!({"greeting": "hi", "_aj_symbol_keys": ["greeting"]}));
///
/// let err = to_argument("Greet", "data", &serde_json::json!({"_aj_globalid": 1})).unwrap_err();
/// assert!(err.to_string().starts_with("cannot serialize argument `data` of Greet: `_aj_globalid` is a reserved key"));
/// ```
pub fn to_argument<T: JobArgument>(job: &str, argument: &str, value: &T) -> Result<Value, Error> {
    let value = encode::to_value(value).map_err(|e| serialization(job, argument, e.0))?;
    checked_depth(job, argument, value)
}

/// Serializes one argument of `job` in its own Active Job encoding ([`RichArgument`]), with what
/// the runtime it is enqueued on gives encoding (`cx`).
pub fn to_rich_argument<T: RichArgument>(
    cx: &EncodeContext<'_>,
    job: &str,
    argument: &str,
    value: &T,
) -> Result<Value, Error> {
    let value = value.encode(cx).map_err(|e| serialization(job, argument, e.to_string()))?;
    checked_depth(job, argument, value)
}

/// Decodes one value written by [`to_argument`] (the argument is named for error messages), as
/// [`ArgumentsReader::next`] decodes a parameter.
///
/// ```
/// # use jobs_core::encoding::{from_argument, to_argument};
/// let json = to_argument("Import", "cursor", &(3u32, "b".to_owned())).unwrap();
/// let back: (u32, String) = from_argument("Import", "cursor", json).unwrap();
/// assert_eq!(back, (3, "b".to_owned()));
/// ```
pub fn from_argument<T: JobArgument>(job: &str, argument: &str, value: Value) -> Result<T, Error> {
    let deserialization =
        |message: String| Error::Deserialization { job: job.to_owned(), message: format!("`{argument}`: {message}") };
    if too_deep(&value, MAX_ARGUMENT_DEPTH) {
        return Err(deserialization(too_deep_message()));
    }
    serde_json::from_value(decode::normalize(value)).map_err(|e| deserialization(e.to_string()))
}

fn serialization(job: &str, argument: &str, message: String) -> Error {
    Error::Serialization { job: job.to_owned(), argument: argument.to_owned(), message }
}

fn checked_depth(job: &str, argument: &str, value: Value) -> Result<Value, Error> {
    if too_deep(&value, MAX_ARGUMENT_DEPTH) {
        return Err(serialization(job, argument, too_deep_message()));
    }
    Ok(value)
}

/// Reads a payload's arguments back, one parameter at a time, in order.
///
/// ```
/// # use jobs_core::encoding::ArgumentsReader;
/// let mut reader = ArgumentsReader::new("Greet", vec!["bob".into(), 3.into()], 2).unwrap();
/// let name: String = reader.next("name").unwrap();
/// let times: u32 = reader.next("times").unwrap();
/// assert_eq!((name.as_str(), times), ("bob", 3));
/// ```
#[derive(Debug)]
pub struct ArgumentsReader {
    job: &'static str,
    arguments: std::vec::IntoIter<Value>,
    position: usize,
}

impl ArgumentsReader {
    /// Starts reading; fails if the payload does not hold exactly `expected` arguments.
    pub fn new(job: &'static str, arguments: Vec<Value>, expected: usize) -> Result<Self, Error> {
        if arguments.len() != expected {
            return Err(Error::Deserialization {
                job: job.to_owned(),
                message: format!("expected {expected} arguments, the payload has {}", arguments.len()),
            });
        }
        Ok(ArgumentsReader { job, arguments: arguments.into_iter(), position: 0 })
    }

    /// Decodes the next argument through serde, named `argument` in error messages. Active Job's
    /// markers are removed first and its serialized objects turned into plain values (a time into
    /// its ISO 8601 string, a record into its global id string, ...).
    pub fn next<T: JobArgument>(&mut self, argument: &str) -> Result<T, Error> {
        let (position, value) = self.take(argument)?;
        serde_json::from_value(decode::normalize(value)).map_err(|e| self.error(position, argument, e))
    }

    /// Decodes the next argument in its own Active Job encoding ([`RichArgument`]).
    pub fn next_rich<T: RichArgument>(&mut self, argument: &str) -> Result<T, Error> {
        let (position, value) = self.take(argument)?;
        T::decode(value).map_err(|e| self.error(position, argument, e))
    }

    fn take(&mut self, argument: &str) -> Result<(usize, Value), Error> {
        let position = self.position;
        self.position += 1;
        let value = self.arguments.next().ok_or_else(|| Error::Deserialization {
            job: self.job.to_owned(),
            message: format!("argument {position} (`{argument}`) is missing"),
        })?;
        if too_deep(&value, MAX_ARGUMENT_DEPTH) {
            return Err(self.error(position, argument, too_deep_message()));
        }
        Ok((position, value))
    }

    fn error(&self, position: usize, argument: &str, error: impl std::fmt::Display) -> Error {
        Error::Deserialization {
            job: self.job.to_owned(),
            message: format!("argument {position} (`{argument}`): {error}"),
        }
    }
}
