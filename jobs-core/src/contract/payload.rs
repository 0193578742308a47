//! The wire format: Active Job's serialized hash.

mod read;
mod time;

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::continuation::Continuation;
use super::error::Error;
use super::flow::FlowKeys;
use super::propagation::{TraceHeaders, lenient_headers};
use super::recurring::RecurringRun;

/// A job as it travels and is stored: Active Job's serialized hash, key for key.
///
/// ```
/// # use jobs_core::JobData;
/// let json = r#"{"job_class":"HelloJob","job_id":"0e5b5b4e-0c46-4b8f-9d34-7c1b1c6c4d1a",
///   "provider_job_id":null,"queue_name":"default","priority":null,"arguments":["world"],
///   "executions":0,"exception_executions":{},"locale":"en","timezone":"UTC",
///   "enqueued_at":"2024-01-02T03:04:05.123456789Z","scheduled_at":null}"#;
/// let data = JobData::from_json(json).unwrap();
/// assert_eq!(data.job_class, "HelloJob");
/// assert_eq!(data.to_json().unwrap().replace(['\n', ' '], ""), json.replace(['\n', ' '], ""));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobData {
    /// The job's registered name (`HelloJob`).
    pub job_class: String,
    /// The job's id, a UUID string; kept across retries.
    pub job_id: String,
    /// The id the backend gave the job, if any.
    #[serde(default)]
    pub provider_job_id: Option<String>,
    /// The queue the job goes to.
    #[serde(default = "default_queue")]
    pub queue_name: String,
    /// Priority within the queue; lower runs first.
    #[serde(default)]
    pub priority: Option<i32>,
    /// One JSON value per serialized parameter, in order.
    #[serde(default)]
    pub arguments: Vec<Value>,
    /// How many times the job has been performed (counting the run in progress).
    #[serde(default)]
    pub executions: u32,
    /// Per `retry_on` declaration, how many times it has matched.
    #[serde(default, deserialize_with = "null_as_default")]
    pub exception_executions: BTreeMap<String, u32>,
    /// The locale the job was enqueued with.
    #[serde(default = "default_locale", deserialize_with = "null_as_locale")]
    pub locale: String,
    /// The time zone the job was enqueued with.
    #[serde(default)]
    pub timezone: Option<String>,
    /// When the job was enqueued.
    #[serde(default, with = "time_format")]
    pub enqueued_at: Option<DateTime<Utc>>,
    /// When the job is due, for scheduled jobs.
    #[serde(default, with = "time_format")]
    pub scheduled_at: Option<DateTime<Utc>>,
    /// A continuable job's progress (Active Job 8.1's `continuation`); absent for other jobs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub continuation: Option<Continuation>,
    /// How many times a continuable job was resumed (Active Job 8.1's `resumptions`); absent for
    /// other jobs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resumptions: Option<u32>,
    /// For a job a recurring task enqueued: the task and the tick it was enqueued for (a key of
    /// this crate that Active Job ignores); absent for other jobs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recurring: Option<RecurringRun>,
    /// The trace context of the enqueue (W3C `traceparent` / `tracestate`), under the key
    /// OpenTelemetry's Ruby instrumentation for Active Job uses (`__otel_headers`); written only
    /// when a [`TracePropagator`](crate::telemetry::TracePropagator) is installed. A value that is
    /// not an object of strings reads as none rather than failing the job.
    #[serde(
        rename = "__otel_headers",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_headers"
    )]
    pub trace_headers: Option<TraceHeaders>,
    /// The job's flow-control keys (concurrency, unique, throttle), computed at enqueue from its
    /// arguments (a key of this crate that Active Job ignores); absent for other jobs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flow: Option<FlowKeys>,
}

fn default_queue() -> String {
    "default".to_owned()
}

fn default_locale() -> String {
    "en".to_owned()
}

fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

fn null_as_locale<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(d)?.unwrap_or_else(default_locale))
}

impl JobData {
    /// A new job id: a UUID string, as Active Job's, of version 7, so ids sort in the order
    /// they were made. Stores index jobs by their id; ids that arrive in order are appended at
    /// one end of that index instead of touching a random page of it per job (which, once the
    /// index outgrows memory, costs a page read and a full-page WAL image each).
    pub fn new_job_id() -> String {
        uuid::Uuid::now_v7().to_string()
    }

    /// Parses a payload; unknown keys are ignored and Active Job's older forms are accepted.
    pub fn from_json(json: &str) -> Result<Self, Error> {
        match read::read(json) {
            Some(data) => Ok(data),
            None => serde_json::from_str(json).map_err(|e| Error::InvalidPayload(e.to_string())),
        }
    }

    /// Writes the payload in the current Active Job form.
    pub fn to_json(&self) -> Result<String, Error> {
        serde_json::to_string(self).map_err(|e| Error::InvalidPayload(e.to_string()))
    }

    /// When the job may run: its scheduled time, or its enqueue time.
    pub fn due_at(&self) -> Option<DateTime<Utc>> {
        self.scheduled_at.or(self.enqueued_at)
    }
}

/// Formats a time as Active Job does: ISO 8601, UTC, nine fractional digits.
pub fn format_time(time: &DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

/// Parses an ISO 8601 time with or without fractional seconds, in any offset.
pub fn parse_time(text: &str) -> Result<DateTime<Utc>, Error> {
    if let Some(time) = time::utc(text) {
        return Ok(time);
    }
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| Error::InvalidPayload(format!("invalid time `{text}`: {e}")))
}

