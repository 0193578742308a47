//! The test adapter: records enqueued jobs and performs them on demand, with Rails' helpers.

mod flow;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::contract::{Adapter, BoxFuture, Capabilities, Error, Job, JobData, NewJob, Outcome};
use crate::perform::execution::execute;
use crate::runtime::Runtime;

/// Records every enqueued job instead of running it; tests then assert on them and perform them
/// on demand, as with Rails' `ActiveJob::TestHelper`.
///
/// ```
/// # use jobs_core::{Runtime, adapters::{TestAdapter, JobFilter}};
/// # async fn demo() -> Result<(), jobs_core::Error> {
/// let jobs = TestAdapter::new();
/// let runtime = Runtime::builder().adapter(jobs.clone()).build()?;
/// runtime.scope(async {
///     // ... code under test calls SomeJob::perform_later(..) ...
///     jobs.assert_enqueued_jobs(0, JobFilter::any());
///     jobs.perform_enqueued_jobs(JobFilter::any()).await?;
///     Ok::<_, jobs_core::Error>(())
/// }).await
/// # }
/// ```
#[derive(Clone, Debug, Default)]
pub struct TestAdapter {
    state: Arc<Mutex<Recorded>>,
}

#[derive(Debug, Default)]
struct Recorded {
    next_id: u64,
    enqueued: Vec<JobData>,
    performed: Vec<JobData>,
    /// Unique keys: the job id that took each, and until when at most.
    unique: HashMap<String, (String, Option<DateTime<Utc>>)>,
    /// Starts counted per key and window, for throttles and limiters.
    starts: HashMap<(String, i64), u64>,
}

/// Selects jobs by class, queue and due time; the `only:`, `except:`, `queue:` and `at:` of Rails'
/// test helpers.
#[derive(Clone, Debug, Default)]
pub struct JobFilter {
    only: Vec<&'static str>,
    except: Vec<&'static str>,
    queue: Option<String>,
    at: Option<DateTime<Utc>>,
}

impl JobFilter {
    /// Every job.
    pub fn any() -> Self {
        JobFilter::default()
    }

    /// Only jobs of class `J` (may be called for several classes).
    pub fn only<J: Job>(mut self) -> Self {
        self.only.push(J::NAME);
        self
    }

    /// Not jobs of class `J`.
    pub fn except<J: Job>(mut self) -> Self {
        self.except.push(J::NAME);
        self
    }

    /// Only jobs on `queue`.
    pub fn queue(mut self, queue: impl Into<String>) -> Self {
        self.queue = Some(queue.into());
        self
    }

    /// Only jobs due at or before `time` (jobs enqueued without a schedule are always due).
    pub fn at(mut self, time: DateTime<Utc>) -> Self {
        self.at = Some(time);
        self
    }

    fn matches(&self, data: &JobData) -> bool {
        (self.only.is_empty() || self.only.contains(&data.job_class.as_str()))
            && !self.except.contains(&data.job_class.as_str())
            && self.queue.as_ref().is_none_or(|q| *q == data.queue_name)
            && match (self.at, data.scheduled_at) {
                (Some(limit), Some(due)) => due <= limit,
                _ => true,
            }
    }
}

/// What an enqueued or performed job is expected to look like, for
/// [`TestAdapter::assert_enqueued_with`]. Unset parts match anything.
#[derive(Clone, Debug, Default)]
pub struct JobMatch {
    class: Option<&'static str>,
    arguments: Option<Result<Vec<Value>, String>>,
    queue: Option<String>,
    priority: Option<Option<i32>>,
    at: Option<Option<DateTime<Utc>>>,
}

impl JobMatch {
    /// A job of class `J`.
    pub fn class<J: Job>() -> Self {
        JobMatch { class: Some(J::NAME), ..JobMatch::default() }
    }

    /// This very job: its class and its arguments, encoded as the current runtime encodes them.
    pub fn job<J: Job>(job: &J) -> Self {
        let runtime = Runtime::current().ok();
        let cx = runtime.as_ref().map(Runtime::encode_context).unwrap_or_default();
        JobMatch { arguments: Some(job.to_arguments(&cx).map_err(|e| e.to_string())), ..JobMatch::class::<J>() }
    }

    /// With these serialized arguments.
    pub fn arguments(mut self, arguments: Vec<Value>) -> Self {
        self.arguments = Some(Ok(arguments));
        self
    }

    /// On this queue.
    pub fn queue(mut self, queue: impl Into<String>) -> Self {
        self.queue = Some(queue.into());
        self
    }

    /// With this priority.
    pub fn priority(mut self, priority: Option<i32>) -> Self {
        self.priority = Some(priority);
        self
    }

    /// Scheduled at this time (`None`: not scheduled).
    pub fn at(mut self, at: Option<DateTime<Utc>>) -> Self {
        self.at = Some(at);
        self
    }

    fn matches(&self, data: &JobData) -> bool {
        self.class.is_none_or(|c| c == data.job_class)
            && self.arguments.as_ref().is_none_or(|a| a.as_ref().is_ok_and(|a| *a == data.arguments))
            && self.queue.as_ref().is_none_or(|q| *q == data.queue_name)
            && self.priority.is_none_or(|p| p == data.priority)
            && self.at.is_none_or(|at| at == data.scheduled_at)
    }
}

