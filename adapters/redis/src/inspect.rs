//! The inspection side: where each job is, counts, the dead set, paused queues.
//!
//! Reads go through one script each (`snapshot.lua`, `find.lua`), so they see one consistent
//! moment; they are O(jobs stored), like Sidekiq's own API, and meant for tools and tests.

use jobs_core::adapter::forward;
use jobs_core::{BoxFuture, Counts, Error, Inspect, JobInfo, JobState, ListParams};
use redis::AsyncCommands;

use crate::adapter::RedisAdapter;
use crate::envelope::{self, Stored};
use crate::error::RedisError;
use crate::scripts;

/// One stored job as a script reports it: where it is (`kind`, `extra`) and its envelope.
struct Entry {
    kind: String,
    extra: String,
    job: String,
}

impl Entry {
    /// The job as a tool sees it, at `now` (server time, float seconds).
    fn info(&self, now: f64) -> (JobInfo, f64) {
        let stored = Stored::parse(&self.job);
        let score = self.extra.parse::<f64>().unwrap_or(0.0);
        let state = match self.kind.as_str() {
            "w" => JobState::Running,
            "s" if score > now => JobState::Scheduled,
            "r" if score > now => JobState::Retrying,
            "d" => JobState::Dead,
            "c" => JobState::Completed,
            _ => JobState::Ready,
        };
        let attempts = stored.attempts() + u32::from(matches!(state, JobState::Running | JobState::Completed));
        let queue = match self.kind.as_str() {
            "q" => self.extra.clone(),
            _ => stored.queue().unwrap_or("default").to_owned(),
        };
        let payload = stored.payload(&self.job);
        let run_at = match self.kind.as_str() {
            "s" | "r" => Some(score),
            _ => stored.enqueued_at.or(stored.created_at),
        };
        let info = JobInfo {
            id: stored.jid(|| format!("invalid-{:016x}", fnv(&self.job))),
            queue,
            priority: envelope::priority(&payload),
            state,
            attempts,
            run_at: run_at.map(envelope::from_seconds),
            payload,
            errors: stored.errors(),
        };
        (info, stored.created_at.unwrap_or(0.0))
    }
}

/// A stable name for a job that has no jid (it was not written by a Sidekiq client).
fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3))
}

/// Splits a script's reply: the server's time, then `kind, extra, job` triples.
fn entries(reply: Vec<String>) -> Result<(f64, Vec<Entry>), RedisError> {
    let mut reply = reply.into_iter();
    let now = reply
        .next()
        .and_then(|t| t.parse::<f64>().ok())
        .ok_or_else(|| RedisError::Malformed("a snapshot without the server's time".into()))?;
    let mut entries = Vec::new();
    while let (Some(kind), Some(extra), Some(job)) = (reply.next(), reply.next(), reply.next()) {
        entries.push(Entry { kind, extra, job });
    }
    Ok((now, entries))
}

impl RedisAdapter {
    /// Every stored job, oldest first (by `created_at`, then id).
    async fn all_jobs(&self) -> Result<Vec<JobInfo>, RedisError> {
        let (now, entries) = entries(self.run(&self.invocation(&scripts::SNAPSHOT)).await?)?;
        let mut jobs: Vec<(JobInfo, f64)> = entries.iter().map(|entry| entry.info(now)).collect();
        jobs.sort_by(|(a, at), (b, bt)| at.total_cmp(bt).then_with(|| a.id.cmp(&b.id)));
        Ok(jobs.into_iter().map(|(info, _)| info).collect())
    }

    async fn find_job(&self, id: &str) -> Result<Option<JobInfo>, RedisError> {
        if id.is_empty() || id.contains(['"', '\\']) {
            return Ok(None);
        }
        let mut call = self.invocation(&scripts::FIND);
        call.arg(id);
        let (now, entries) = entries(self.run(&call).await?)?;
        // The script matches text: keep the job whose jid is `id`, else the latest created of
        // those whose payload's job_id is `id`.
        let infos: Vec<(JobInfo, f64)> = entries.iter().map(|entry| entry.info(now)).collect();
        if let Some((info, _)) = infos.iter().find(|(info, _)| info.id == id) {
            return Ok(Some(info.clone()));
        }
        let same_job = infos.into_iter().filter(|(info, _)| info.data().is_ok_and(|data| data.job_id == id));
        Ok(same_job.max_by(|(a, at), (b, bt)| at.total_cmp(bt).then_with(|| a.id.cmp(&b.id))).map(|(info, _)| info))
    }

    async fn change_dead(&self, mode: &str, ids: &[String]) -> Result<usize, RedisError> {
        let ids: Vec<&String> = ids.iter().filter(|id| !id.is_empty() && !id.contains(['"', '\\'])).collect();
        if ids.is_empty() {
            return Ok(0);
        }
        let mut call = self.invocation(&scripts::DEAD);
        call.arg(mode);
        for id in ids {
            call.arg(id);
        }
        self.run(&call).await
    }

    async fn set_paused(&self, queue: &str, paused: bool) -> Result<(), RedisError> {
        let mut conn = self.inner.conn.clone();
        let key = self.key("jobs:paused");
        if paused {
            let _: () = conn.sadd(key, queue).await?;
        } else {
            let _: () = conn.srem(key, queue).await?;
            let _: () = conn.publish(self.key("jobs:wake"), "").await?;
        }
        Ok(())
    }

    async fn paused_queues(&self) -> Result<Vec<String>, RedisError> {
        let mut conn = self.inner.conn.clone();
        let mut queues: Vec<String> = conn.smembers(self.key("jobs:paused")).await?;
        queues.sort();
        Ok(queues)
    }
}

impl Inspect for RedisAdapter {
    fn counts(&self) -> BoxFuture<'_, Result<Counts, Error>> {
        Box::pin(async move {
            let jobs = self.all_jobs().await?;
            Ok(jobs.into_iter().map(|job| (job.queue, job.state, 1)).collect())
        })
    }

    fn list<'a>(&'a self, params: &'a ListParams) -> BoxFuture<'a, Result<Vec<JobInfo>, Error>> {
        Box::pin(async move {
            let jobs = self.all_jobs().await?;
            Ok(jobs
                .into_iter()
                .filter(|job| params.queue.as_ref().is_none_or(|q| *q == job.queue))
                .filter(|job| params.state.is_none_or(|s| s == job.state))
                .skip(params.offset)
                .take(params.limit)
                .collect())
        })
    }

    fn find<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<JobInfo>, Error>> {
        forward(self.find_job(id))
    }

    fn retry_dead<'a>(&'a self, ids: &'a [String]) -> BoxFuture<'a, Result<usize, Error>> {
        forward(self.change_dead("retry", ids))
    }

    fn delete_dead<'a>(&'a self, ids: &'a [String]) -> BoxFuture<'a, Result<usize, Error>> {
        forward(self.change_dead("delete", ids))
    }

    fn pause<'a>(&'a self, queue: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        forward(self.set_paused(queue, true))
    }

    fn resume<'a>(&'a self, queue: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        forward(self.set_paused(queue, false))
    }

    fn paused(&self) -> BoxFuture<'_, Result<Vec<String>, Error>> {
        forward(self.paused_queues())
    }
}
