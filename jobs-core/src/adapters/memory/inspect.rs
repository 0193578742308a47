//! The memory adapter's inspection side.

use crate::contract::BoxFuture;
use crate::contract::Error;
use crate::contract::{Counts, Inspect, JobInfo, JobPage, ListParams};

use super::MemoryAdapter;
use super::store::EntryState;

impl Inspect for MemoryAdapter {
    fn counts(&self) -> BoxFuture<'_, Result<Counts, Error>> {
        Box::pin(async move {
            let now = self.now();
            let mut counts = Counts::new();
            for entry in self.store().jobs.values() {
                counts.add(entry.queue(), entry.state_at(now), 1);
            }
            Ok(counts)
        })
    }

    fn list<'a>(&'a self, params: &'a ListParams) -> BoxFuture<'a, Result<JobPage, Error>> {
        Box::pin(async move {
            let now = self.now();
            let store = self.store();
            let after = match params.after.as_deref() {
                Some(cursor) => Some(cursor.parse::<u64>().map_err(|_| bad_cursor(cursor))?),
                None => None,
            };
            let mut ids: Vec<u64> = store
                .jobs
                .keys()
                .copied()
                .filter(|id| after.is_none_or(|after| if params.newest_first { *id < after } else { *id > after }))
                .collect();
            ids.sort_unstable();
            if params.newest_first {
                ids.reverse();
            }
            let mut jobs: Vec<JobInfo> = ids
                .into_iter()
                .map(|id| store.jobs[&id].info(id, now))
                .filter(|info| params.filter.matches(info))
                .take(params.limit.saturating_add(1))
                .collect();
            let next = if jobs.len() > params.limit {
                jobs.truncate(params.limit);
                jobs.last().map(|job| job.id.clone())
            } else {
                None
            };
            Ok(JobPage { jobs, next })
        })
    }

    /// By provider id, else by Active Job `job_id` (the latest job carrying it), scanning the store.
    fn find<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<JobInfo>, Error>> {
        Box::pin(async move {
            let store = self.store();
            let by_provider_id = id.parse::<u64>().ok().and_then(|n| store.jobs.get(&n).map(|entry| (n, entry)));
            let found = by_provider_id.or_else(|| {
                let same_job = store.jobs.iter().filter(|(_, entry)| entry.job_id().as_deref() == Some(id));
                same_job.max_by_key(|(n, _)| **n).map(|(n, entry)| (*n, entry))
            });
            Ok(found.map(|(id, entry)| entry.info(id, self.now())))
        })
    }

    fn retry_dead<'a>(&'a self, ids: &'a [String]) -> BoxFuture<'a, Result<usize, Error>> {
        Box::pin(async move {
            let now = self.now();
            let mut store = self.store();
            let mut retried = 0;
            for id in dead_ids(&store, ids) {
                store.retry(id, now);
                retried += 1;
            }
            drop(store);
            self.wake();
            Ok(retried)
        })
    }

    fn delete_dead<'a>(&'a self, ids: &'a [String]) -> BoxFuture<'a, Result<usize, Error>> {
        Box::pin(async move {
            let mut store = self.store();
            let dead = dead_ids(&store, ids);
            for id in &dead {
                store.jobs.remove(id);
            }
            Ok(dead.len())
        })
    }

    fn pause<'a>(&'a self, queue: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            self.store().paused.insert(queue.to_owned());
            Ok(())
        })
    }

    fn resume<'a>(&'a self, queue: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            self.store().paused.remove(queue);
            self.wake();
            Ok(())
        })
    }

    fn paused(&self) -> BoxFuture<'_, Result<Vec<String>, Error>> {
        Box::pin(async move { Ok(self.store().paused.iter().cloned().collect()) })
    }
}

fn dead_ids(store: &super::store::Store, ids: &[String]) -> Vec<u64> {
    let mut dead: Vec<u64> = ids
        .iter()
        .filter_map(|id| id.parse::<u64>().ok())
        .filter(|id| store.jobs.get(id).is_some_and(|e| e.state == EntryState::Dead))
        .collect();
    dead.sort_unstable();
    dead.dedup();
    dead
}

fn bad_cursor(cursor: &str) -> Error {
    Error::Config(format!("invalid page cursor `{cursor}` for the memory adapter"))
}
