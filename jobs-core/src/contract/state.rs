//! Application state injected into jobs: `State<T>`.

use std::any::{Any, TypeId};
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use super::context::JobContext;
use super::error::Error;

/// Application state handed to a job (a database pool, an SMTP client, ...).
///
/// Added once to the runtime with `Runtime::builder().state(value)`, it is never serialized: a
/// job parameter of type `State<T>` is filled from the runtime when the job runs.
pub struct State<T: ?Sized>(Arc<T>);

impl<T: Send + Sync + 'static> State<T> {
    /// Wraps a value.
    pub fn new(value: T) -> Self {
        State(Arc::new(value))
    }

    /// Fetches the state of type `T` from the job's runtime.
    pub fn from_context(ctx: &JobContext) -> Result<Self, Error> {
        ctx.state::<T>()
    }

    /// The shared value.
    pub fn into_inner(self) -> Arc<T> {
        self.0
    }
}

impl<T: ?Sized> Clone for State<T> {
    fn clone(&self) -> Self {
        State(self.0.clone())
    }
}

impl<T: ?Sized> Deref for State<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for State<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("State").field(&&*self.0).finish()
    }
}

/// Values of any type, one per type, shared with jobs: an application has a handful, which a
/// search of a list sorted by type finds with a few comparisons, where a map would SipHash the
/// type for every job that asks.
#[derive(Clone, Default)]
pub(crate) struct StateMap(Vec<(TypeId, Arc<dyn Any + Send + Sync>)>);

impl StateMap {
    pub(crate) fn insert<T: Send + Sync + 'static>(&mut self, value: Arc<T>) {
        match self.0.binary_search_by_key(&TypeId::of::<T>(), |(key, _)| *key) {
            Ok(at) => self.0[at].1 = value,
            Err(at) => self.0.insert(at, (TypeId::of::<T>(), value)),
        }
    }

    pub(crate) fn get<T: Send + Sync + 'static>(&self) -> Result<State<T>, Error> {
        self.0
            .binary_search_by_key(&TypeId::of::<T>(), |(key, _)| *key)
            .ok()
            .and_then(|at| self.0[at].1.clone().downcast::<T>().ok())
            .map(State)
            .ok_or(Error::MissingState(std::any::type_name::<T>()))
    }
}

impl fmt::Debug for StateMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StateMap({} values)", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_each_value_by_its_type_and_keeps_the_last_of_a_type() {
        let mut map = StateMap::default();
        map.insert(Arc::new(1_u8));
        map.insert(Arc::new("pool".to_owned()));
        map.insert(Arc::new(2_u64));
        map.insert(Arc::new(3_u8));
        map.insert(Arc::new(vec![4_i32]));
        assert_eq!(*map.get::<u8>().unwrap(), 3);
        assert_eq!(*map.get::<String>().unwrap(), "pool");
        assert_eq!(*map.get::<u64>().unwrap(), 2);
        assert_eq!(*map.get::<Vec<i32>>().unwrap(), [4]);
        assert!(matches!(map.get::<u16>(), Err(Error::MissingState("u16"))));
    }
}
