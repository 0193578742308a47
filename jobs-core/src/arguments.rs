//! Encoding a job's parameters into the payload's `arguments` array and back.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::Error;

/// Marker for types that can be passed to a job as a serialized argument.
///
/// Implemented for every `Serialize + DeserializeOwned + Send + 'static` type; the `#[job]` macro
/// checks each parameter against it so that a wrong type is reported on the parameter itself.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a job argument",
    label = "job arguments must implement `Serialize + DeserializeOwned + Send + 'static`",
    note = "arguments are stored as JSON and decoded again by the worker; derive `serde::Serialize` and `serde::Deserialize`, or pass an id and load the value in the job"
)]
pub trait JobArgument: Serialize + DeserializeOwned + Send + 'static {}

impl<T: Serialize + DeserializeOwned + Send + 'static> JobArgument for T {}

/// Serializes one argument of `job` (the parameter is named for error messages).
pub fn to_argument<T: JobArgument>(job: &str, argument: &str, value: &T) -> Result<Value, Error> {
    serde_json::to_value(value).map_err(|e| Error::Serialization {
        job: job.to_owned(),
        argument: argument.to_owned(),
        message: e.to_string(),
    })
}

/// Reads a payload's arguments back, one parameter at a time, in order.
///
/// ```
/// # use jobs_core::ArgumentsReader;
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

    /// Decodes the next argument, named `argument` in error messages.
    pub fn next<T: JobArgument>(&mut self, argument: &str) -> Result<T, Error> {
        let position = self.position;
        self.position += 1;
        let value = self.arguments.next().ok_or_else(|| Error::Deserialization {
            job: self.job.to_owned(),
            message: format!("argument {position} (`{argument}`) is missing"),
        })?;
        serde_json::from_value(value).map_err(|e| Error::Deserialization {
            job: self.job.to_owned(),
            message: format!("argument {position} (`{argument}`): {e}"),
        })
    }
}
