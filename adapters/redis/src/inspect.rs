//! The inspection side: where each job is, look-ups by id, the dead set, paused queues; the
//! [`Inspect`] implementation, whose other parts live in `listing.rs` (list), `actions.rs`
//! (apply), `stats.rs` (counts, queues, history) and `process.rs` (processes, signals).
//!
//! A job's state is where it is: a queue list (ready), a concurrency key's blocked list
//! (blocked), a working hash (running), the schedule and retry sets (scheduled and retrying until
//! due, ready once due and not yet moved), the dead set and the done set (completed).

use chrono::{DateTime, Utc};
use jobs_core::adapter::forward;
use jobs_core::{
    BoxFuture, Counts, Error, HistoryPoint, Inspect, JobAction, JobInfo, JobPage, JobState, ListParams, ProcessCommand,
    ProcessInfo, QueueStats, Target,
};
use redis::AsyncCommands;

use crate::adapter::RedisAdapter;
use crate::envelope::{self, PayloadKeys, Stored};
use crate::error::RedisError;
use crate::scripts;

/// One stored job as a script reports it: where it is and its envelope.
pub(crate) struct Entry {
    /// `q` (a queue list), `b` (a concurrency key's blocked jobs), `w` (a working hash), `s`, `r`,
    /// `d`, `c` (the schedule, retry, dead and done sets).
    pub(crate) kind: String,
    /// The queue for `q`, the concurrency key for `b`, the process for `w`, the score for the sets.
    pub(crate) extra: String,
    /// For `w`: the claim, `started<TAB>worker`.
    pub(crate) claim: String,
    /// The envelope.
    pub(crate) job: String,
}

