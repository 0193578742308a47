//! Continuations: a job's progress through its steps, as Active Job 8.1 serializes it, and the
//! settings of a continuable job.

use std::time::Duration;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::ser::{SerializeTuple, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::Error;

/// How a continuable job resumes: `#[job(continuable(..))]` builds one for [`Job::CONTINUABLE`];
/// the defaults are Rails' (no resumption limit, a 5 second wait, errors after progress resume),
/// and progress saved at most once a second while a worker runs the job.
///
/// ```
/// # use jobs_core::Continuable;
/// # use std::time::Duration;
/// const IMPORT: Continuable = Continuable::new().max_resumptions(10).resume_wait(Duration::from_secs(1));
/// assert_eq!(IMPORT.get_max_resumptions(), Some(10));
/// assert!(IMPORT.resumes_errors_after_advancing());
/// assert_eq!(IMPORT.get_checkpoint_interval(), Duration::from_secs(1));
/// ```
///
/// [`Job::CONTINUABLE`]: crate::Job::CONTINUABLE
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Continuable {
    max_resumptions: Option<u32>,
    resume_wait: Duration,
    resume_errors_after_advancing: bool,
    checkpoint_interval: Duration,
}

impl Default for Continuable {
    fn default() -> Self {
        Continuable::new()
    }
}

impl Continuable {
    /// Rails' defaults: unlimited resumptions, resumed after 5 seconds, errors after progress resume.
    pub const fn new() -> Self {
        Continuable {
            max_resumptions: None,
            resume_wait: Duration::from_secs(5),
            resume_errors_after_advancing: true,
            checkpoint_interval: Duration::from_secs(1),
        }
    }

    /// How many times the job may be resumed (Rails' `max_resumptions`); past it the job fails with
    /// [`Error::ResumeLimit`].
    pub const fn max_resumptions(mut self, max: u32) -> Self {
        self.max_resumptions = Some(max);
        self
    }

    /// How long a resumed job waits before it runs again (the `wait` of Rails' `resume_options`).
    pub const fn resume_wait(mut self, wait: Duration) -> Self {
        self.resume_wait = wait;
        self
    }

    /// Whether an error raised after the job made progress (completed a step or moved a cursor in
    /// this run) resumes the job instead of failing it (Rails' `resume_errors_after_advancing`).
    pub const fn resume_errors_after_advancing(mut self, resume: bool) -> Self {
        self.resume_errors_after_advancing = resume;
        self
    }

    /// How often, at most, a worker stores the job's progress at its checkpoints (default 1 s;
    /// zero stores it at every checkpoint), besides always when a step completes. The stored
    /// progress is what a job resumes from when its worker dies (`kill -9`, a lost machine) and
    /// the job is rescued: the work done since the last stored checkpoint, at most this long, is
    /// done again. Without a worker (`perform_now`, the inline and test adapters), or on a
    /// backend that cannot store progress, progress is stored only when the job is interrupted.
    pub const fn checkpoint_interval(mut self, interval: Duration) -> Self {
        self.checkpoint_interval = interval;
        self
    }

    /// How often, at most, progress is stored at checkpoints.
    pub const fn get_checkpoint_interval(&self) -> Duration {
        self.checkpoint_interval
    }

    /// The resumption limit, if any.
    pub const fn get_max_resumptions(&self) -> Option<u32> {
        self.max_resumptions
    }

    /// The wait before a resumed job runs again.
    pub const fn get_resume_wait(&self) -> Duration {
        self.resume_wait
    }

    /// Whether errors after progress resume the job.
    pub const fn resumes_errors_after_advancing(&self) -> bool {
        self.resume_errors_after_advancing
    }
}

/// A job's progress as its payload carries it under `"continuation"`, in Active Job 8.1's form:
/// `{"completed": ["download"], "current": ["rows", 4200]}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Continuation {
    /// The steps completed, in order.
    #[serde(default)]
    pub completed: Vec<String>,
    /// The step in progress and its cursor (as an Active Job argument), if one was interrupted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<CurrentStep>,
}

