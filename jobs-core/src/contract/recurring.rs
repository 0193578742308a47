//! The store side of recurring jobs: the tasks a scheduler runs, and the enqueue of one tick that
//! the store makes happen once, whatever the number of schedulers.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::adapter::{BoxFuture, NewJob};
use super::error::Error;

/// How long a store remembers that a tick of a task was enqueued: a tick older than this (before
/// the newest tick of the same task) may be forgotten, so a scheduler never tries one
/// ([`MissedTicks::Within`] windows are capped below it).
pub const TICK_RETENTION: Duration = Duration::from_secs(24 * 3600);

/// What a scheduler does with the ticks of a task that passed while no scheduler ran (downtime,
/// a paused process): never a flood.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MissedTicks {
    /// Enqueue none of them: only a tick that is due now (at most a minute late) runs.
    Skip,
    /// Enqueue the latest missed tick, once (the default).
    #[default]
    Latest,
    /// Enqueue every missed tick no older than this window (at most [`TICK_RETENTION`] / 2).
    Within(#[serde(with = "seconds")] Duration),
}

mod seconds {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_secs())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_secs(u64::deserialize(d)?))
    }
}

impl fmt::Display for MissedTicks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MissedTicks::Skip => f.write_str("skip"),
            MissedTicks::Latest => f.write_str("latest"),
            MissedTicks::Within(window) => write!(f, "all within {}s", window.as_secs()),
        }
    }
}

impl FromStr for MissedTicks {
    type Err = Error;

    /// `skip`, `latest`, or `all` followed by a window in seconds, minutes or hours (`all 30m`,
    /// `all 2h`, `all 600s`).
    ///
    /// ```
    /// # use jobs_core::MissedTicks;
    /// # use std::time::Duration;
    /// assert_eq!("latest".parse::<MissedTicks>().unwrap(), MissedTicks::Latest);
    /// assert_eq!("all 2h".parse::<MissedTicks>().unwrap(), MissedTicks::Within(Duration::from_secs(7200)));
    /// assert!("all 2d".parse::<MissedTicks>().is_err());
    /// ```
    fn from_str(text: &str) -> Result<Self, Error> {
        let invalid =
            || Error::Config(format!("invalid missed-ticks policy `{text}`: expected skip, latest or `all <N>s|m|h`"));
        match text.trim() {
            "skip" => Ok(MissedTicks::Skip),
            "latest" => Ok(MissedTicks::Latest),
            other => {
                let window = other.strip_prefix("all").ok_or_else(invalid)?.trim();
                let (number, unit) = window.split_at(window.len().saturating_sub(1));
                let number: u64 = number.trim().parse().map_err(|_| invalid())?;
                let seconds = match unit {
                    "s" => number,
                    "m" => number * 60,
                    "h" => number * 3600,
                    _ => return Err(invalid()),
                };
                MissedTicks::within(Duration::from_secs(seconds))
            }
        }
    }
}

impl MissedTicks {
    /// Every missed tick within `window`; an error when the window is longer than half of
    /// [`TICK_RETENTION`] (ticks older than that may be forgotten by the store).
    pub fn within(window: Duration) -> Result<Self, Error> {
        if window > TICK_RETENTION / 2 {
            return Err(Error::Config(format!(
                "a missed-ticks window of {}s is longer than {}s, the longest a store remembers ticks for",
                window.as_secs(),
                (TICK_RETENTION / 2).as_secs()
            )));
        }
        Ok(MissedTicks::Within(window))
    }
}

/// A recurring task as stored: what to enqueue and when, in the shape of Solid Queue's
/// `recurring.yml` entries (key, class, arguments, schedule, queue, priority, description).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecurringTask {
    /// The task's unique key (`nightly_report`).
    pub key: String,
    /// When: a cron expression (seconds optional), an `@hourly`-style nickname, or a phrase
    /// (`every 5 minutes`).
    pub schedule: String,
    /// The IANA time zone the schedule is read in (`Europe/Paris`); `None` is UTC.
    #[serde(default)]
    pub time_zone: Option<String>,
    /// The job class (its wire name) to enqueue.
    pub class: String,
    /// The job's arguments, as Active Job arguments.
    #[serde(default)]
    pub arguments: Vec<Value>,
    /// The queue; `None` is the class's default queue.
    #[serde(default)]
    pub queue: Option<String>,
    /// The priority; `None` is the class's default.
    #[serde(default)]
    pub priority: Option<i32>,
    /// What the task is for, for people.
    #[serde(default)]
    pub description: Option<String>,
    /// What to do with ticks missed while no scheduler ran.
    #[serde(default)]
    pub missed: MissedTicks,
    /// Declared in code or in a recurring file (replaced or removed at each start), rather than
    /// added at run time through the operations API (kept until removed).
    #[serde(default)]
    pub is_static: bool,
}

impl RecurringTask {
    /// The task as JSON, as stores keep its definition.
    pub fn to_json(&self) -> Result<String, Error> {
        serde_json::to_string(self).map_err(|e| Error::InvalidPayload(e.to_string()))
    }

