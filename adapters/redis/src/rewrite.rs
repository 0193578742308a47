//! The envelopes an operator's action writes ([`Inspect::apply`](jobs_core::Inspect::apply)):
//! a job put back into its queue, a job discarded into the dead set.

use std::collections::BTreeMap;

use jobs_core::adapter::ErrorRecord;
use serde_json::value::RawValue;

use crate::envelope::{Stored, from_seconds, json, new_jid, push_string};

/// The envelope with each `key` set to its `value` (JSON), keeping `attempts` first and `args`
/// last (as [`failed`](crate::envelope::failed) does); `None` when the envelope is not a JSON object.
fn with_fields(envelope: &str, set: &[(&str, String)]) -> Option<String> {
    let mut fields = serde_json::from_str::<BTreeMap<String, Box<RawValue>>>(envelope).ok()?;
    for (key, value) in set {
        fields.insert((*key).to_owned(), RawValue::from_string(value.clone()).ok()?);
    }
    let attempts = fields.remove("attempts");
    let args = fields.remove("args");
    let mut out = String::with_capacity(envelope.len() + 64);
    out.push('{');
    let all = attempts.as_ref().map(|a| ("attempts", a.get())).into_iter();
    let all = all.chain(fields.iter().map(|(k, v)| (k.as_str(), v.get())));
    for (i, (key, value)) in all.chain(args.as_ref().map(|a| ("args", a.get()))).enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_string(&mut out, key);
        out.push(':');
        out.push_str(value);
    }
    out.push('}');
    Some(out)
}

/// The envelope of a job put back into its queue by an operator (Sidekiq's "add to queue" and
/// "retry now"): `enqueued_at` is now, as Sidekiq's client stamps it; the rest is kept.
pub(crate) fn requeued(envelope: &str, now: f64) -> String {
    with_fields(envelope, &[("enqueued_at", format!("{now:.6}"))]).unwrap_or_else(|| envelope.to_owned())
}

/// The envelope of a job an operator discarded: Sidekiq's error fields say so (class
/// [`JobAction::DISCARDED`](jobs_core::JobAction::DISCARDED)), the error is appended to the
/// history, and the job goes to the dead set with it.
pub(crate) fn discarded(envelope: &str, now: f64) -> String {
    let stored = Stored::parse(envelope);
    let error = ErrorRecord {
        class: jobs_core::JobAction::DISCARDED.to_owned(),
        message: jobs_core::JobAction::DISCARDED_MESSAGE.to_owned(),
        attempt: stored.attempts(),
        at: from_seconds(now),
    };
    let mut history = stored.errors();
    history.push(error.clone());
    let at = format!("{now:.6}");
    let stamp = if stored.failed_at.is_some() { "retried_at" } else { "failed_at" };
    let set = [
        ("error_class", json(&error.class)),
        ("error_message", json(&error.message)),
        ("error_history", json(&history)),
        (stamp, at),
    ];
    match with_fields(envelope, &set) {
        Some(out) => out,
        // Not JSON: kept as the string argument of an envelope of its own, as `failed` does.
        None => {
            let wrapped = format!("{{\"jid\":\"{}\",\"retry\":true,\"args\":[{}]}}", new_jid(), json(envelope));
            discarded(&wrapped, now)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_discarded_job_carries_the_operators_error_in_sidekiqs_fields() {
        let stored = r#"{"attempts":2,"class":"W","queue":"q","args":[{"job_class":"A"}],"jid":"j","failed_at":1.0}"#;
        let out = discarded(stored, 1893456000.0);
        assert!(out.starts_with(r#"{"attempts":2,"#) && out.ends_with(r#""args":[{"job_class":"A"}]}"#), "{out}");
        let parsed: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(parsed["error_class"], jobs_core::JobAction::DISCARDED);
        assert_eq!(parsed["error_message"], jobs_core::JobAction::DISCARDED_MESSAGE);
        assert_eq!((parsed["failed_at"].as_f64(), parsed["retried_at"].as_f64()), (Some(1.0), Some(1893456000.0)));
        let errors = Stored::parse(&out).errors();
        assert_eq!((errors.len(), errors[0].class.as_str()), (1, jobs_core::JobAction::DISCARDED));
        let requeued = requeued(&out, 5.5);
        assert_eq!(serde_json::from_str::<serde_json::Value>(&requeued).unwrap()["enqueued_at"], 5.5);
        assert!(Stored::parse(&discarded("not json", 1.0)).errors().len() == 1);
    }
}