impl Continuation {
    /// Whether any step completed or started.
    pub fn is_started(&self) -> bool {
        !self.completed.is_empty() || self.current.is_some()
    }

    /// Where the job is, as Rails describes it: `at 'rows', cursor 4200`, `after 'download'`,
    /// `not started`.
    pub fn description(&self) -> String {
        match (&self.current, self.completed.last()) {
            (Some(current), _) => format!("at '{}', cursor {}", current.name, current.cursor),
            (None, Some(last)) => format!("after '{last}'"),
            (None, None) => "not started".to_owned(),
        }
    }
}

/// The step in progress: `[name, cursor]` in the payload; the cursor is `null` when never set.
#[derive(Clone, Debug, PartialEq)]
pub struct CurrentStep {
    /// The step's name.
    pub name: String,
    /// Its cursor, encoded as an Active Job argument.
    pub cursor: Value,
}

impl Serialize for CurrentStep {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut tuple = s.serialize_tuple(2)?;
        tuple.serialize_element(&self.name)?;
        tuple.serialize_element(&self.cursor)?;
        tuple.end()
    }
}

impl<'de> Deserialize<'de> for CurrentStep {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Pair;
        impl<'de> Visitor<'de> for Pair {
            type Value = CurrentStep;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a [step name, cursor] array")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<CurrentStep, A::Error> {
                let name: String = seq.next_element()?.ok_or_else(|| de::Error::invalid_length(0, &self))?;
                let cursor: Value = seq.next_element()?.unwrap_or(Value::Null);
                if seq.next_element::<de::IgnoredAny>()?.is_some() {
                    return Err(de::Error::invalid_length(3, &self));
                }
                Ok(CurrentStep { name, cursor })
            }
        }
        d.deserialize_seq(Pair)
    }
}

/// A running continuable job's progress: what it resumed from and what this run did, with the
/// checks of Rails' `InvalidStepError` cases.
#[derive(Debug, Default)]
pub(crate) struct Progress {
    completed: Vec<String>,
    current: Option<CurrentStep>,
    /// The current step's cursor when this run reached it, to tell whether it moved.
    initial_cursor: Value,
    /// Whether the current step came from the payload (a resumed step).
    resumed: bool,
    /// The steps this run has met, in order.
    encountered: Vec<String>,
    /// Whether a step's code is running now.
    running: bool,
    /// Whether this run completed a step or moved a cursor.
    advanced: bool,
    /// Set by an isolated step: later steps wait for a fresh execution.
    isolating: bool,
    /// Why this run was interrupted, once it was.
    interrupted: Option<&'static str>,
    /// The last step error this run met (a bad step order), so that it fails the job whatever
    /// the job's code made of it.
    invalid: Option<String>,
}

/// What [`Progress::enter`] decided for a step.
#[derive(Debug, PartialEq)]
pub(crate) enum Entry {
    /// Completed in an earlier run: skip it.
    Skip,
    /// Run it, from this cursor; `resumed` when the cursor came from an earlier run.
    Run { resumed: bool },
    /// An isolated step after progress: stop here and run it in a fresh execution.
    Isolate,
}

impl Progress {
    /// The progress the payload carries.
    pub(crate) fn from_payload(continuation: Option<&Continuation>) -> Self {
        let continuation = continuation.cloned().unwrap_or_default();
        let initial_cursor = continuation.current.as_ref().map(|c| c.cursor.clone()).unwrap_or(Value::Null);
        Progress {
            resumed: continuation.current.is_some(),
            completed: continuation.completed,
            current: continuation.current,
            initial_cursor,
            ..Progress::default()
        }
    }

    /// The progress as the payload carries it.
    pub(crate) fn to_payload(&self) -> Continuation {
        Continuation { completed: self.completed.clone(), current: self.current.clone() }
    }

