//! A job's word to the runtime about its own run: snooze (run me again later) and cancel (I am
//! obsolete), River's `JobSnooze` and `JobCancel`, Oban's `{:snooze, s}` and `{:cancel, reason}`.
//!
//! Both travel as the job's error, so that they fit every job signature that can fail with a
//! [`JobError`], a `Box<dyn Error>` or an `anyhow::Error`; the runtime recognises them before
//! any `rescue_from`, `retry_on` or `discard_on` sees the error.

use std::time::Duration;

use super::error::JobError;

/// A job asked to run again after [`Snooze::wait`]: see [`snooze`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("snoozed for {wait:?}")]
pub struct Snooze {
    /// How long until the job runs again.
    pub wait: Duration,
}

/// A job cancelled itself: see [`cancel`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cancelled: {reason}")]
pub struct Cancel {
    /// Why, as the job said it.
    pub reason: String,
}

/// Ends this run and runs the job again after `wait` (at once for a zero wait), as River's
/// `JobSnooze` and Oban's `{:snooze, seconds}`.
///
/// Return it as the job's error. A snooze is not a failure: the job is stored again with the same
/// job id, arguments, `executions` and `exception_executions` (no attempt is spent, no error is
/// recorded, no `retry_on` or `rescue_from` sees it), the run's claim completes, and the
/// [`Perform`](super::EventKind::Perform) event says [`Outcome::Snoozed`](super::Outcome::Snoozed)
/// with [`Event::wait`](super::Event::wait). As with any error, `after_perform` callbacks do not
/// run (the job did not finish). A continuable job keeps its progress.
///
/// ```
/// use std::time::Duration;
/// use jobs_core::{JobContext, JobError};
///
/// async fn sync_account(ctx: &JobContext, rate_limited: bool) -> Result<(), JobError> {
///     if rate_limited {
///         return Err(jobs_core::snooze(Duration::from_secs(30)));
///     }
///     Ok(())
/// }
/// # let error = jobs_core::snooze(Duration::from_secs(30));
/// # assert_eq!(error.snoozed(), Some(Duration::from_secs(30)));
/// ```
pub fn snooze(wait: Duration) -> JobError {
    JobError::new("jobs::Snooze", Snooze { wait })
}

/// Ends the job for good, without a retry, as River's `JobCancel` and Oban's `{:cancel, reason}`.
///
/// Return it as the job's error when the job finds it has become obsolete (the order was
/// refunded, the user deleted). A cancel is a clean discard: no `retry_on` or `rescue_from` sees
/// it, the worker's retry policy does not apply, nothing goes to the dead set, and the stored job
/// ends completed. `after_discard` callbacks run with the cancel as their error, the run logs
/// `Cancelled ...: reason`, and the [`Perform`](super::EventKind::Perform) event says
/// [`Outcome::Cancelled`](super::Outcome::Cancelled) with the reason as
/// [`Event::reason`](super::Event::reason).
///
/// ```
/// let error = jobs_core::cancel("the order was refunded");
/// assert_eq!(error.cancelled(), Some("the order was refunded"));
/// assert_eq!(error.to_string(), "jobs::Cancel: cancelled: the order was refunded");
/// ```
pub fn cancel(reason: impl Into<String>) -> JobError {
    JobError::new("jobs::Cancel", Cancel { reason: reason.into() })
}

impl JobError {
    /// The wait this error asks for, if it is a [`snooze`] (wrapped in other errors or not).
    pub fn snoozed(&self) -> Option<Duration> {
        self.find::<Snooze>().map(|snooze| snooze.wait)
    }

    /// The reason this error gives, if it is a [`cancel`] (wrapped in other errors or not).
    pub fn cancelled(&self) -> Option<&str> {
        self.find::<Cancel>().map(|cancel| cancel.reason.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snooze_and_cancel_are_found_through_the_boxes_a_job_puts_them_in() {
        let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(snooze(Duration::from_secs(5)));
        let error = JobError::from_error(boxed);
        assert_eq!(error.snoozed(), Some(Duration::from_secs(5)));
        assert_eq!(error.cancelled(), None);
        let error = JobError::from_error(JobError::from_error(cancel("gone")));
        assert_eq!((error.cancelled(), error.class()), (Some("gone"), "jobs::Cancel"));
        let plain = JobError::from_error(String::from("snoozed for 5s"));
        assert_eq!((plain.snoozed(), plain.cancelled()), (None, None), "a message is only a message");
    }
}
