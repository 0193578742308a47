//! Listing jobs with filters and keyset pages, in bounded batches (`walk.lua`).
//!
//! There is no order across Sidekiq's structures, so a walk goes structure by structure: the
//! queue lists (by name, each from its oldest job, at the right end, to its newest), the
//! blocked lists of concurrency keys (by key, each in the order its jobs will be made ready), the
//! working hashes (by process, then claim token), the schedule, retry, dead and done sets (by
//! score: due time, time of death, time of completion). Newest first reverses both orders.
//!
//! The cursor says where the last job of a page was: its structure, its position there and its
//! jid. In a set, the position is its score (and, among jobs of the same score, its rank,
//! found again by its jid). In a queue list (or a blocked list) it is the job's distance from
//! the end the walk started at, which stays valid while jobs are pushed at the other end; it is
//! checked against the jid, and looked for where the list's change of length says it went
//! (claims take jobs from the right end) and nearby (priority inserts, hand-backs). A job no
//! longer in the list was claimed with every job older than it: an oldest-first walk goes on
//! from the oldest job left, a newest-first walk has seen them all.
//!
//! Each batch scans at most [`BATCH`] jobs server side, keeping those that can match (queue,
//! state, due and finish times by score, text and class as substrings); the filter's exact
//! meaning ([`JobFilter::matches`]) is applied here, to the few that come back.

use jobs_core::{Error, JobFilter, JobInfo, JobPage, JobState, ListParams};
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};

use crate::adapter::RedisAdapter;
use crate::envelope;
use crate::error::RedisError;
use crate::inspect::{Entry, server_time};
use crate::scripts;

/// How many jobs one call of `walk.lua` scans at most.
pub(crate) const BATCH: usize = 1000;

/// Where a walk stands: after the job at `position` of structure `kind`/`name`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Cursor {
    /// Newest first.
    #[serde(rename = "d")]
    pub(crate) desc: bool,
    /// `q`, `b`, `w`, `s`, `r`, `d` or `c` (see `walk.lua`).
    #[serde(rename = "k")]
    pub(crate) kind: String,
    /// The queue (`q`), the concurrency key (`b`) or the process (`w`).
    #[serde(rename = "n")]
    pub(crate) name: String,
    /// The position: distance from the walk's end (`q`, `b`), token (`w`), score (sets).
    #[serde(rename = "p")]
    pub(crate) position: String,
    /// The list's length then (`q`, `b`).
    #[serde(rename = "l")]
    pub(crate) length: String,
    /// The jid of the job at the position; empty to trust the position as it is.
    #[serde(rename = "j")]
    pub(crate) jid: String,
}

impl Cursor {
    fn encode(&self) -> String {
        serde_json::to_string(self).expect("plain data serializes")
    }

    fn decode(text: &str, desc: bool) -> Result<Cursor, Error> {
        let cursor: Cursor = serde_json::from_str(text)
            .map_err(|e| Error::Config(format!("malformed list cursor `{text}` for Redis: {e}")))?;
        if cursor.desc != desc || rank(&cursor.kind).is_none() {
            return Err(Error::Config(format!("list cursor `{text}` is not one of this listing's (order or kind)")));
        }
        Ok(cursor)
    }
}

/// Where a structure kind comes in an oldest-first walk.
fn rank(kind: &str) -> Option<usize> {
    ["q", "b", "w", "s", "r", "d", "c"].iter().position(|k| *k == kind)
}

/// A job a walk found, with the cursor that stands on it.
pub(crate) struct Found {
    pub(crate) info: JobInfo,
    pub(crate) entry: Entry,
    pub(crate) cursor: Cursor,
}

/// What a walk looks for.
pub(crate) struct Walk<'a> {
    pub(crate) filter: &'a JobFilter,
    /// Only these jids (`None`: any).
    pub(crate) ids: Option<&'a [String]>,
    pub(crate) desc: bool,
}

/// A batch's reply: the server's time, the jobs found, and where to go on (`None`: the walk is
/// over).
pub(crate) struct Batch {
    pub(crate) now: f64,
    pub(crate) found: Vec<Found>,
    pub(crate) resume: Option<Cursor>,
}