impl Entry {
    /// The job as a tool sees it, at `now` (server time, float seconds).
    pub(crate) fn info(&self, now: f64) -> (JobInfo, f64) {
        let stored = Stored::parse(&self.job);
        let score = self.extra.parse::<f64>().unwrap_or(0.0);
        let state = match self.kind.as_str() {
            "w" => JobState::Running,
            "b" => JobState::Blocked,
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
        let keys = PayloadKeys::read(&payload);
        let run_at = match self.kind.as_str() {
            "s" | "r" => Some(score),
            _ => stored.enqueued_at.or(stored.created_at),
        };
        let (started, worker) = self.claim.split_once('\t').unzip();
        let time = |seconds: f64| Some(envelope::from_seconds(seconds));
        let info = JobInfo {
            id: stored.jid(|| format!("invalid-{:016x}", fnv(&self.job))),
            job_id: keys.job_id.clone(),
            class: stored.job_class(&keys),
            queue,
            priority: keys.priority.unwrap_or(0),
            state,
            attempts,
            run_at: run_at.and_then(time),
            enqueued_at: stored.created_at.or(stored.enqueued_at).and_then(time),
            started_at: started.and_then(|s| s.parse::<f64>().ok()).and_then(time),
            finished_at: matches!(self.kind.as_str(), "d" | "c").then_some(score).and_then(time),
            worker_id: worker.filter(|w| !w.is_empty()).map(str::to_owned),
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

/// The server's time at the head of a script's reply.
pub(crate) fn server_time(head: Option<String>) -> Result<f64, RedisError> {
    head.and_then(|t| t.parse::<f64>().ok())
        .ok_or_else(|| RedisError::Malformed("a script's reply without the server's time".into()))
}

impl RedisAdapter {
    async fn find_job(&self, id: &str) -> Result<Option<JobInfo>, RedisError> {
        if id.is_empty() || id.contains(['"', '\\']) {
            return Ok(None);
        }
        let mut call = self.invocation(&scripts::FIND);
        call.arg(id);
        let reply: Vec<String> = self.run(&call).await?;
        let mut reply = reply.into_iter();
        let now = server_time(reply.next())?;
        let mut infos = Vec::new();
        while let (Some(kind), Some(extra), Some(claim), Some(job)) =
            (reply.next(), reply.next(), reply.next(), reply.next())
        {
            infos.push(Entry { kind, extra, claim, job }.info(now));
        }
        // The script matches text: keep the job whose jid is `id`, else the latest created of
        // those whose payload's job_id is `id`, with the errors of the earlier ones.
        if let Some((info, _)) = infos.iter().find(|(info, _)| info.id == id) {
            return Ok(Some(info.clone()));
        }
        let mut same_job: Vec<_> = infos.into_iter().filter(|(info, _)| info.job_id.as_deref() == Some(id)).collect();
        same_job.sort_by(|(a, at), (b, bt)| at.total_cmp(bt).then_with(|| a.id.cmp(&b.id)));
        let Some((latest, _)) = same_job.pop() else { return Ok(None) };
        let earlier = same_job.into_iter().flat_map(|(info, _)| info.errors).collect();
        Ok(Some(latest.with_earlier_errors(earlier)))
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

    pub(crate) async fn paused_queues(&self) -> Result<Vec<String>, RedisError> {
        let mut conn = self.inner.conn.clone();
        let mut queues: Vec<String> = conn.smembers(self.key("jobs:paused")).await?;
        queues.sort();
        Ok(queues)
    }
}

impl Inspect for RedisAdapter {
    /// Counted in bounded batches, server side: queue lengths, then the sets a thousand jobs at
    /// a time.
    fn counts(&self) -> BoxFuture<'_, Result<Counts, Error>> {
        forward(self.count_jobs())
    }

    /// Structure by structure, as Sidekiq keeps no order across them: the queue lists (by name,
    /// each oldest job first), the running jobs (by adapter, then claim), then the schedule,
    /// retry, dead and done sets (by score); newest first reverses both orders. The cursor holds
    /// the last job's place and jid, so it stays valid while lists move: pushes and claims at
    /// either end, priority inserts and hand-backs are found again; when the job it stood on was
    /// claimed, an oldest-first walk goes on from the oldest job left (every older one was claimed
    /// too). A job that moves to a later structure (claimed, discarded) may be listed again there.
    /// Each call scans at most a thousand jobs server side; filters are applied there as far as
    /// scores and substrings allow, exactly here.
    fn list<'a>(&'a self, params: &'a ListParams) -> BoxFuture<'a, Result<JobPage, Error>> {
        Box::pin(self.list_jobs(params))
    }

    fn find<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<JobInfo>, Error>> {
        forward(self.find_job(id))
    }

    /// Atomic per batch of jobs (a Lua script each, up to 200 jobs), as Sidekiq's API moves
    /// them: run now and retry push the job into its queue (stamping `enqueued_at`, waking idle
    /// workers), discard moves it to the dead set with Sidekiq's error fields saying so, delete
    /// removes it. A job that moved between the walk and the script is left alone.
    fn apply<'a>(&'a self, action: JobAction, target: &'a Target) -> BoxFuture<'a, Result<u64, Error>> {
        Box::pin(self.apply_action(action, target))
    }

    /// Latency as Sidekiq's: how long ago the job at the list's right end (the next to run) was
    /// enqueued.
    fn queues(&self) -> BoxFuture<'_, Result<Vec<QueueStats>, Error>> {
        forward(self.queue_stats())
    }

    fn history(&self, since: DateTime<Utc>) -> BoxFuture<'_, Result<Vec<HistoryPoint>, Error>> {
        forward(self.read_history(since))
    }

    /// Every live entry of Sidekiq's process set: Rust workers, and Sidekiq's own processes.
    fn processes(&self) -> BoxFuture<'_, Result<Vec<ProcessInfo>, Error>> {
        forward(self.live_processes())
    }

    /// Pushes Sidekiq's `TSTP` (quiet) or `TERM` (stop) onto `ID-signals`, as Sidekiq's Web UI
    /// does: Rust workers and Sidekiq's processes both act on it at their next heartbeat.
    fn signal<'a>(&'a self, id: &'a str, command: ProcessCommand) -> BoxFuture<'a, Result<bool, Error>> {
        forward(self.signal_process(id, command))
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
