//! `Recurring`: a recurring task declared in code.

use serde_json::Value;

use crate::contract::{Error, Job, MissedTicks, RecurringTask};
use crate::enqueue::PendingJob;
use crate::runtime::Runtime;

use super::schedule::Schedule;

/// A recurring task declared in code: a key, a schedule, and the job to enqueue on each tick.
///
/// Give it to a worker with [`WorkerBuilder::recurring`](crate::WorkerBuilder::recurring) (a
/// static task, replaced at each start like the tasks of a recurring file), or add it at run time
/// with [`RecurringTasks::add`](crate::RecurringTasks::add) (a dynamic task, kept until removed).
///
/// ```
/// # use jobs_core::{Recurring, MissedTicks};
/// # use serde_json::json;
/// let nightly = Recurring::new("nightly-report", "0 3 * * *")
///     .class("Report", vec![json!("daily")])
///     .queue("reports")
///     .priority(10)
///     .time_zone("Europe/Paris")
///     .description("the report of the day before")
///     .missed(MissedTicks::Latest);
/// ```
///
/// With a job value, `.job(Report { kind: "daily".into() })` takes the class and its encoded
/// arguments from it (and its default queue and priority).
#[derive(Debug)]
pub struct Recurring {
    key: String,
    schedule: String,
    time_zone: Option<String>,
    what: Option<What>,
    queue: Option<String>,
    priority: Option<i32>,
    description: Option<String>,
    missed: MissedTicks,
}

#[derive(Debug)]
enum What {
    Job(PendingJob),
    Class(String, Vec<Value>),
}

impl Recurring {
    /// A task `key` on `schedule`: a cron expression (seconds optional), an `@daily`-style
    /// nickname or a phrase (`every 5 minutes`), read by [`Schedule::parse`].
    pub fn new(key: impl Into<String>, schedule: impl Into<String>) -> Self {
        Recurring {
            key: key.into(),
            schedule: schedule.into(),
            time_zone: None,
            what: None,
            queue: None,
            priority: None,
            description: None,
            missed: MissedTicks::default(),
        }
    }

    /// Enqueues `job` (these very arguments) on each tick, in its default queue and priority
    /// unless told otherwise.
    pub fn job<J: Job>(mut self, job: J) -> Self {
        self.what = Some(What::Job(PendingJob::new(job)));
        self
    }

    /// Enqueues a job of class `class` (its wire name) with these arguments, in Active Job's
    /// encoding, on each tick: for classes this process does not link, such as Rails jobs.
    pub fn class(mut self, class: impl Into<String>, arguments: Vec<Value>) -> Self {
        self.what = Some(What::Class(class.into(), arguments));
        self
    }

    /// The queue (default: the job's).
    pub fn queue(mut self, queue: impl Into<String>) -> Self {
        self.queue = Some(queue.into());
        self
    }

    /// The priority, lower first (default: the job's).
    pub fn priority(mut self, priority: i32) -> Self {
        self.priority = Some(priority);
        self
    }

    /// The IANA time zone the schedule is read in (default UTC), e.g. `Europe/Paris`.
    pub fn time_zone(mut self, zone: impl Into<String>) -> Self {
        self.time_zone = Some(zone.into());
        self
    }

    /// What the task is for, shown by `jobs recurring`.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// What to do with ticks missed while no scheduler ran (default: enqueue the latest).
    pub fn missed(mut self, missed: MissedTicks) -> Self {
        self.missed = missed;
        self
    }

    /// The task as stored, its job's arguments encoded for `runtime`; an error names the task
    /// when the schedule or time zone is invalid or no job was given.
    pub fn to_task(&self, runtime: &Runtime) -> Result<RecurringTask, Error> {
        let (class, arguments, queue, priority) = match &self.what {
            Some(What::Job(job)) => {
                let data = job.to_job_data(runtime)?;
                (data.job_class, data.arguments, Some(data.queue_name), data.priority)
            }
            Some(What::Class(class, arguments)) => (class.clone(), arguments.clone(), None, None),
            None => {
                return Err(Error::Config(format!(
                    "recurring task `{}` has no job: give it one with .job(..) or .class(..)",
                    self.key
                )));
            }
        };
        let task = RecurringTask {
            key: self.key.clone(),
            schedule: self.schedule.clone(),
            time_zone: self.time_zone.clone(),
            class,
            arguments,
            queue: self.queue.clone().or(queue),
            priority: self.priority.or(priority),
            description: self.description.clone(),
            missed: self.missed,
            is_static: false,
        };
        validate(&task)?;
        Ok(task)
    }
}

/// Checks a task before it is stored or scheduled: a key, a class, a schedule that parses in its
/// time zone. The error names the task and its schedule.
pub(crate) fn validate(task: &RecurringTask) -> Result<Schedule, Error> {
    if task.key.trim().is_empty() {
        return Err(Error::Config("a recurring task needs a key".into()));
    }
    if task.class.trim().is_empty() {
        return Err(Error::Config(format!("recurring task `{}` has no job class", task.key)));
    }
    if let MissedTicks::Within(window) = task.missed {
        MissedTicks::within(window).map_err(|e| Error::Config(format!("recurring task `{}`: {e}", task.key)))?;
    }
    Schedule::parse(&task.schedule, task.time_zone.as_deref())
        .map_err(|e| Error::Config(format!("recurring task `{}`: {}", task.key, config_message(e))))
}

/// The message of a configuration error, without its `configuration error:` prefix.
pub(crate) fn config_message(error: Error) -> String {
    match error {
        Error::Config(message) => message,
        other => other.to_string(),
    }
}

/// The static task of a job declared with `#[job(cron = "...")]`: keyed by its class, no
/// arguments, its default queue and priority.
pub(crate) fn from_registration(registration: &crate::runtime::JobRegistration) -> Option<RecurringTask> {
    let cron = registration.cron()?;
    Some(RecurringTask {
        key: registration.name().to_owned(),
        schedule: cron.to_owned(),
        time_zone: None,
        class: registration.name().to_owned(),
        arguments: Vec::new(),
        queue: Some(registration.queue().to_owned()),
        priority: registration.priority(),
        description: None,
        missed: MissedTicks::default(),
        is_static: true,
    })
}