/// A text that appears as it is in the stored JSON wherever it appears in a string value:
/// without the characters JSON escapes.
fn verbatim(text: &str) -> bool {
    !text.chars().any(|c| matches!(c, '"' | '\\') || c.is_control())
}

/// A time as a loose score bound: a microsecond wider, so that rounding never drops a match
/// (the exact filter runs on what comes back).
fn bound(time: chrono::DateTime<chrono::Utc>, widen: f64) -> String {
    format!("{:.6}", envelope::seconds(time) + widen)
}

impl Walk<'_> {
    /// The structures to walk, in order: every queue list or one, the working hashes, the sets
    /// the filter's state and times allow.
    async fn plan(&self, adapter: &RedisAdapter) -> Result<Vec<(&'static str, String)>, RedisError> {
        let filter = self.filter;
        let state = filter.state;
        let wants = |s: JobState| state.is_none_or(|state| state == s);
        let finished = filter.finished_before.is_some();
        let mut conn = adapter.inner.conn.clone();
        let mut plan: Vec<(&'static str, String)> = Vec::new();
        if wants(JobState::Ready) && !finished {
            let mut queues: Vec<String> = match &filter.queue {
                Some(queue) => vec![queue.clone()],
                None => conn.smembers(adapter.key("queues")).await?,
            };
            queues.sort();
            plan.extend(queues.into_iter().map(|q| ("q", q)));
        }
        if wants(JobState::Blocked) && !finished {
            let mut keys: Vec<String> = conn.smembers(adapter.key("jobs:blocked-keys")).await?;
            keys.sort();
            plan.extend(keys.into_iter().map(|k| ("b", k)));
        }
        if wants(JobState::Running) && !finished {
            let mut identities: Vec<String> = conn.smembers(adapter.key("jobs:processes")).await?;
            identities.sort();
            plan.extend(identities.into_iter().map(|i| ("w", i)));
        }
        if (wants(JobState::Scheduled) || wants(JobState::Ready)) && !finished {
            plan.push(("s", String::new()));
        }
        if (wants(JobState::Retrying) || wants(JobState::Ready)) && !finished {
            plan.push(("r", String::new()));
        }
        if wants(JobState::Dead) {
            plan.push(("d", String::new()));
        }
        if wants(JobState::Completed) {
            plan.push(("c", String::new()));
        }
        if self.desc {
            plan.reverse();
        }
        Ok(plan)
    }

    /// Up to `want` matching jobs from `start` on, in as many bounded batches as it takes.
    pub(crate) async fn next(
        &self,
        adapter: &RedisAdapter,
        start: Option<Cursor>,
        want: usize,
    ) -> Result<Batch, RedisError> {
        let plan = self.plan(adapter).await?;
        let key = |kind: &str, name: &str| (rank(kind).unwrap_or(0), name.to_owned());
        let mut at = match &start {
            None => 0,
            Some(cursor) => {
                let here = key(&cursor.kind, &cursor.name);
                let after = |step: &(&str, String)| {
                    let there = key(step.0, &step.1);
                    if self.desc { there <= here } else { there >= here }
                };
                plan.iter().position(after).unwrap_or(plan.len())
            }
        };
        let mut position = start.filter(|c| plan.get(at).is_some_and(|(k, n)| *k == c.kind && *n == c.name));
        let mut found = Vec::new();
        let mut now = 0.0;
        while at < plan.len() && found.len() < want {
            let (kind, name) = &plan[at];
            let reply = self.batch(adapter, kind, name, position.as_ref(), want - found.len()).await?;
            now = reply.now;
            found.extend(reply.found);
            match reply.resume {
                Some(resume) => position = Some(resume),
                None => {
                    at += 1;
                    position = None;
                }
            }
        }
        let resume = match position {
            Some(cursor) => Some(cursor),
            None => plan.get(at).map(|(kind, name)| Cursor {
                desc: self.desc,
                kind: (*kind).to_owned(),
                name: name.clone(),
                ..Cursor::default()
            }),
        };
        if now == 0.0 {
            let mut conn = adapter.inner.conn.clone();
            let (secs, micros): (u64, u64) = redis::cmd("TIME").query_async(&mut conn).await?;
            now = secs as f64 + micros as f64 / 1e6;
        }
        Ok(Batch { now, found, resume })
    }

    /// One call of `walk.lua` on one structure; `resume` is `None` once it is walked through.
    async fn batch(
        &self,
        adapter: &RedisAdapter,
        kind: &str,
        name: &str,
        from: Option<&Cursor>,
        want: usize,
    ) -> Result<Batch, RedisError> {
        let filter = self.filter;
        let set = matches!(kind, "s" | "r" | "d" | "c");
        let (mut lo, mut hi) = (String::new(), String::new());
        if matches!(kind, "s" | "r") {
            lo = filter.run_after.map(|t| bound(t, -1e-6)).unwrap_or_default();
            hi = filter.run_before.map(|t| bound(t, 1e-6)).unwrap_or_default();
        } else if set {
            hi = filter.finished_before.map(|t| bound(t, 1e-6)).unwrap_or_default();
        }
        let mode = match (kind, filter.state) {
            ("s", Some(JobState::Scheduled)) | ("r", Some(JobState::Retrying)) => "future",
            ("s" | "r", Some(JobState::Ready)) => "due",
            _ => "",
        };
        let class = filter.class.as_deref().filter(|c| verbatim(c)).map(|c| format!("\"{c}\""));
        let text = filter.text.clone().filter(|t| verbatim(t));
        let queue =
            filter.queue.as_deref().filter(|q| kind != "q" && verbatim(q)).map(|q| format!("\"queue\":\"{q}\""));

        let mut call = adapter.invocation(&scripts::WALK);
        let from = from.cloned().unwrap_or_default();
        call.arg(if self.desc { "desc" } else { "asc" })
            .arg(kind)
            .arg(name)
            .arg(&from.position)
            .arg(&from.length)
            .arg(&from.jid)
            .arg(BATCH)
            .arg(want.max(1))
            .arg(lo)
            .arg(hi)
            .arg(mode)
            .arg(class.unwrap_or_default())
            .arg(text.unwrap_or_default())
            .arg(queue.unwrap_or_default());
        for id in self.ids.unwrap_or_default() {
            call.arg(id);
        }
        let reply: Vec<String> = adapter.run(&call).await?;
        let mut reply = reply.into_iter();
        let now = server_time(reply.next())?;
        let exhausted = reply.next().as_deref() == Some("1");
        let (position, length, jid) =
            (reply.next().unwrap_or_default(), reply.next().unwrap_or_default(), reply.next().unwrap_or_default());
        let mut found = Vec::new();
        while let (Some(at), Some(claim), Some(job)) = (reply.next(), reply.next(), reply.next()) {
            let extra = if set { at.clone() } else { name.to_owned() };
            let entry = Entry { kind: kind.to_owned(), extra, claim, job };
            let (info, _) = entry.info(now);
            if !filter.matches(&info) || self.ids.is_some_and(|ids| !ids.contains(&info.id)) {
                continue;
            }
            let cursor = Cursor {
                desc: self.desc,
                kind: kind.to_owned(),
                name: name.to_owned(),
                position: at,
                length: length.clone(),
                jid: if info.id.starts_with("invalid-") { String::new() } else { info.id.clone() },
            };
            found.push(Found { info, entry, cursor });
        }
        let resume = (!exhausted).then(|| Cursor {
            desc: self.desc,
            kind: kind.to_owned(),
            name: name.to_owned(),
            position,
            length,
            jid,
        });
        Ok(Batch { now, found, resume })
    }
}

impl RedisAdapter {
    pub(crate) async fn list_jobs(&self, params: &ListParams) -> Result<JobPage, Error> {
        let start = params.after.as_deref().map(|text| Cursor::decode(text, params.newest_first)).transpose()?;
        if params.limit == 0 {
            return Ok(JobPage { jobs: Vec::new(), next: params.after.clone() });
        }
        let walk = Walk { filter: &params.filter, ids: None, desc: params.newest_first };
        let mut batch = walk.next(self, start, params.limit + 1).await?;
        let next = (batch.found.len() > params.limit).then(|| batch.found[params.limit - 1].cursor.encode());
        batch.found.truncate(params.limit);
        Ok(JobPage { jobs: batch.found.into_iter().map(|f| f.info).collect(), next })
    }
}