    /// A task stored with [`to_json`](RecurringTask::to_json).
    ///
    /// ```
    /// # use jobs_core::RecurringTask;
    /// let task = RecurringTask::from_json(r#"{"key":"k","schedule":"@daily","class":"Report"}"#).unwrap();
    /// assert_eq!(RecurringTask::from_json(&task.to_json().unwrap()).unwrap(), task);
    /// ```
    pub fn from_json(json: &str) -> Result<Self, Error> {
        serde_json::from_str(json).map_err(|e| Error::InvalidPayload(format!("invalid recurring task: {e}")))
    }
}

/// A stored task with its run-time state: paused or not, and its last run.
#[derive(Clone, Debug, PartialEq)]
pub struct RecurringTaskState {
    /// The task.
    pub task: RecurringTask,
    /// A paused task enqueues nothing until resumed.
    pub paused: bool,
    /// The tick time of its latest enqueued run.
    pub last_run_at: Option<DateTime<Utc>>,
    /// The job id (`job_id`, a UUID) of its latest enqueued run.
    pub last_job_id: Option<String>,
}

/// What came of [`RecurringStore::enqueue_tick`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TickOutcome {
    /// This call stored the job: the store's provider id for it, if it gives one.
    Enqueued(Option<String>),
    /// That tick of that task was enqueued already (by another scheduler); nothing stored.
    Taken,
    /// The task is paused or no longer stored; nothing stored.
    Inactive,
}

/// The tick a recurring job was enqueued for, carried in its payload under the key `recurring`
/// (which Active Job ignores) and read with
/// [`JobContext::recurring`](crate::JobContext::recurring).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecurringRun {
    /// The task's key.
    pub task: String,
    /// The tick's time: when the schedule said the task should run.
    #[serde(with = "tick_time")]
    pub run_at: DateTime<Utc>,
}

mod tick_time {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&crate::contract::format_time(t))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        crate::contract::parse_time(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// The side of a storing adapter that recurring tasks live in, reached through
/// [`Adapter::recurring`](super::adapter::Adapter::recurring).
///
/// Guarantees, proven for each adapter by the conformance suite:
/// * `enqueue_tick` stores the job only if the task is stored and not paused and no job was
///   stored for the same task and tick before, atomically with that check (a unique key on
///   task and tick in SQL, `SET NX` in a Lua script on Redis), so that any number of schedulers
///   enqueue each tick once; it records the tick as the task's last run (if newer) with the
///   job's id;
/// * a tick is remembered for at least [`TICK_RETENTION`] after the task's newest tick;
/// * `upsert_tasks` replaces the definitions of tasks with the same keys and keeps their state
///   (paused, last run); `remove_tasks` forgets tasks and their state (their ticks may be kept
///   until they expire), never a job already stored;
/// * `set_paused` pauses or resumes a stored task and says whether the task exists.
pub trait RecurringStore: Send + Sync {
    /// Every stored task with its state, ordered by key.
    fn tasks(&self) -> BoxFuture<'_, Result<Vec<RecurringTaskState>, Error>>;

    /// Adds tasks, or replaces the definition of those already stored under the same keys.
    fn upsert_tasks<'a>(&'a self, tasks: &'a [RecurringTask]) -> BoxFuture<'a, Result<(), Error>>;

    /// Removes the tasks with these keys; returns how many there were.
    fn remove_tasks<'a>(&'a self, keys: &'a [String]) -> BoxFuture<'a, Result<usize, Error>>;

    /// Pauses (`true`) or resumes (`false`) the task; `false` when no such task is stored.
    fn set_paused<'a>(&'a self, key: &'a str, paused: bool) -> BoxFuture<'a, Result<bool, Error>>;

    /// Stores `job`, the run of task `key` at tick `run_at`, unless that tick was enqueued
    /// already or the task is paused or gone: see the trait's guarantees.
    fn enqueue_tick<'a>(
        &'a self,
        key: &'a str,
        run_at: DateTime<Utc>,
        job: &'a NewJob,
    ) -> BoxFuture<'a, Result<TickOutcome, Error>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_task_reads_back_from_json_with_defaults() {
        let task: RecurringTask = serde_json::from_str(r#"{"key":"k","schedule":"@hourly","class":"Report"}"#).unwrap();
        assert_eq!(task.missed, MissedTicks::Latest);
        assert!(task.arguments.is_empty() && !task.is_static);
        let json =
            serde_json::to_string(&RecurringTask { missed: MissedTicks::Within(Duration::from_secs(60)), ..task })
                .unwrap();
        assert!(json.contains(r#""missed":{"within":60}"#), "{json}");
    }

    #[test]
    fn a_window_longer_than_the_retention_is_refused() {
        assert!(MissedTicks::within(TICK_RETENTION).is_err());
        assert!("all 13h".parse::<MissedTicks>().is_err());
        assert_eq!("all 30m".parse::<MissedTicks>().unwrap(), MissedTicks::Within(Duration::from_secs(1800)));
        assert_eq!("skip".parse::<MissedTicks>().unwrap(), MissedTicks::Skip);
    }
}