impl TestAdapter {
    /// An empty recorder.
    pub fn new() -> Self {
        TestAdapter::default()
    }

    fn recorded(&self) -> MutexGuard<'_, Recorded> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Jobs enqueued and not yet performed, oldest first.
    pub fn enqueued_jobs(&self) -> Vec<JobData> {
        self.recorded().enqueued.clone()
    }

    /// Jobs performed so far through this adapter, in order.
    pub fn performed_jobs(&self) -> Vec<JobData> {
        self.recorded().performed.clone()
    }

    /// Forgets every enqueued and performed job.
    pub fn clear(&self) {
        let mut recorded = self.recorded();
        recorded.enqueued.clear();
        recorded.performed.clear();
        recorded.unique.clear();
        recorded.starts.clear();
    }

    /// Asserts that exactly `count` enqueued jobs match `filter`.
    #[track_caller]
    pub fn assert_enqueued_jobs(&self, count: usize, filter: JobFilter) {
        let jobs = self.enqueued_jobs();
        let found = jobs.iter().filter(|d| filter.matches(d)).count();
        assert_eq!(
            found,
            count,
            "expected {count} enqueued jobs matching {filter:?}, found {found}: {}",
            describe(&jobs)
        );
    }

    /// Asserts that no job matching `filter` is enqueued.
    #[track_caller]
    pub fn assert_no_enqueued_jobs(&self, filter: JobFilter) {
        self.assert_enqueued_jobs(0, filter);
    }

    /// Asserts that a job matching `expected` is enqueued; returns it.
    #[track_caller]
    pub fn assert_enqueued_with(&self, expected: JobMatch) -> JobData {
        let jobs = self.enqueued_jobs();
        match jobs.iter().find(|d| expected.matches(d)) {
            Some(found) => found.clone(),
            None => panic!("no enqueued job matches {expected:?}; enqueued: {}", describe(&jobs)),
        }
    }

    /// Asserts that exactly `count` performed jobs match `filter`.
    #[track_caller]
    pub fn assert_performed_jobs(&self, count: usize, filter: JobFilter) {
        let jobs = self.performed_jobs();
        let found = jobs.iter().filter(|d| filter.matches(d)).count();
        assert_eq!(
            found,
            count,
            "expected {count} performed jobs matching {filter:?}, found {found}: {}",
            describe(&jobs)
        );
    }

    /// Asserts that a job matching `expected` was performed; returns it.
    #[track_caller]
    pub fn assert_performed_with(&self, expected: JobMatch) -> JobData {
        let jobs = self.performed_jobs();
        match jobs.iter().find(|d| expected.matches(d)) {
            Some(found) => found.clone(),
            None => panic!("no performed job matches {expected:?}; performed: {}", describe(&jobs)),
        }
    }

    /// Performs the enqueued jobs matching `filter`, oldest first, on the current runtime,
    /// including matching jobs they enqueue in turn (retries included). Returns how many ran;
    /// stops at the first failure nothing handled, with [`Error::Job`].
    pub async fn perform_enqueued_jobs(&self, filter: JobFilter) -> Result<usize, Error> {
        let runtime = Runtime::current()?;
        let mut count = 0;
        loop {
            let next = {
                let mut recorded = self.recorded();
                let position = recorded.enqueued.iter().position(|d| filter.matches(d));
                position.map(|p| recorded.enqueued.remove(p))
            };
            let Some(data) = next else { return Ok(count) };
            let executed = execute(&runtime, Box::new(data), Default::default()).await;
            if let Some(data) = executed.data {
                self.recorded().performed.push(*data);
            }
            count += 1;
            if let (Outcome::Failed, Some(error)) = (executed.outcome, executed.error) {
                return Err(Error::Job(error));
            }
        }
    }
}

fn describe(jobs: &[JobData]) -> String {
    if jobs.is_empty() {
        return "none".to_owned();
    }
    let list: Vec<String> = jobs
        .iter()
        .map(|d| {
            format!("{}({}) on {} at {:?}", d.job_class, Value::from(d.arguments.clone()), d.queue_name, d.scheduled_at)
        })
        .collect();
    list.join("; ")
}

impl Adapter for TestAdapter {
    fn name(&self) -> &str {
        "Test"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities { scheduling: true, priorities: true, durable: false, bulk: true, pause: false }
    }

    fn enqueue_all<'a>(&'a self, jobs: &'a [NewJob]) -> BoxFuture<'a, Result<Vec<Option<String>>, Error>> {
        Box::pin(async move {
            let mut recorded = self.recorded();
            Ok(jobs.iter().map(|job| Some(recorded.record(job))).collect())
        })
    }

    fn flow(&self) -> Option<&dyn crate::contract::FlowStore> {
        Some(self)
    }
}

impl Recorded {
    /// Records `job` as enqueued; returns its provider id.
    fn record(&mut self, job: &NewJob) -> String {
        self.next_id += 1;
        let id = format!("test-{}", self.next_id);
        self.enqueued.push(JobData { provider_job_id: Some(id.clone()), ..job.data().clone() });
        id
    }
}
