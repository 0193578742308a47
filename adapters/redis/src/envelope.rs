//! Sidekiq's job hash (the "envelope") around an Active Job payload, as Active Job's Sidekiq
//! adapter writes it, and the few fields jobs adds to it.
//!
//! ```text
//! {"class":"ActiveJob::QueueAdapters::SidekiqAdapter::JobWrapper","wrapped":"HelloJob",
//!  "queue":"default","args":[{...the Active Job payload...}],"retry":true,
//!  "jid":"b4a577edbccf1d805744efa9","created_at":1700000000.123456,"enqueued_at":1700000000.123456}
//! ```
//!
//! jobs adds `attempts` (claims that counted; always the first key, so that a Lua script can bump
//! it without parsing) and `error_history` (every failed run, as [`ErrorRecord`]s); Sidekiq keeps
//! unknown keys. Failures also set Sidekiq's own `error_class`, `error_message`, `failed_at`,
//! `retried_at` and `retry_count`, which its Web UI shows.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write;

use chrono::{DateTime, Utc};
use jobs_core::JobData;
use jobs_core::adapter::{ErrorRecord, Failure};
use jobs_core::adapter::{due_micros, micros_to_time, time_to_micros};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::RedisError;

/// The class Active Job's Sidekiq adapter gives its jobs; Sidekiq runs it, and it performs the
/// Active Job named by `wrapped`.
pub const JOB_WRAPPER: &str = "ActiveJob::QueueAdapters::SidekiqAdapter::JobWrapper";

/// A new Sidekiq job id: 24 hexadecimal digits, as `SecureRandom.hex(12)`.
pub(crate) fn new_jid() -> String {
    let mut jid = String::with_capacity(24);
    let (a, b) = (fastrand::u64(..), fastrand::u32(..));
    write!(jid, "{a:016x}{b:08x}").expect("writing to a String");
    jid
}

/// A time as Sidekiq stores it: float seconds since the epoch.
pub(crate) fn seconds(time: DateTime<Utc>) -> f64 {
    time_to_micros(time) as f64 / 1e6
}

/// Float seconds since the epoch, as Sidekiq stores times, read back as a time.
pub(crate) fn from_seconds(seconds: f64) -> DateTime<Utc> {
    micros_to_time((seconds * 1e6) as i64)
}

/// A due time as a score: rounded up to the microsecond, so that a job is never due early.
pub(crate) fn due_score(time: DateTime<Utc>) -> String {
    let micros = due_micros(time);
    format!("{}.{:06}", micros.div_euclid(1_000_000), micros.rem_euclid(1_000_000))
}

/// The envelope Active Job's Sidekiq adapter would push for `job`, whose payload is `payload`.
/// A scheduled job has no `enqueued_at` yet (the poller stamps it when the job is due).
pub(crate) fn write(job: &JobData, payload: &str, jid: &str, now: f64, scheduled: bool) -> String {
    let mut out = String::with_capacity(payload.len() + 200);
    out.push_str("{\"class\":\"");
    out.push_str(JOB_WRAPPER);
    out.push_str("\",\"wrapped\":");
    push_string(&mut out, &job.job_class);
    out.push_str(",\"queue\":");
    push_string(&mut out, &job.queue_name);
    out.push_str(",\"args\":[");
    out.push_str(payload);
    write!(out, "],\"retry\":true,\"jid\":\"{jid}\",\"created_at\":{now:.6}").expect("writing to a String");
    if !scheduled {
        write!(out, ",\"enqueued_at\":{now:.6}").expect("writing to a String");
    }
    if out.is_empty() {
        out.push('{');
    }
    out.push('}');
    out
}

/// An envelope around a payload that is stored as it is, possibly not JSON (a JSON string in
/// `args`), for [`RedisAdapter::enqueue_raw`](crate::RedisAdapter::enqueue_raw).
pub(crate) fn write_raw(queue: &str, payload: &str, jid: &str, now: f64) -> String {
    let mut out = String::with_capacity(payload.len() + 200);
    out.push_str("{\"class\":\"");
    out.push_str(JOB_WRAPPER);
    out.push_str("\",\"queue\":");
    push_string(&mut out, queue);
    out.push_str(",\"args\":[");
    push_string(&mut out, payload);
    write!(out, "],\"retry\":true,\"jid\":\"{jid}\",\"created_at\":{now:.6},\"enqueued_at\":{now:.6}}}")
        .expect("writing to a String");
    out
}

