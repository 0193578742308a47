//! How `#[job]` picks an encoding per parameter type without specialization: method resolution on
//! `&&&Codec<T>` tries records first (`Global<T>`), then `&&Codec<T>`, which only
//! [`RichArgument`] types match, then falls back to `&Codec<T>`, the serde path, whose
//! [`JobArgument`] bound reports a wrong type on the parameter.
//! The same trick loads records ([`Locate`]) and leaves every other argument as it is.

use std::future::{Future, Ready, ready};
use std::marker::PhantomData;

use serde_json::Value;

use super::rich::RichArgument;
use super::{ArgumentsReader, JobArgument, to_argument, to_rich_argument};
use crate::contract::EncodeContext;
use crate::contract::{BoxFuture, Error, JobContext};
use crate::encoding::global_id::{Global, GlobalId};

/// Selects how arguments of type `T` are encoded and decoded.
pub struct Codec<T>(PhantomData<fn() -> T>);

impl<T> Codec<T> {
    /// The codec of `T`.
    pub const fn new() -> Self {
        Codec(PhantomData)
    }
}

impl<T> Default for Codec<T> {
    fn default() -> Self {
        Codec::new()
    }
}

/// Encoding of records ([`Global<T>`]), picked first: for any `T`, so that a `Global` of a type
/// that is no record is reported as exactly that.
pub trait ViaRecord<T> {
    /// Encodes `value`, argument `argument` of `job`.
    fn encode(&self, cx: &EncodeContext<'_>, job: &str, argument: &str, value: &Global<T>) -> Result<Value, Error>
    where
        T: GlobalId;
    /// Decodes the reader's next argument.
    fn decode(&self, reader: &mut ArgumentsReader, argument: &str) -> Result<Global<T>, Error>
    where
        T: GlobalId;
}

impl<T> ViaRecord<T> for &&Codec<Global<T>> {
    fn encode(&self, cx: &EncodeContext<'_>, job: &str, argument: &str, value: &Global<T>) -> Result<Value, Error>
    where
        T: GlobalId,
    {
        to_rich_argument(cx, job, argument, value)
    }
    fn decode(&self, reader: &mut ArgumentsReader, argument: &str) -> Result<Global<T>, Error>
    where
        T: GlobalId,
    {
        reader.next_rich(argument)
    }
}

/// Encoding through [`RichArgument`], picked next.
pub trait ViaRich<T> {
    /// Encodes `value`, argument `argument` of `job`.
    fn encode(&self, cx: &EncodeContext<'_>, job: &str, argument: &str, value: &T) -> Result<Value, Error>;
    /// Decodes the reader's next argument.
    fn decode(&self, reader: &mut ArgumentsReader, argument: &str) -> Result<T, Error>;
}

impl<T: RichArgument> ViaRich<T> for &Codec<T> {
    fn encode(&self, cx: &EncodeContext<'_>, job: &str, argument: &str, value: &T) -> Result<Value, Error> {
        to_rich_argument(cx, job, argument, value)
    }
    fn decode(&self, reader: &mut ArgumentsReader, argument: &str) -> Result<T, Error> {
        reader.next_rich(argument)
    }
}

/// Encoding through serde, the fallback.
pub trait ViaSerde<T> {
    /// Encodes `value`, argument `argument` of `job`.
    fn encode(&self, cx: &EncodeContext<'_>, job: &str, argument: &str, value: &T) -> Result<Value, Error>
    where
        T: JobArgument;
    /// Decodes the reader's next argument.
    fn decode(&self, reader: &mut ArgumentsReader, argument: &str) -> Result<T, Error>
    where
        T: JobArgument;
}

impl<T> ViaSerde<T> for Codec<T> {
    fn encode(&self, _cx: &EncodeContext<'_>, job: &str, argument: &str, value: &T) -> Result<Value, Error>
    where
        T: JobArgument,
    {
        to_argument(job, argument, value)
    }
    fn decode(&self, reader: &mut ArgumentsReader, argument: &str) -> Result<T, Error>
    where
        T: JobArgument,
    {
        reader.next(argument)
    }
}

/// Arguments that hold records to load before the job runs: [`Global<T>`](crate::Global), and
/// `Option`s and `Vec`s of them.
pub trait Locate: Sized + Send {
    /// Loads what is not loaded yet; `argument` names the parameter in errors.
    fn locate(self, ctx: &JobContext, argument: &str) -> impl Future<Output = Result<Self, Error>> + Send;
}

impl<T: Locate> Locate for Option<T> {
    async fn locate(self, ctx: &JobContext, argument: &str) -> Result<Self, Error> {
        match self {
            Some(value) => value.locate(ctx, argument).await.map(Some),
            None => Ok(None),
        }
    }
}

impl<T: Locate> Locate for Vec<T> {
    async fn locate(self, ctx: &JobContext, argument: &str) -> Result<Self, Error> {
        let mut located = Vec::with_capacity(self.len());
        for value in self {
            located.push(value.locate(ctx, argument).await?);
        }
        Ok(located)
    }
}

/// Selects whether arguments of type `T` hold records to load.
pub struct Locator<T>(PhantomData<fn() -> T>);

impl<T> Locator<T> {
    /// The locator of `T`.
    pub const fn new() -> Self {
        Locator(PhantomData)
    }
}

impl<T> Default for Locator<T> {
    fn default() -> Self {
        Locator::new()
    }
}

/// Loading records, picked first.
pub trait ViaLocate<T> {
    /// Loads the records in `value`.
    fn locate<'a>(&self, value: T, ctx: &'a JobContext, argument: &'a str) -> BoxFuture<'a, Result<T, Error>>;
}

impl<T: Locate + 'static> ViaLocate<T> for &Locator<T> {
    fn locate<'a>(&self, value: T, ctx: &'a JobContext, argument: &'a str) -> BoxFuture<'a, Result<T, Error>> {
        Box::pin(value.locate(ctx, argument))
    }
}

/// Nothing to load, the fallback.
pub trait ViaNoLocate<T> {
    /// Hands `value` back.
    fn locate(&self, value: T, ctx: &JobContext, argument: &str) -> Ready<Result<T, Error>>;
}

impl<T> ViaNoLocate<T> for Locator<T> {
    fn locate(&self, value: T, _: &JobContext, _: &str) -> Ready<Result<T, Error>> {
        ready(Ok(value))
    }
}
