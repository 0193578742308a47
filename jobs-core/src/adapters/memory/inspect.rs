//! The memory adapter's inspection side.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::contract::BoxFuture;
use crate::contract::Error;
use crate::contract::{
    Counts, HistoryPoint, Inspect, JobAction, JobFilter, JobInfo, JobPage, ListParams, ProcessCommand, ProcessInfo,
    QueueStats, Target,
};

use super::MemoryAdapter;
use super::store::{Entry, Store};

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
                .iter()
                .filter(|(id, _)| {
                    after.is_none_or(|after| if params.newest_first { **id < after } else { **id > after })
                })
                .filter(|(_, entry)| may_match(&params.filter, entry, now))
                .map(|(id, _)| *id)
                .collect();
            ids.sort_unstable();
            if params.newest_first {
                ids.reverse();
            }
            let jobs: Vec<JobInfo> = ids
                .into_iter()
                .map(|id| store.jobs[&id].info(id, now))
                .filter(|info| params.filter.matches(info))
                .take(params.limit.saturating_add(1))
                .collect();
            Ok(JobPage::from_fetched(jobs, params.limit))
        })
    }

    /// By provider id, else by Active Job `job_id` (the latest job carrying it, with the errors of
    /// the earlier ones), scanning the store.
    fn find<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<JobInfo>, Error>> {
        Box::pin(async move {
            let store = self.store();
            let now = self.now();
            if let Some((n, entry)) = id.parse::<u64>().ok().and_then(|n| store.jobs.get(&n).map(|entry| (n, entry))) {
                return Ok(Some(entry.info(n, now)));
            }
            let mut same_job: Vec<(u64, &Entry)> = store
                .jobs
                .iter()
                .filter(|(_, entry)| entry.job_id().as_deref() == Some(id))
                .map(|(n, entry)| (*n, entry))
                .collect();
            same_job.sort_unstable_by_key(|(n, _)| *n);
            let Some((n, latest)) = same_job.pop() else { return Ok(None) };
            let earlier = same_job.iter().flat_map(|(_, entry)| entry.errors.iter().cloned()).collect();
            Ok(Some(latest.info(n, now).with_earlier_errors(earlier)))
        })
    }

    /// In one pass over the store, under one lock.
    fn apply<'a>(&'a self, action: JobAction, target: &'a Target) -> BoxFuture<'a, Result<u64, Error>> {
        Box::pin(async move {
            let now = self.now();
            let mut store = self.store();
            let ids = selected(&store, target, now);
            let changed = ids.into_iter().filter(|id| store.act(action, *id, now)).count();
            drop(store);
            if matches!(action, JobAction::Retry | JobAction::RunNow) && changed > 0 {
                self.wake();
            }
            Ok(changed as u64)
        })
    }

    fn queues(&self) -> BoxFuture<'_, Result<Vec<QueueStats>, Error>> {
        Box::pin(async move {
            let now = self.now();
            let store = self.store();
            let mut queues: BTreeMap<&str, (QueueStats, Option<DateTime<Utc>>)> = BTreeMap::new();
            let blank = |queue: &str| {
                let paused = store.paused.contains(queue);
                let stats =
                    QueueStats { queue: queue.to_owned(), counts: BTreeMap::new(), latency: Duration::ZERO, paused };
                (stats, None)
            };
            for entry in store.jobs.values() {
                let (stats, oldest) = queues.entry(entry.queue()).or_insert_with(|| blank(entry.queue()));
                *stats.counts.entry(entry.state_at(now)).or_default() += 1;
                if let Some(since) = entry.ready_since(now) {
                    *oldest = Some(oldest.map_or(since, |oldest: DateTime<Utc>| oldest.min(since)));
                }
            }
            for queue in &store.paused {
                queues.entry(queue).or_insert_with(|| blank(queue));
            }
            Ok(queues
                .into_values()
                .map(|(mut stats, oldest)| {
                    stats.latency = oldest.and_then(|since| (now - since).to_std().ok()).unwrap_or(Duration::ZERO);
                    stats
                })
                .collect())
        })
    }

    fn history(&self, since: DateTime<Utc>) -> BoxFuture<'_, Result<Vec<HistoryPoint>, Error>> {
        Box::pin(async move { Ok(MemoryAdapter::history(self).since(since)) })
    }

    fn processes(&self) -> BoxFuture<'_, Result<Vec<ProcessInfo>, Error>> {
        Box::pin(async move { Ok(MemoryAdapter::processes(self).list(self.now())) })
    }

    fn signal<'a>(&'a self, id: &'a str, command: ProcessCommand) -> BoxFuture<'a, Result<bool, Error>> {
        Box::pin(async move { Ok(MemoryAdapter::processes(self).signal(id, command, self.now())) })
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

/// The ids `target` selects, in id order, each once (unknown ids skipped).
fn selected(store: &Store, target: &Target, now: DateTime<Utc>) -> Vec<u64> {
    let mut ids: Vec<u64> = match target {
        Target::Ids(ids) => {
            ids.iter().filter_map(|id| id.parse::<u64>().ok()).filter(|id| store.jobs.contains_key(id)).collect()
        }
        Target::Filter(filter) => store
            .jobs
            .iter()
            .filter(|(_, entry)| may_match(filter, entry, now))
            .filter(|(id, entry)| filter.matches(&entry.info(**id, now)))
            .map(|(id, _)| *id)
            .collect(),
    };
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// Whether `entry` may match `filter`, checking the fields that cost nothing to read (queue and
/// state) before [`JobFilter::matches`] reads the rest on a copy of the job.
fn may_match(filter: &JobFilter, entry: &Entry, now: DateTime<Utc>) -> bool {
    filter.queue.as_deref().is_none_or(|queue| queue == entry.queue())
        && filter.state.is_none_or(|state| state == entry.state_at(now))
}

fn bad_cursor(cursor: &str) -> Error {
    Error::Config(format!("invalid page cursor `{cursor}` for the memory adapter"))
}
