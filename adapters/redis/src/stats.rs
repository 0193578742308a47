//! Numbers for operators: counts per queue and state, queue stats (Sidekiq's sizes and latency)
//! and the per-minute history.
//!
//! Counting goes through `counts.lua` in bounded batches: queue lengths at once, the working
//! hashes at once (as many jobs as workers run), the blocked lists and the sets a thousand jobs
//! per call.
//!
//! The history is one hash per minute, `jobs:history:MINUTE` (seconds since the epoch), with the
//! fields `p<TAB>queue<TAB>class` and `f<TAB>queue<TAB>class` (runs processed and failed), each
//! kept 25 hours after its last write. A queue name with a tab in it cannot be told from its
//! class there; such a queue's history is dropped when read.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use jobs_core::{Counts, HISTORY_RETENTION, HistoryPoint, JobState, QueueStats};

use crate::adapter::RedisAdapter;
use crate::error::RedisError;
use crate::inspect::server_time;
use crate::scripts;

/// How many jobs of a set one call of `counts.lua` reads.
const COUNT_BATCH: usize = 1000;

/// How long a minute of history is kept after its last write.
const HISTORY_KEPT: Duration = Duration::from_secs(HISTORY_RETENTION.as_secs() + 3600);

/// Counts, and the enqueued_at of the job next to run in each queue (for its latency).
struct Tally {
    now: f64,
    counts: Counts,
    oldest: BTreeMap<String, f64>,
}

impl RedisAdapter {
    async fn tally(&self) -> Result<Tally, RedisError> {
        let mut tally = Tally { now: 0.0, counts: Counts::new(), oldest: BTreeMap::new() };
        for kind in ["q", "w", "b", "s", "r", "d", "c"] {
            let mut from = 0;
            loop {
                let mut call = self.invocation(&scripts::COUNTS);
                call.arg(kind).arg(from).arg(COUNT_BATCH);
                let reply: Vec<String> = self.run(&call).await?;
                let mut reply = reply.into_iter();
                tally.now = server_time(reply.next())?;
                let done = reply.next().as_deref() != Some("0");
                while let (Some(queue), Some(state), Some(count)) = (reply.next(), reply.next(), reply.next()) {
                    if state == "oldest" {
                        if let Ok(at) = count.parse::<f64>() {
                            tally.oldest.insert(queue, at);
                        }
                        continue;
                    }
                    let state: JobState =
                        state.parse().map_err(|_| RedisError::Malformed(format!("a count of state {state}")))?;
                    tally.counts.add(&queue, state, count.parse().unwrap_or(0));
                }
                if done {
                    break;
                }
                from += COUNT_BATCH;
            }
        }
        Ok(tally)
    }

    pub(crate) async fn count_jobs(&self) -> Result<Counts, RedisError> {
        Ok(self.tally().await?.counts)
    }

    pub(crate) async fn queue_stats(&self) -> Result<Vec<QueueStats>, RedisError> {
        let tally = self.tally().await?;
        let paused = self.paused_queues().await?;
        let mut queues: BTreeMap<String, QueueStats> = BTreeMap::new();
        fn entry<'q>(queues: &'q mut BTreeMap<String, QueueStats>, queue: &str) -> &'q mut QueueStats {
            queues.entry(queue.to_owned()).or_insert_with(|| QueueStats {
                queue: queue.to_owned(),
                counts: BTreeMap::new(),
                latency: Duration::ZERO,
                paused: false,
            })
        }
        for (queue, state, count) in tally.counts.iter() {
            entry(&mut queues, queue).counts.insert(state, count);
        }
        for queue in &paused {
            entry(&mut queues, queue).paused = true;
        }
        for (queue, at) in &tally.oldest {
            if let Some(stats) = queues.get_mut(queue) {
                stats.latency = Duration::from_secs_f64((tally.now - at).max(0.0));
            }
        }
        Ok(queues.into_values().collect())
    }

    pub(crate) async fn write_history(&self, points: &[HistoryPoint]) -> Result<(), RedisError> {
        let points: Vec<&HistoryPoint> = points.iter().filter(|p| p.processed > 0 || p.failed > 0).collect();
        if points.is_empty() {
            return Ok(());
        }
        let mut call = self.invocation(&scripts::HISTORY);
        call.arg(HISTORY_KEPT.as_secs());
        for point in points {
            let minute = point.minute.timestamp().div_euclid(60) * 60;
            call.arg(minute).arg(format!("{}\t{}", point.queue, point.class)).arg(point.processed).arg(point.failed);
        }
        self.run::<i64>(&call).await.map(|_| ())
    }

    pub(crate) async fn read_history(&self, since: DateTime<Utc>) -> Result<Vec<HistoryPoint>, RedisError> {
        let mut conn = self.inner.conn.clone();
        let (secs, _): (i64, i64) = redis::cmd("TIME").query_async(&mut conn).await?;
        let oldest = secs - HISTORY_KEPT.as_secs() as i64;
        let first = since.timestamp().max(oldest).div_euclid(60) * 60;
        let mut call = self.invocation(&scripts::HISTORY_READ);
        call.arg(first);
        let reply: Vec<String> = self.run(&call).await?;
        let mut points: BTreeMap<(i64, String, String), (u64, u64)> = BTreeMap::new();
        let mut reply = reply.into_iter();
        while let (Some(minute), Some(field), Some(count)) = (reply.next(), reply.next(), reply.next()) {
            let mut parts = field.splitn(3, '\t');
            let (Some(kind), Some(queue), Some(class)) = (parts.next(), parts.next(), parts.next()) else { continue };
            if class.contains('\t') {
                continue;
            }
            let (Ok(minute), Ok(count)) = (minute.parse::<i64>(), count.parse::<u64>()) else { continue };
            let counts = points.entry((minute, queue.to_owned(), class.to_owned())).or_default();
            match kind {
                "p" => counts.0 += count,
                "f" => counts.1 += count,
                _ => {}
            }
        }
        Ok(points
            .into_iter()
            .filter_map(|((minute, queue, class), (processed, failed))| {
                let minute = DateTime::from_timestamp(minute, 0)?;
                Some(HistoryPoint { minute, queue, class, processed, failed })
            })
            .collect())
    }
}
