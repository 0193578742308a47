//! A job that snoozes its first runs, or cancels itself.

use std::time::Duration;

use serde_json::Value;

use jobs_core::encoding::{ArgumentsReader, EncodeContext, to_argument};
use jobs_core::{Error, Job, JobContext, JobError};

use super::Probe;

/// Records each run; snoozes for `wait_ms` while it has run `snoozes` times or fewer (its
/// `executions` stay the same, so it counts its runs in the probe), or, with `cancel`, cancels
/// itself at once.
#[derive(Debug)]
pub(crate) struct Snoozy {
    pub(crate) key: String,
    pub(crate) snoozes: usize,
    pub(crate) wait_ms: u64,
    pub(crate) cancel: bool,
}

impl Snoozy {
    /// Snoozes `snoozes` times for `wait`, then succeeds.
    pub(crate) fn snoozing(key: impl Into<String>, snoozes: usize, wait: Duration) -> Self {
        Snoozy { key: key.into(), snoozes, wait_ms: wait.as_millis() as u64, cancel: false }
    }

    /// Cancels itself on its first run.
    pub(crate) fn cancelling(key: impl Into<String>) -> Self {
        Snoozy { key: key.into(), snoozes: 0, wait_ms: 0, cancel: true }
    }
}

impl Job for Snoozy {
    const NAME: &'static str = "Conformance::Snoozy";
    type Output = Result<(), JobError>;

    fn to_arguments(&self, _cx: &EncodeContext<'_>) -> Result<Vec<Value>, Error> {
        Ok(vec![
            to_argument(Self::NAME, "key", &self.key)?,
            to_argument(Self::NAME, "snoozes", &self.snoozes)?,
            to_argument(Self::NAME, "wait_ms", &self.wait_ms)?,
            to_argument(Self::NAME, "cancel", &self.cancel)?,
        ])
    }

    fn from_arguments(arguments: Vec<Value>) -> Result<Self, Error> {
        let mut reader = ArgumentsReader::new(Self::NAME, arguments, 4)?;
        Ok(Snoozy {
            key: reader.next("key")?,
            snoozes: reader.next("snoozes")?,
            wait_ms: reader.next("wait_ms")?,
            cancel: reader.next("cancel")?,
        })
    }

    async fn perform(self, ctx: JobContext) -> Result<Self::Output, Error> {
        let probe = ctx.state::<Probe>()?;
        probe.record(&self.key, &ctx);
        if self.cancel {
            return Ok(Err(jobs_core::cancel(format!("{} is obsolete", self.key))));
        }
        if probe.count(&self.key) <= self.snoozes {
            return Ok(Err(jobs_core::snooze(Duration::from_millis(self.wait_ms))));
        }
        Ok(Ok(()))
    }
}
