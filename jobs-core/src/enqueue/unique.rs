//! Flow-control keys at enqueue, and the enqueue of unique jobs.
//!
//! A job whose class declares flow control gets its [`FlowKeys`] in its payload when it is
//! built: the concurrency key `{group or class}/{key}`, the throttle key `{class}/{key}`, and
//! the unique key, a SHA-256 digest of what the rule names (canonical JSON: object keys sorted),
//! so that every process and every Rust version computes the same key. A batch with a unique job
//! is stored through [`FlowStore::enqueue_unique`]; others through `enqueue_all`, as before.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::contract::{Adapter, Error, FlowControl, FlowKey, FlowKeys, FlowStore, JobData, UniqueJob, Uniqueness};
use crate::runtime::Runtime;

/// The flow-control keys of `data` (class, queue and encoded arguments set), under `flow`;
/// `key` gives the job's own keys ([`Job::flow_key`](crate::Job::flow_key)). `None` when the class
/// declares no flow control.
pub(crate) fn flow_keys(
    data: &JobData,
    flow: &FlowControl,
    key: impl Fn(FlowKey) -> Option<String>,
) -> Result<Option<FlowKeys>, Error> {
    if flow.is_empty() {
        return Ok(None);
    }
    let class = data.job_class.as_str();
    let concurrency = flow.concurrency.map(|limit| {
        let group = limit.group.unwrap_or(class);
        match key(FlowKey::Concurrency) {
            Some(key) => format!("{group}/{key}"),
            None => group.to_owned(),
        }
    });
    let throttle = flow.throttle.map(|_| match key(FlowKey::Throttle) {
        Some(key) => format!("{class}/{key}"),
        None => class.to_owned(),
    });
    let unique = match flow.unique {
        None => None,
        Some(rule) => Some(match key(FlowKey::Unique) {
            Some(key) => format!("{class}/{key}"),
            None => digest(data, &rule)?,
        }),
    };
    Ok(Some(FlowKeys { concurrency, unique, throttle, throttle_slot: None }))
}

/// The hex SHA-256 of the canonical JSON of what `rule.by` names: `{"args":[..],"class":"..","queue":".."}`.
fn digest(data: &JobData, rule: &UniqueJob) -> Result<String, Error> {
    let mut text = String::from("{");
    let mut parts: Vec<(&str, Value)> = Vec::with_capacity(3);
    if rule.by.args {
        parts.push(("args", Value::Array(data.arguments.clone())));
    }
    if rule.by.class {
        parts.push(("class", Value::from(data.job_class.as_str())));
    }
    if rule.by.queue {
        parts.push(("queue", Value::from(data.queue_name.as_str())));
    }
    for (i, (name, value)) in parts.iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        write_canonical(&mut text, &Value::from(*name))?;
        text.push(':');
        write_canonical(&mut text, value)?;
    }
    text.push('}');
    let hash = Sha256::digest(text.as_bytes());
    let mut hex = String::with_capacity(64);
    for byte in hash {
        let _ = write!(hex, "{byte:02x}");
    }
    Ok(hex)
}

/// JSON with every object's keys in byte order and no spaces: the same text for equal values,
/// whatever order the encoder wrote the keys in.
fn write_canonical(out: &mut String, value: &Value) -> Result<(), Error> {
    match value {
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(out, item)?;
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(key).map_err(|e| Error::InvalidPayload(e.to_string()))?);
                out.push(':');
                write_canonical(out, item)?;
            }
            out.push('}');
        }
        scalar => out.push_str(&serde_json::to_string(scalar).map_err(|e| Error::InvalidPayload(e.to_string()))?),
    }
    Ok(())
}

/// The rule a store applies to a job with unique key `key` declared `rule`, enqueued at `now`.
pub(crate) fn uniqueness(rule: &UniqueJob, key: &str, now: DateTime<Utc>) -> Uniqueness {
    let until = rule.period.and_then(|period| chrono::Duration::from_std(period).ok()).map(|period| now + period);
    Uniqueness { key: key.to_owned(), states: rule.states.to_vec(), until }
}