    /// Whether this run completed a step or moved a cursor.
    pub(crate) fn advanced(&self) -> bool {
        self.advanced || self.current.as_ref().is_some_and(|c| c.cursor != self.initial_cursor)
    }

    /// Why the run was interrupted, if it was.
    pub(crate) fn interrupted(&self) -> Option<&'static str> {
        self.interrupted
    }

    /// The step error met in this run, if any.
    pub(crate) fn invalid(&self) -> Option<&str> {
        self.invalid.as_deref()
    }

    /// Records that the run stops here for `reason`; returns where it stopped.
    pub(crate) fn interrupt(&mut self, reason: &'static str) -> String {
        self.interrupted = Some(reason);
        self.to_payload().description()
    }

    /// Checks step `name` against the steps completed and met so far (Rails' `InvalidStepError`
    /// cases) and decides what to do with it.
    pub(crate) fn enter(&mut self, name: &str, isolated: bool) -> Result<Entry, Error> {
        if let Err(message) = self.validate(name) {
            self.invalid = Some(message.clone());
            return Err(Error::InvalidStep(message));
        }
        self.encountered.push(name.to_owned());
        if self.completed.iter().any(|c| c == name) {
            return Ok(Entry::Skip);
        }
        self.isolating |= isolated;
        if self.isolating && self.advanced() {
            return Ok(Entry::Isolate);
        }
        self.running = true;
        if self.current.is_none() {
            self.current = Some(CurrentStep { name: name.to_owned(), cursor: Value::Null });
            self.initial_cursor = Value::Null;
            self.resumed = false;
        }
        Ok(Entry::Run { resumed: self.resumed })
    }

    fn validate(&self, name: &str) -> Result<(), String> {
        let invalid = Err;
        if name.is_empty() {
            return invalid("a step needs a name".to_owned());
        }
        if self.encountered.iter().any(|e| e == name) {
            return invalid(format!("step '{name}' has already been encountered"));
        }
        if self.running
            && let Some(current) = &self.current
        {
            return invalid(format!("step '{name}' is nested inside step '{}'", current.name));
        }
        if let Some(current) = &self.current
            && current.name != name
            && !self.completed.iter().any(|c| c == name)
        {
            return invalid(format!("step '{name}' found, expected to resume from '{}'", current.name));
        }
        if let Some(expected) = self.completed.get(self.encountered.len())
            && expected != name
        {
            return invalid(format!("step '{name}' found, expected to see '{expected}'"));
        }
        Ok(())
    }

    /// Starts the step just entered afresh at `cursor`.
    pub(crate) fn start_at(&mut self, cursor: Value) {
        self.set_cursor(cursor.clone());
        self.initial_cursor = cursor;
    }

    /// The step in progress, if any.
    pub(crate) fn current(&self) -> Option<&CurrentStep> {
        self.current.as_ref()
    }

    /// The cursor of the running step.
    pub(crate) fn cursor(&self) -> &Value {
        self.current.as_ref().map_or(&Value::Null, |c| &c.cursor)
    }

    /// Sets the running step's cursor.
    pub(crate) fn set_cursor(&mut self, cursor: Value) {
        if let Some(current) = &mut self.current {
            current.cursor = cursor;
        }
    }

    /// The running step's code returned: completed if it succeeded, else left current.
    pub(crate) fn leave(&mut self, succeeded: bool) {
        self.running = false;
        if succeeded && let Some(current) = self.current.take() {
            self.completed.push(current.name);
            self.advanced = true;
        }
    }
}