pub(super) mod time_format {
    use std::fmt;

    use chrono::{DateTime, Utc};
    use serde::de::{self, Visitor};
    use serde::{Deserializer, Serializer};

    pub(in crate::contract) fn serialize<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&super::format_time(t)),
            None => s.serialize_none(),
        }
    }

    pub(in crate::contract) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        d.deserialize_option(OptionalTime)
    }

    /// Reads a time or null, parsing the text where it lies (no `String` per time when the
    /// payload is borrowed, as a stored payload is).
    struct OptionalTime;

    impl<'de> Visitor<'de> for OptionalTime {
        type Value = Option<DateTime<Utc>>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an ISO 8601 time or null")
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_str(Time).map(Some)
        }
    }

    /// Reads a time from a string.
    struct Time;

    impl Visitor<'_> for Time {
        type Value = DateTime<Utc>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an ISO 8601 time")
        }

        fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
            super::parse_time(text).map_err(E::custom)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn sample() -> JobData {
        let at = Utc.with_ymd_and_hms(2024, 5, 6, 7, 8, 9).unwrap() + chrono::Duration::nanoseconds(123_456_789);
        JobData {
            job_class: "SendWelcomeEmail".into(),
            job_id: "5b5f3c61-52c4-4b8a-9f38-3f1c0bbf6d1e".into(),
            provider_job_id: None,
            queue_name: "mailers".into(),
            priority: Some(10),
            arguments: vec![Value::from("bob@example.com"), Value::from(3)],
            executions: 0,
            exception_executions: BTreeMap::new(),
            locale: "en".into(),
            timezone: Some("UTC".into()),
            enqueued_at: Some(at),
            scheduled_at: Some(at + chrono::Duration::seconds(60)),
            continuation: None,
            resumptions: None,
            recurring: None,
            trace_headers: None,
            flow: None,
        }
    }

    #[test]
    fn new_job_ids_are_uuids_that_sort_in_the_order_they_were_made() {
        let ids: Vec<String> = (0..1_000).map(|_| JobData::new_job_id()).collect();
        for id in &ids {
            let uuid = uuid::Uuid::parse_str(id).unwrap();
            assert_eq!((uuid.get_version_num(), id.len()), (7, 36), "{id}");
        }
        assert!(ids.windows(2).all(|pair| pair[0] < pair[1]), "ids out of order");
    }

    #[test]
    fn serializes_byte_for_byte_like_active_job() {
        let json = sample().to_json().unwrap();
        assert_eq!(
            json,
            r#"{"job_class":"SendWelcomeEmail","job_id":"5b5f3c61-52c4-4b8a-9f38-3f1c0bbf6d1e","provider_job_id":null,"queue_name":"mailers","priority":10,"arguments":["bob@example.com",3],"executions":0,"exception_executions":{},"locale":"en","timezone":"UTC","enqueued_at":"2024-05-06T07:08:09.123456789Z","scheduled_at":"2024-05-06T07:09:09.123456789Z"}"#
        );
        assert_eq!(JobData::from_json(&json).unwrap(), sample());
    }

    #[test]
    fn reads_older_active_job_forms() {
        // Rails 6.1: no scheduled_at, whole seconds, null timezone, extra keys.
        let json = r#"{"job_class":"HelloJob","job_id":"x","provider_job_id":null,"queue_name":"default",
            "priority":null,"arguments":[],"executions":0,"exception_executions":{},"locale":"en",
            "timezone":null,"enqueued_at":"2021-03-04T05:06:07Z","something_new":1}"#;
        let data = JobData::from_json(json).unwrap();
        assert_eq!(data.scheduled_at, None);
        assert_eq!(data.timezone, None);
        assert_eq!(data.enqueued_at, Some(Utc.with_ymd_and_hms(2021, 3, 4, 5, 6, 7).unwrap()));
    }

    #[test]
    fn carries_trace_headers_under_the_key_of_opentelemetry_ruby() {
        let mut data = sample();
        data.trace_headers = Some(TraceHeaders::from([(
            "traceparent".to_owned(),
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_owned(),
        )]));
        let json = data.to_json().unwrap();
        assert!(
            json.ends_with(
                r#","__otel_headers":{"traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}}"#
            ),
            "{json}"
        );
        assert_eq!(JobData::from_json(&json).unwrap(), data);
    }

    #[test]
    fn trace_headers_that_are_not_strings_never_fail_a_job() {
        let base = sample().to_json().unwrap();
        let with =
            |headers: &str| JobData::from_json(&format!("{},\"__otel_headers\":{headers}}}", &base[..base.len() - 1]));
        assert_eq!(with("null").unwrap().trace_headers, None);
        assert_eq!(with("[1]").unwrap().trace_headers, None);
        let mixed = with(r#"{"traceparent":"00-x","n":1}"#).unwrap().trace_headers.unwrap();
        assert_eq!(mixed, TraceHeaders::from([("traceparent".to_owned(), "00-x".to_owned())]));
    }

    #[test]
    fn rejects_garbage_with_a_clear_error() {
        let err = JobData::from_json("{\"job_class\": 3}").unwrap_err();
        assert!(err.to_string().starts_with("invalid job payload"), "{err}");
    }
}