/// The uniqueness of a job being stored again (a retry, a snooze, a resumption, a throttle
/// delay): its key as it was computed at enqueue, its class's rule; `None` for other jobs.
pub(crate) fn uniqueness_of(runtime: &Runtime, data: &JobData) -> Option<Uniqueness> {
    let key = data.flow.as_ref()?.unique.as_deref()?;
    let registration = runtime.registry().get(&data.job_class)?;
    let rule = registration.flow().unique?;
    Some(uniqueness(&rule, key, runtime.now()))
}

/// The adapter's flow store, or the error of an adapter without one, naming `what` needs it.
pub(crate) fn flow_store<'a>(adapter: &'a dyn Adapter, what: &str) -> Result<&'a dyn FlowStore, Error> {
    adapter.flow().ok_or_else(|| {
        Error::not_supported(adapter.name(), format!("{what}; use an adapter that keeps them, such as sqlite"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::{ConcurrencyLimit, Throttle, UniqueBy};
    use std::time::Duration;

    fn data(arguments: Value) -> JobData {
        let mut data = JobData::from_json(r#"{"job_class":"Charge","job_id":"x","queue_name":"billing"}"#).unwrap();
        data.arguments = arguments.as_array().unwrap().clone();
        data
    }

    const UNIQUE: FlowControl = FlowControl { concurrency: None, unique: Some(UniqueJob::DEFAULT), throttle: None };

    #[test]
    fn the_unique_key_does_not_depend_on_the_order_of_object_keys() {
        let a = flow_keys(&data(serde_json::json!([{"a": 1, "b": [2, {"y": 1, "x": 2}]}])), &UNIQUE, |_| None).unwrap();
        let b = flow_keys(&data(serde_json::json!([{"b": [2, {"x": 2, "y": 1}], "a": 1}])), &UNIQUE, |_| None).unwrap();
        let c = flow_keys(&data(serde_json::json!([{"a": 2, "b": [2, {"x": 2, "y": 1}]}])), &UNIQUE, |_| None).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn the_unique_key_is_a_stable_digest() {
        // Fixed, so that a change to the key's computation (which would let duplicates in across a
        // deploy) fails here: SHA-256 of {"args":[42,"x"],"class":"Charge","queue":"billing"}.
        let keys = flow_keys(&data(serde_json::json!([42, "x"])), &UNIQUE, |_| None).unwrap().unwrap();
        assert_eq!(keys.unique.as_deref(), Some("9d8c29efb5dc5f3bdaef6101ed5f2d6e1ab1f0ebdbde5c666f93cfea2a33e42a"));
    }

    #[test]
    fn by_names_what_the_key_depends_on() {
        let by_args = FlowControl {
            unique: Some(UniqueJob::DEFAULT.by(UniqueBy { args: true, queue: false, class: false })),
            ..UNIQUE
        };
        let mut other_queue = data(serde_json::json!([1]));
        other_queue.queue_name = "other".into();
        let one = flow_keys(&data(serde_json::json!([1])), &by_args, |_| None).unwrap();
        assert_eq!(one, flow_keys(&other_queue, &by_args, |_| None).unwrap());
        assert_ne!(
            flow_keys(&data(serde_json::json!([1])), &UNIQUE, |_| None).unwrap(),
            flow_keys(&other_queue, &UNIQUE, |_| None).unwrap()
        );
    }

    #[test]
    fn concurrency_and_throttle_keys_name_their_group_or_class() {
        let flow = FlowControl {
            concurrency: Some(ConcurrencyLimit::to(2).group("payments")),
            unique: Some(UniqueJob::DEFAULT),
            throttle: Some(Throttle::new(10, Duration::from_secs(1))),
        };
        let keys =
            flow_keys(&data(serde_json::json!([])), &flow, |which| Some(format!("{which:?}-42"))).unwrap().unwrap();
        assert_eq!(keys.concurrency.as_deref(), Some("payments/Concurrency-42"));
        assert_eq!(keys.throttle.as_deref(), Some("Charge/Throttle-42"));
        assert_eq!(keys.unique.as_deref(), Some("Charge/Unique-42"));
        let keys =
            flow_keys(&data(serde_json::json!([])), &FlowControl { unique: None, ..flow }, |_| None).unwrap().unwrap();
        assert_eq!((keys.concurrency.as_deref(), keys.throttle.as_deref()), (Some("payments"), Some("Charge")));
        assert_eq!(flow_keys(&data(serde_json::json!([])), &FlowControl::NONE, |_| None).unwrap(), None);
    }
}