/// The cursor after `cursor`, as Ruby's `succ` gives it for integers.
pub(crate) fn successor(cursor: &Value) -> Result<Value, Error> {
    match cursor {
        Value::Number(n) if n.is_i64() => {
            let next = n.as_i64().and_then(|v| v.checked_add(1));
            next.map(Value::from).ok_or_else(|| Error::UnadvanceableCursor(format!("cursor {cursor} overflows")))
        }
        Value::Number(n) if n.is_u64() => {
            let next = n.as_u64().and_then(|v| v.checked_add(1));
            next.map(Value::from).ok_or_else(|| Error::UnadvanceableCursor(format!("cursor {cursor} overflows")))
        }
        other => Err(Error::UnadvanceableCursor(format!(
            "cursor {other} is not an integer; only integer cursors advance, set others with `set`"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn progress(payload: Value) -> Progress {
        let continuation: Continuation = serde_json::from_value(payload).unwrap();
        Progress::from_payload(Some(&continuation))
    }

    #[test]
    fn reads_and_writes_rails_form() {
        let json = json!({"completed": ["download"], "current": ["rows", 4200]});
        let continuation: Continuation = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(continuation.current, Some(CurrentStep { name: "rows".into(), cursor: json!(4200) }));
        assert_eq!(serde_json::to_value(&continuation).unwrap(), json);
        assert_eq!(serde_json::to_value(Continuation::default()).unwrap(), json!({"completed": []}));
        assert_eq!(continuation.description(), "at 'rows', cursor 4200");
        assert!(serde_json::from_value::<Continuation>(json!({"current": ["a", 1, 2]})).is_err());
    }

    #[test]
    fn skips_completed_steps_and_resumes_the_current_one() {
        let mut p = progress(json!({"completed": ["a"], "current": ["b", 3]}));
        assert_eq!(p.enter("a", false).unwrap(), Entry::Skip);
        assert_eq!(p.enter("b", false).unwrap(), Entry::Run { resumed: true });
        assert_eq!(p.cursor(), &json!(3));
        assert!(!p.advanced());
        p.set_cursor(json!(4));
        assert!(p.advanced());
        p.leave(true);
        assert_eq!(p.to_payload(), Continuation { completed: vec!["a".into(), "b".into()], current: None });
    }

    #[test]
    fn rejects_rails_invalid_step_cases() {
        let mut p = Progress::default();
        p.enter("a", false).unwrap();
        let nested = p.enter("b", false).unwrap_err().to_string();
        assert!(nested.contains("step 'b' is nested inside step 'a'"), "{nested}");
        p.leave(true);
        let repeated = p.enter("a", false).unwrap_err().to_string();
        assert!(repeated.contains("step 'a' has already been encountered"), "{repeated}");
        assert!(p.invalid().is_some());

        let mut p = progress(json!({"completed": ["a", "b"]}));
        let order = p.enter("b", false).unwrap_err().to_string();
        assert!(order.contains("step 'b' found, expected to see 'a'"), "{order}");

        let mut p = progress(json!({"completed": ["a"], "current": ["b", null]}));
        p.enter("a", false).unwrap();
        let wrong = p.enter("c", false).unwrap_err().to_string();
        assert!(wrong.contains("step 'c' found, expected to resume from 'b'"), "{wrong}");
    }

    #[test]
    fn isolated_steps_wait_for_a_fresh_execution_after_progress() {
        let mut p = Progress::default();
        assert_eq!(p.enter("first", true).unwrap(), Entry::Run { resumed: false });
        p.leave(true);
        assert_eq!(p.enter("second", false).unwrap(), Entry::Isolate);
        let mut p = progress(json!({"completed": ["first"]}));
        p.enter("first", false).unwrap();
        assert_eq!(p.enter("second", true).unwrap(), Entry::Run { resumed: false });
    }

    #[test]
    fn integer_cursors_advance() {
        assert_eq!(successor(&json!(41)).unwrap(), json!(42));
        assert_eq!(successor(&json!(u64::MAX - 1)).unwrap(), json!(u64::MAX));
        assert!(successor(&json!("a")).unwrap_err().to_string().contains("only integer cursors advance"));
        assert!(successor(&Value::Null).is_err());
    }
}
