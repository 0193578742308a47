//! Counts that scan the store, counted in the background and reused for a while, so that no
//! page waits for a scan of a million jobs.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jobs_core::Error;
use jobs_core::adapter::{Adapter, BoxFuture, redact};
use tokio::sync::watch;

/// How long a page waits for counts being counted before it shows older ones (or none).
pub(crate) const PAGE_WAIT: Duration = Duration::from_millis(40);

/// What a count answered: the value or the error's text.
type Outcome<T> = Result<Arc<T>, String>;

/// Counts the store: one of the operations API's scanning calls.
pub(crate) type Load<T> = fn(Arc<dyn Adapter>) -> BoxFuture<'static, Result<T, Error>>;

/// A count is reused for at least this many times as long as it took, so that a dashboard left
/// open on a huge store spends at most a tenth of its time counting.
const COST_FACTOR: u32 = 10;

/// A count and when it was taken.
#[derive(Debug)]
pub(crate) struct Snapshot<T> {
    /// The count, or why it failed.
    pub(crate) value: Outcome<T>,
    /// When it was taken.
    pub(crate) at: Instant,
    /// How long it took.
    pub(crate) took: Duration,
}

impl<T> Clone for Snapshot<T> {
    fn clone(&self) -> Self {
        Snapshot { value: self.value.clone(), at: self.at, took: self.took }
    }
}

impl<T> Snapshot<T> {
    /// How old it is.
    pub(crate) fn age(&self) -> Duration {
        self.at.elapsed()
    }

    /// Whether it may still be shown without counting again: younger than `ttl`, or than ten
    /// times what it cost.
    fn fresh(&self, ttl: Duration) -> bool {
        self.age() < ttl.max(self.took * COST_FACTOR)
    }
}

/// One cached count.
#[derive(Debug)]
pub(crate) struct Cached<T> {
    load: Load<T>,
    latest: watch::Sender<Option<Snapshot<T>>>,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    counting: bool,
    /// Set by an action: the next page waits for a new count.
    invalidated: bool,
}

impl<T: Send + Sync + 'static> Cached<T> {
    pub(crate) fn new(load: Load<T>) -> Arc<Self> {
        Arc::new(Cached { load, latest: watch::Sender::new(None), state: Mutex::new(State::default()) })
    }

    /// Counts again at the next look, and makes that look wait for it (briefly).
    pub(crate) fn invalidate(&self) {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).invalidated = true;
    }

    /// The latest count younger than `ttl`; else starts counting again and waits up to
    /// [`PAGE_WAIT`] for it, then settles for the older count, or `None` while there is none.
    pub(crate) async fn get(self: &Arc<Self>, adapter: &Arc<dyn Adapter>, ttl: Duration) -> Option<Snapshot<T>> {
        let mut receiver = self.latest.subscribe();
        let current = receiver.borrow_and_update().clone();
        {
            let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
            let fresh = current.as_ref().is_some_and(|s| s.fresh(ttl)) && !state.invalidated;
            if fresh {
                return current;
            }
            if !state.counting {
                state.counting = true;
                state.invalidated = false;
                self.spawn_count(adapter.clone());
            }
        }
        match tokio::time::timeout(PAGE_WAIT, receiver.changed()).await {
            Ok(Ok(())) => receiver.borrow().clone(),
            _ => current,
        }
    }

    fn spawn_count(self: &Arc<Self>, adapter: Arc<dyn Adapter>) {
        let this = self.clone();
        tokio::spawn(async move {
            let started = Instant::now();
            let value = (this.load)(adapter).await.map(Arc::new).map_err(|e| redact(&e.to_string()));
            this.state.lock().unwrap_or_else(|e| e.into_inner()).counting = false;
            this.latest.send_replace(Some(Snapshot { value, at: Instant::now(), took: started.elapsed() }));
        });
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};

    use jobs_core::adapters::MemoryAdapter;

    use super::*;

    static LOADS: AtomicU64 = AtomicU64::new(0);

    fn count(_: Arc<dyn Adapter>) -> BoxFuture<'static, Result<u64, Error>> {
        Box::pin(async { Ok(LOADS.fetch_add(1, Ordering::SeqCst) + 1) })
    }

    #[test]
    fn an_expensive_count_is_reused_longer() {
        let at = Instant::now() - Duration::from_secs(8);
        let cheap = Snapshot { value: Ok(Arc::new(1)), at, took: Duration::from_millis(5) };
        let dear = Snapshot { value: Ok(Arc::new(1)), at, took: Duration::from_secs(2) };
        assert!(!cheap.fresh(Duration::from_secs(5)), "8 s old, past the 5 s");
        assert!(dear.fresh(Duration::from_secs(5)), "a 2 s count is reused for 20 s");
    }

    #[tokio::test]
    async fn reuses_a_count_until_it_is_old_or_invalidated() {
        let adapter: Arc<dyn Adapter> = Arc::new(MemoryAdapter::new());
        let cached = Cached::new(count);
        let first = cached.get(&adapter, Duration::from_secs(60)).await.unwrap();
        assert_eq!(*first.value.unwrap(), 1);
        let again = cached.get(&adapter, Duration::from_secs(60)).await.unwrap();
        assert_eq!(*again.value.unwrap(), 1, "a fresh count is reused");
        cached.invalidate();
        let recounted = cached.get(&adapter, Duration::from_secs(60)).await.unwrap();
        assert_eq!(*recounted.value.unwrap(), 2, "an action makes the next look count again");
        let expired = cached.get(&adapter, Duration::ZERO).await.unwrap();
        assert_eq!(*expired.value.unwrap(), 3, "an old count is counted again");
    }
}
