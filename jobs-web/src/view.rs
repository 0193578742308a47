//! Stored jobs and times as the pages show them, with arguments redacted where they must be.

use std::time::Duration;

use chrono::{DateTime, Utc};
use jobs_core::JobInfo;
use serde::Serialize;
use serde_json::Value;

use crate::cache::Snapshot;
use crate::params::path_segment;
use crate::router::Shared;

/// What a redacted value shows.
pub(crate) const REDACTED: &str = "[redacted]";

/// A time as a page shows it: absolute (UTC) and relative to now.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct When {
    pub(crate) at: String,
    pub(crate) ago: String,
}

pub(crate) fn when(time: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Option<When> {
    let time = time?;
    let seconds = (now - time).num_seconds();
    let span = human(Duration::from_secs(seconds.unsigned_abs()));
    let ago = if seconds >= 0 { format!("{span} ago") } else { format!("in {span}") };
    Some(When { at: time.format("%Y-%m-%d %H:%M:%S UTC").to_string(), ago })
}

/// `d` in its largest unit: `42s`, `5m`, `3h`, `2d`.
pub(crate) fn human(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..86_400 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86_400),
    }
}

/// A latency: milliseconds under a second, then seconds and larger units.
pub(crate) fn latency(d: Duration) -> String {
    if d < Duration::from_secs(1) { format!("{}ms", d.as_millis()) } else { human(d) }
}

/// Whether the arguments of a job of `class` are hidden: the dashboard hides all, or the class
/// is declared with `log_arguments = false`.
pub(crate) fn redacts(shared: &Shared, class: &str) -> bool {
    shared.hide_arguments || shared.registry.get(class).is_some_and(|job| !job.log_arguments())
}

/// How old cached counts are, or why there are none: every page that shows counts says so.
#[derive(Serialize)]
pub(crate) struct Counted {
    pub(crate) ago: Option<String>,
    pub(crate) error: Option<String>,
    pub(crate) counting: bool,
}

impl Counted {
    pub(crate) fn of<T>(snapshot: &Option<Snapshot<T>>) -> Counted {
        match snapshot {
            None => Counted { ago: None, error: None, counting: true },
            Some(s) => Counted { ago: Some(human(s.age())), error: s.value.as_ref().err().cloned(), counting: false },
        }
    }
}

/// A job in a list.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct JobRow {
    pub(crate) id: String,
    pub(crate) href: String,
    pub(crate) class: String,
    pub(crate) queue: String,
    pub(crate) priority: i32,
    pub(crate) state: &'static str,
    pub(crate) attempts: u32,
    pub(crate) arguments: String,
    pub(crate) enqueued: Option<When>,
    pub(crate) run_at: Option<When>,
    pub(crate) finished: Option<When>,
    pub(crate) error: Option<String>,
    pub(crate) worker: Option<String>,
}

/// Arguments on one line, cut at this many characters.
const PREVIEW: usize = 120;

impl JobRow {
    pub(crate) fn new(shared: &Shared, base: &str, job: &JobInfo, now: DateTime<Utc>) -> JobRow {
        let arguments = if redacts(shared, &job.class) {
            REDACTED.to_owned()
        } else {
            let arguments = serde_json::from_str::<Value>(&job.payload)
                .ok()
                .and_then(|payload| payload.get("arguments").map(Value::to_string))
                .unwrap_or_default();
            cut(&arguments, PREVIEW)
        };
        JobRow {
            href: format!("{base}/jobs/{}", path_segment(&job.id)),
            id: job.id.clone(),
            class: job.class.clone(),
            queue: job.queue.clone(),
            priority: job.priority,
            state: job.state.as_str(),
            attempts: job.attempts,
            arguments,
            enqueued: when(job.enqueued_at, now),
            run_at: when(job.run_at, now),
            finished: when(job.finished_at, now),
            error: job.errors.last().map(|e| cut(&format!("{}: {}", e.class, e.message), PREVIEW)),
            worker: job.worker_id.clone(),
        }
    }
}

/// `text` cut to `max` characters, with an ellipsis when cut.
pub(crate) fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

/// The stored payload for the job page: pretty JSON with its arguments (and the flow keys built
/// from them) redacted when they must
/// be, or the raw text when it is not JSON (only when arguments are shown: it may contain them).
pub(crate) fn payload(stored: &str, redact: bool) -> String {
    match serde_json::from_str::<Value>(stored) {
        Ok(mut value) => {
            if redact && let Some(arguments) = value.get_mut("arguments") {
                *arguments = Value::String(REDACTED.to_owned());
            }
            // Concurrency and throttle keys are built from the arguments; the unique key is a digest.
            if redact && let Some(flow) = value.get_mut("flow").and_then(Value::as_object_mut) {
                for key in ["concurrency", "throttle"] {
                    if let Some(shown) = flow.get_mut(key) {
                        *shown = Value::String(REDACTED.to_owned());
                    }
                }
            }
            serde_json::to_string_pretty(&value).unwrap_or_else(|_| stored.to_owned())
        }
        Err(_) if redact => format!("{REDACTED} (the payload is not JSON)"),
        Err(_) => stored.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_relative_to_now() {
        let now = DateTime::parse_from_rfc3339("2026-12-06T12:00:00Z").unwrap().with_timezone(&Utc);
        let earlier = DateTime::parse_from_rfc3339("2026-12-06T11:55:00Z").unwrap().with_timezone(&Utc);
        let shown = when(Some(earlier), now).unwrap();
        assert_eq!((shown.at.as_str(), shown.ago.as_str()), ("2026-12-06 11:55:00 UTC", "5m ago"));
        assert_eq!(when(Some(now + chrono::TimeDelta::hours(3)), now).unwrap().ago, "in 3h");
        assert_eq!(latency(Duration::from_millis(250)), "250ms");
        assert_eq!(latency(Duration::from_secs(7200)), "2h");
    }

    #[test]
    fn payloads_hide_their_arguments_when_asked() {
        let stored = r#"{"job_class":"Charge","arguments":["4242 4242 4242 4242"]}"#;
        assert!(payload(stored, false).contains("4242"));
        let hidden = payload(stored, true);
        assert!(!hidden.contains("4242") && hidden.contains(REDACTED) && hidden.contains("Charge"), "{hidden}");
        assert_eq!(payload("not json 4242", true), "[redacted] (the payload is not JSON)");
        assert_eq!(cut("abcdef", 3), "abc…");
        assert_eq!(cut("abc", 3), "abc");
    }
}