pub(crate) fn push_string(out: &mut String, text: &str) {
    out.push_str(&serde_json::to_string(text).expect("a string serializes"));
}

/// What a worker, or a tool, reads from a stored envelope.
#[derive(Default)]
pub(crate) struct Stored<'a> {
    class: Option<Cow<'a, str>>,
    wrapped: Option<Cow<'a, str>>,
    args: Option<Vec<&'a RawValue>>,
    jid: Option<Cow<'a, str>>,
    queue: Option<Cow<'a, str>>,
    attempts: Option<u32>,
    retry_count: Option<u32>,
    pub(crate) created_at: Option<f64>,
    pub(crate) enqueued_at: Option<f64>,
    error_history: Option<Vec<ErrorRecord>>,
    error_class: Option<Cow<'a, str>>,
    error_message: Option<Cow<'a, str>>,
    pub(crate) failed_at: Option<f64>,
    retried_at: Option<f64>,
}

impl<'a> Stored<'a> {
    /// Reads an envelope field by field: a field of the wrong type reads as absent and the
    /// others as they are. One that is not a JSON object reads as empty, its text the payload.
    pub(crate) fn parse(envelope: &'a str) -> Stored<'a> {
        let Ok(fields) = serde_json::from_str::<BTreeMap<Cow<'a, str>, &'a RawValue>>(envelope) else {
            return Stored::default();
        };
        fn field<'a, T: Deserialize<'a>>(fields: &BTreeMap<Cow<'a, str>, &'a RawValue>, key: &str) -> Option<T> {
            fields.get(key).and_then(|value| serde_json::from_str(value.get()).ok())
        }
        // Strings are read as `&str` (borrowed) where they have no escapes, else as owned.
        fn text<'a>(fields: &BTreeMap<Cow<'a, str>, &'a RawValue>, key: &str) -> Option<Cow<'a, str>> {
            let value = fields.get(key)?;
            serde_json::from_str::<&'a str>(value.get())
                .map(Cow::Borrowed)
                .or_else(|_| serde_json::from_str::<String>(value.get()).map(Cow::Owned))
                .ok()
        }
        Stored {
            class: text(&fields, "class"),
            wrapped: text(&fields, "wrapped"),
            args: field(&fields, "args"),
            jid: text(&fields, "jid"),
            queue: text(&fields, "queue"),
            attempts: field(&fields, "attempts"),
            retry_count: field(&fields, "retry_count"),
            created_at: field(&fields, "created_at"),
            enqueued_at: field(&fields, "enqueued_at"),
            error_history: field(&fields, "error_history"),
            error_class: text(&fields, "error_class"),
            error_message: text(&fields, "error_message"),
            failed_at: field(&fields, "failed_at"),
            retried_at: field(&fields, "retried_at"),
        }
    }

    /// The class of a plain Sidekiq job (one that Active Job's Sidekiq adapter did not write),
    /// which carries no Active Job payload.
    pub(crate) fn plain_sidekiq_class(&self) -> Option<&str> {
        self.class.as_deref().filter(|class| *class != JOB_WRAPPER && !class.is_empty())
    }

    /// The job's id: its jid, or (for a job nobody could have written through Sidekiq) `fallback`.
    pub(crate) fn jid(&self, fallback: impl FnOnce() -> String) -> String {
        match &self.jid {
            Some(jid) if !jid.is_empty() => jid.clone().into_owned(),
            _ => fallback(),
        }
    }

    /// The envelope's queue, if it names one.
    pub(crate) fn queue(&self) -> Option<&str> {
        self.queue.as_deref()
    }

    /// The Active Job payload: the first argument as JSON text, or its contents when it is a
    /// string (a raw payload); the whole envelope when there is no argument list.
    /// A plain Sidekiq job's payload is its whole envelope.
    pub(crate) fn payload(&self, envelope: &str) -> String {
        if self.plain_sidekiq_class().is_some() {
            return envelope.to_owned();
        }
        match self.args.as_ref().and_then(|args| args.first()) {
            Some(first) if first.get().starts_with('"') => {
                serde_json::from_str::<String>(first.get()).unwrap_or_else(|_| first.get().to_owned())
            }
            Some(first) => first.get().to_owned(),
            None => envelope.to_owned(),
        }
    }

    /// Claims of this job that counted: jobs' own stamp, else what Sidekiq's retry count implies.
    pub(crate) fn attempts(&self) -> u32 {
        self.attempts.or(self.retry_count.map(|n| n + 1)).unwrap_or(0)
    }

    /// Every failed run, oldest first: jobs' history, or the one error Sidekiq keeps.
    pub(crate) fn errors(&self) -> Vec<ErrorRecord> {
        if let Some(history) = &self.error_history {
            return history.clone();
        }
        match (&self.error_class, &self.error_message) {
            (Some(class), message) => {
                let at = self.retried_at.or(self.failed_at).unwrap_or(0.0);
                vec![ErrorRecord {
                    class: class.clone().into_owned(),
                    message: message.clone().unwrap_or_default().into_owned(),
                    attempt: self.attempts().max(1),
                    at: from_seconds(at),
                }]
            }
            _ => Vec::new(),
        }
    }

    /// The job class: the Active Job class its payload names, else the envelope's `wrapped`
    /// (Active Job's Sidekiq adapter) or `class` (a plain Sidekiq job), else empty.
    pub(crate) fn job_class(&self, keys: &PayloadKeys) -> String {
        keys.job_class.as_deref().or(self.wrapped.as_deref()).or(self.class.as_deref()).unwrap_or_default().to_owned()
    }
}

/// What a tool reads from an Active Job payload without decoding it all.
#[derive(Default, Deserialize)]
pub(crate) struct PayloadKeys {
    #[serde(default)]
    pub(crate) job_class: Option<String>,
    #[serde(default)]
    pub(crate) job_id: Option<String>,
    #[serde(default)]
    pub(crate) priority: Option<i32>,
}

impl PayloadKeys {
    /// The keys of `payload`; none when it is not a JSON object.
    pub(crate) fn read(payload: &str) -> PayloadKeys {
        #[derive(Deserialize)]
        struct Lenient {
            #[serde(default)]
            job_class: Option<serde_json::Value>,
            #[serde(default)]
            job_id: Option<serde_json::Value>,
            #[serde(default)]
            priority: Option<serde_json::Value>,
        }
        let Ok(keys) = serde_json::from_str::<Lenient>(payload) else { return PayloadKeys::default() };
        let text = |v: Option<serde_json::Value>| v.and_then(|v| v.as_str().map(str::to_owned));
        PayloadKeys {
            job_class: text(keys.job_class),
            job_id: text(keys.job_id),
            priority: keys.priority.and_then(|p| p.as_i64()).and_then(|p| i32::try_from(p).ok()),
        }
    }
}

/// The envelope of a failed run: the claimed envelope with the claim counted, the new payload,
/// Sidekiq's error fields and the run appended to the error history.
///
/// An entry that is not a JSON object is kept as the string argument of a new envelope with a
/// jid of its own, so that identical entries stay apart in the dead set, each with its error.
/// A plain Sidekiq job's error says what it is.
pub(crate) fn failed(envelope: &str, failure: &Failure) -> Result<String, RedisError> {
    let Ok(mut fields) = serde_json::from_str::<BTreeMap<String, Box<RawValue>>>(envelope) else {
        let wrapped = format!("{{\"jid\":\"{}\",\"retry\":true,\"args\":[{}]}}", new_jid(), json(envelope));
        return failed(&wrapped, failure);
    };
    let stored = Stored::parse(envelope);
    let attempts = stored.attempts() + 1;
    let mut history = stored.errors();
    let mut error = failure.error.clone();
    // A run that decoded the payload (and so has one to store) was an Active Job after all.
    if let (Some(class), None) = (stored.plain_sidekiq_class(), &failure.payload) {
        error.message =
            format!("{class} is a plain Sidekiq job, not an Active Job payload: a Sidekiq process runs it, not jobs");
    }
    history.push(error.clone());
    let at = seconds(failure.error.at);
    let raw = |value: String| RawValue::from_string(value).map_err(|e| RedisError::Malformed(e.to_string()));
    match stored.retry_count {
        Some(count) => {
            fields.insert("retry_count".into(), raw((count + 1).to_string())?);
            fields.insert("retried_at".into(), raw(format!("{at:.6}"))?);
        }
        None => {
            fields.insert("retry_count".into(), raw("0".into())?);
            fields.insert("failed_at".into(), raw(format!("{at:.6}"))?);
        }
    }
    fields.insert("error_class".into(), raw(json(&error.class))?);
    fields.insert("error_message".into(), raw(json(&error.message))?);
    fields.insert("error_history".into(), raw(json(&history))?);
    if let Some(payload) = &failure.payload {
        fields.insert("args".into(), raw(format!("[{payload}]"))?);
    }
    fields.remove("attempts");
    let args = fields.remove("args");
    Ok(write_fields(Some(&attempts.to_string()), &fields, args.as_deref()))
}

/// The envelope of a run that failed and enqueued its job again (`retry_on`), kept among the
/// completed jobs: `error` added to its error history, every other field kept. An entry that is
/// not a JSON object is kept as it is.
pub(crate) fn requeued(envelope: &str, error: &ErrorRecord) -> Result<String, RedisError> {
    let Ok(mut fields) = serde_json::from_str::<BTreeMap<String, Box<RawValue>>>(envelope) else {
        return Ok(envelope.to_owned());
    };
    let mut history = Stored::parse(envelope).errors();
    history.push(error.clone());
    let history = RawValue::from_string(json(&history)).map_err(|e| RedisError::Malformed(e.to_string()))?;
    fields.insert("error_history".into(), history);
    let attempts = fields.remove("attempts");
    let args = fields.remove("args");
    Ok(write_fields(attempts.as_deref().map(RawValue::get), &fields, args.as_deref()))
}

/// The envelope of a running job with its Active Job payload replaced by `payload` (a
/// continuable job's progress), every other field kept; `None` for an entry that holds no Active
/// Job payload (not a JSON object, a plain Sidekiq job, no argument list).
pub(crate) fn with_payload(envelope: &str, payload: &str) -> Option<String> {
    let mut fields = serde_json::from_str::<BTreeMap<String, Box<RawValue>>>(envelope).ok()?;
    if Stored::parse(envelope).plain_sidekiq_class().is_some() || !fields.contains_key("args") {
        return None;
    }
    let attempts = fields.remove("attempts");
    fields.remove("args");
    let args = RawValue::from_string(format!("[{payload}]")).ok()?;
    Some(write_fields(attempts.as_deref().map(RawValue::get), &fields, Some(&args)))
}

/// An envelope: `attempts` first (see the module docs), `args` last, so that `queue` and
/// Sidekiq's other keys come before any user data.
fn write_fields(attempts: Option<&str>, fields: &BTreeMap<String, Box<RawValue>>, args: Option<&RawValue>) -> String {
    let mut out = String::with_capacity(fields.values().map(|v| v.get().len() + 16).sum::<usize>() + 64);
    let attempts = attempts.map(|n| ("attempts", n));
    let rest = fields.iter().map(|(k, v)| (k.as_str(), v.get())).chain(args.map(|a| ("args", a.get())));
    for (i, (key, value)) in attempts.into_iter().chain(rest).enumerate() {
        out.push(if i == 0 { '{' } else { ',' });
        push_string(&mut out, key);
        out.push(':');
        out.push_str(value);
    }
    out.push('}');
    out
}

pub(crate) fn json<T: serde::Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).expect("plain data serializes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use jobs_core::adapter::Ticket;

    fn failure(at: &str, payload: Option<&str>) -> Failure {
        Failure {
            ticket: Ticket { id: "j".into(), token: 1 },
            error: ErrorRecord {
                class: "Net::Timeout".into(),
                message: "took \"too\" long".into(),
                attempt: 1,
                at: at.parse().unwrap(),
            },
            retry_in: Some(std::time::Duration::from_secs(5)),
            payload: payload.map(str::to_owned),
        }
    }

    #[test]
    fn progress_replaces_only_the_payload() {
        let envelope = r#"{"attempts":2,"class":"ActiveJob::QueueAdapters::SidekiqAdapter::JobWrapper","wrapped":"Import","queue":"q","args":[{"job_class":"Import"}],"jid":"j"}"#;
        let saved = with_payload(envelope, r#"{"job_class":"Import","continuation":{"completed":["a"]}}"#).unwrap();
        assert_eq!(
            saved,
            r#"{"attempts":2,"class":"ActiveJob::QueueAdapters::SidekiqAdapter::JobWrapper","jid":"j","queue":"q","wrapped":"Import","args":[{"job_class":"Import","continuation":{"completed":["a"]}}]}"#
        );
        assert_eq!(Stored::parse(&saved).attempts(), 2);
        let unstamped = with_payload(r#"{"queue":"q","args":[1]}"#, "2").unwrap();
        assert_eq!(unstamped, r#"{"queue":"q","args":[2]}"#);
        assert_eq!(with_payload("not json", "{}"), None);
        assert_eq!(with_payload(r#"{"class":"PlainWorker","args":[1]}"#, "{}"), None, "a plain Sidekiq job");
    }

    #[test]
    fn jids_are_24_hex_digits_like_sidekiqs() {
        let jid = new_jid();
        assert_eq!(jid.len(), 24);
        assert!(jid.bytes().all(|b| b.is_ascii_hexdigit()), "{jid}");
        assert_ne!(jid, new_jid());
    }

    #[test]
    fn due_scores_round_up_to_the_microsecond() {
        let at: DateTime<Utc> = "2030-01-01T00:00:00.000001500Z".parse().unwrap();
        assert_eq!(due_score(at), "1893456000.000002");
        let exact: DateTime<Utc> = "2030-01-01T00:00:01Z".parse().unwrap();
        assert_eq!(due_score(exact), "1893456001.000000");
    }

    #[test]
    fn a_failure_keeps_sidekiqs_fields_first_attempts_and_last_args() {
        let stored = r#"{"retry":true,"queue":"q","class":"W","args":[{"k":1}],"jid":"abc","created_at":1.5}"#;
        let once = failed(stored, &failure("2030-01-01T00:00:00Z", Some(r#"{"k":2}"#))).unwrap();
        assert!(once.starts_with(r#"{"attempts":1,"#), "{once}");
        assert!(once.ends_with(r#","args":[{"k":2}]}"#), "{once}");
        let parsed: serde_json::Value = serde_json::from_str(&once).unwrap();
        assert_eq!(parsed["retry_count"], 0);
        assert_eq!(parsed["failed_at"], 1893456000.0);
        assert_eq!(parsed["error_message"], "took \"too\" long");
        assert_eq!(parsed["created_at"], 1.5, "other keys are kept as they were");

        let twice = failed(&once, &failure("2030-01-01T00:01:00Z", None)).unwrap();
        let parsed: serde_json::Value = serde_json::from_str(&twice).unwrap();
        assert_eq!((parsed["attempts"].as_u64(), parsed["retry_count"].as_u64()), (Some(2), Some(1)));
        assert_eq!(parsed["retried_at"], 1893456060.0);
        assert_eq!(parsed["args"], serde_json::json!([{"k": 2}]), "no new payload keeps the stored one");
        let stored = Stored::parse(&twice);
        assert_eq!(stored.errors().len(), 2);
        assert_eq!(stored.attempts(), 2);
    }

    #[test]
    fn an_entry_that_is_not_json_fails_into_an_envelope_of_its_own() {
        let one = failed("not json", &failure("2030-01-01T00:00:00Z", None)).unwrap();
        let other = failed("not json", &failure("2030-01-01T00:00:00Z", None)).unwrap();
        let (one, other) = (Stored::parse(&one), Stored::parse(&other));
        assert_ne!(one.jid(String::new), other.jid(String::new));
        assert_eq!(one.payload(""), "not json");
        assert_eq!((one.attempts(), one.errors().len()), (1, 1));
    }

    #[test]
    fn a_field_of_the_wrong_type_leaves_the_others() {
        let stored = Stored::parse(r#"{"attempts":4,"args":"notalist","retry_count":"2","jid":"j\u0041","queue":"q"}"#);
        assert_eq!((stored.attempts(), stored.jid(String::new), stored.queue()), (4, "jA".to_owned(), Some("q")));
        let plain = r#"{"class":"HardWorker","args":[1],"jid":"j"}"#;
        assert_eq!(Stored::parse(plain).payload(plain), plain, "a plain Sidekiq job carries no Active Job payload");
    }

    #[test]
    fn the_class_comes_from_the_payload_then_the_envelope() {
        let wrapped = r#"{"class":"JobWrapper","wrapped":"HelloJob","args":["not json"]}"#;
        let stored = Stored::parse(wrapped);
        assert_eq!(stored.job_class(&PayloadKeys::read("not json")), "HelloJob");
        let keys = PayloadKeys::read(r#"{"job_class":"Other","job_id":"x","priority":3}"#);
        assert_eq!(
            (stored.job_class(&keys), keys.job_id.as_deref(), keys.priority),
            ("Other".into(), Some("x"), Some(3))
        );
    }

    #[test]
    fn jobs_failed_by_sidekiq_show_their_error() {
        let stored = r#"{"queue":"q","args":["x"],"jid":"j","error_class":"NameError","error_message":"no","failed_at":2.0,"retry_count":2}"#;
        let stored = Stored::parse(stored);
        assert_eq!(stored.attempts(), 3);
        assert_eq!(stored.errors()[0].class, "NameError");
        assert_eq!(stored.payload(""), "x", "a string argument is a raw payload");
    }
}
