//! The names of everything jobs measures and traces: metric names and units, attribute (label)
//! keys and the values of `messaging.operation.type`, following OpenTelemetry's semantic
//! conventions for messaging where they define a name, under `jobs.` where they do not.
//!
//! Names are in OpenTelemetry's dotted form; Prometheus exporters write dots as underscores and
//! may add the unit and `_total` (`jobs.queue.latency` → `jobs_queue_latency_seconds`).

use std::fmt;

use metrics::Unit;

/// Counter, `{message}`: jobs enqueued (one per job, bulk enqueues included).
pub const SENT_MESSAGES: &str = "messaging.client.sent.messages";
/// Histogram, seconds: how long a perform took, callbacks and error handling included.
pub const PROCESS_DURATION: &str = "messaging.process.duration";
/// Counter, `{job}`: runs that finished, whatever their outcome (label [`OUTCOME`]).
pub const PROCESSED: &str = "jobs.processed";
/// Counter, `{job}`: runs that failed with an error nothing handled (the worker's policy decides).
pub const FAILED: &str = "jobs.failed";
/// Counter, `{job}`: runs a `retry_on` enqueued again.
pub const RETRIED: &str = "jobs.retried";
/// Counter, `{job}`: runs discarded (`discard_on`, or `retry_on` out of attempts with a handler).
pub const DISCARDED: &str = "jobs.discarded";
/// Counter, `{job}`: continuable jobs enqueued again with their progress.
pub const RESUMED: &str = "jobs.resumed";
/// Histogram, seconds: from when a job was due (scheduled, else enqueued) to when it started.
pub const QUEUE_LATENCY: &str = "jobs.queue.latency";
/// Gauge, `{job}`: jobs of a queue in a state (label [`STATE`]: scheduled, ready, running,
/// retrying), sampled from the store by workers.
pub const QUEUE_SIZE: &str = "jobs.queue.size";
/// Gauge, seconds: how long the oldest ready job of a queue has been due, sampled from the store.
pub const OLDEST_READY_AGE: &str = "jobs.queue.oldest_ready_age";
/// Gauge, `{job}`: jobs of a queue in the dead set, sampled from the store.
pub const DEAD: &str = "jobs.dead";
/// Gauge, `{job}`: jobs this worker process is running now.
pub const WORKER_BUSY: &str = "jobs.worker.busy";
/// Gauge, `{job}`: how many jobs this worker process runs at once at most.
pub const WORKER_CONCURRENCY: &str = "jobs.worker.concurrency";

/// Label and attribute: the backend, `sqlite`, `postgres`, `redis`, `memory`, ... (the adapter's
/// name in lowercase).
pub const SYSTEM: &str = "messaging.system";
/// Attribute: `send` (enqueue), `process` (perform) or `settle` (a worker acknowledging runs).
pub const OPERATION_TYPE: &str = "messaging.operation.type";
/// Label and attribute: `enqueue` or `perform` (and `complete`, `fail`, `release` when settling).
pub const OPERATION_NAME: &str = "messaging.operation.name";
/// Label and attribute: the queue.
pub const DESTINATION: &str = "messaging.destination.name";
/// Attribute: the job id (Active Job's `job_id`).
pub const MESSAGE_ID: &str = "messaging.message.id";
/// Label and attribute: the job class.
pub const CLASS: &str = "jobs.class";
/// Label and attribute: how a run ended (`performed`, `failed`, `retried`, ...).
pub const OUTCOME: &str = "jobs.outcome";
/// Label: a job state, on [`QUEUE_SIZE`].
pub const STATE: &str = "jobs.state";

/// Tells the installed `metrics` recorder the unit and meaning of every metric above. Call it
/// once after installing a recorder (a Prometheus exporter uses them for `# HELP` lines and unit
/// suffixes); recording works without it.
pub fn describe_metrics() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    let jobs = Unit::Count;
    describe_counter!(SENT_MESSAGES, jobs, "Jobs enqueued");
    describe_histogram!(PROCESS_DURATION, Unit::Seconds, "How long a perform took");
    describe_counter!(PROCESSED, jobs, "Runs that finished, by outcome");
    describe_counter!(FAILED, jobs, "Runs that failed with an error nothing handled");
    describe_counter!(RETRIED, jobs, "Runs that retry_on enqueued again");
    describe_counter!(DISCARDED, jobs, "Runs discarded");
    describe_counter!(RESUMED, jobs, "Continuable jobs enqueued again with their progress");
    describe_histogram!(QUEUE_LATENCY, Unit::Seconds, "From when a job was due to when it started");
    describe_gauge!(QUEUE_SIZE, jobs, "Jobs of a queue in a state, sampled from the store");
    describe_gauge!(OLDEST_READY_AGE, Unit::Seconds, "How long the oldest ready job of a queue has been due");
    describe_gauge!(DEAD, jobs, "Jobs of a queue in the dead set, sampled from the store");
    describe_gauge!(WORKER_BUSY, jobs, "Jobs this worker process is running");
    describe_gauge!(WORKER_CONCURRENCY, jobs, "Jobs this worker process runs at once at most");
}

/// `messaging.system` of an adapter: its name in lowercase, written only when a subscriber reads
/// it (no allocation otherwise).
pub(crate) struct System<'a>(pub(crate) &'a str);

impl fmt::Display for System<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.chars().try_for_each(|c| fmt::Write::write_char(f, c.to_ascii_lowercase()))
    }
}

/// A span's OpenTelemetry name, `{operation} {queue}` (`process mailers`), written only when a
/// subscriber reads it.
pub(crate) struct SpanName<'a>(pub(crate) &'static str, pub(crate) &'a str);

impl fmt::Display for SpanName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.0, self.1)
    }
}
