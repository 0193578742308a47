//! Test helpers in the spirit of `ActionMailer::TestHelper`, on the test adapter and a
//! [`MailConfig`] in test mode.
//!
//! ```
//! use jobs_core::{Runtime, adapters::TestAdapter};
//! use jobs_mailer::MailConfig;
//! use jobs_mailer::testing::{assert_emails, assert_enqueued_emails};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let jobs = TestAdapter::new();
//! let mail = MailConfig::builder().test().build()?;
//! let runtime = Runtime::builder().adapter(jobs.clone()).state(mail.clone()).build()?;
//! runtime.scope(async {
//!     assert_enqueued_emails(&jobs, 0);
//!     // Delivers the mails the block enqueues, and counts them.
//!     assert_emails(&jobs, 0, async { /* UserMailer::welcome(user).deliver_later().await */ }).await;
//! }).await;
//! assert!(mail.deliveries().is_empty());
//! # Ok(()) }
//! ```

use std::future::Future;

use jobs_core::adapters::{JobFilter, JobMatch, TestAdapter};
use jobs_core::{JobData, Runtime};

use crate::config::MailConfig;
use crate::delivery::MessageDelivery;
use crate::job::MailDeliveryJob;
use crate::mailer::MailAction;

fn current_mail() -> MailConfig {
    let runtime = Runtime::current().unwrap_or_else(|e| panic!("the mail test helpers need a current runtime: {e}"));
    let mail = runtime.state::<MailConfig>().unwrap_or_else(|e| {
        panic!("the mail test helpers need a MailConfig in the runtime's state (Runtime::builder().state(..)): {e}")
    });
    assert!(mail.is_test(), "the mail test helpers need a MailConfig in test mode: MailConfig::builder().test()");
    (*mail).clone()
}

/// Runs `block`, then delivers the mail jobs it enqueued on `jobs` that are due, and asserts
/// that `count` mails were delivered in all (`deliver_now` and `deliver_later` alike); returns
/// the block's output. Action Mailer's `assert_emails 2 do ... end`.
///
/// # Panics
///
/// If the count differs, if a mail job fails, or without a current runtime holding a
/// [`MailConfig`] in test mode.
pub async fn assert_emails<F: Future>(jobs: &TestAdapter, count: usize, block: F) -> F::Output {
    let mail = current_mail();
    let before = mail.deliveries().len();
    let output = block.await;
    let now = Runtime::current().map(|r| r.now()).unwrap_or_else(|_| chrono::Utc::now());
    if let Err(e) = jobs.perform_enqueued_jobs(JobFilter::any().only::<MailDeliveryJob>().at(now)).await {
        panic!("a mail job failed: {e}");
    }
    let delivered = &mail.deliveries()[before..];
    let list: Vec<String> = delivered.iter().map(|d| format!("{}#{} to {:?}", d.mailer, d.action, d.to)).collect();
    assert_eq!(delivered.len(), count, "expected {count} mails delivered, got {}: {list:?}", delivered.len());
    output
}

/// [`assert_emails`] with 0.
pub async fn assert_no_emails<F: Future>(jobs: &TestAdapter, block: F) -> F::Output {
    assert_emails(jobs, 0, block).await
}

/// Asserts that `count` mail jobs are enqueued on `jobs`: Action Mailer's
/// `assert_enqueued_emails`.
pub fn assert_enqueued_emails(jobs: &TestAdapter, count: usize) {
    jobs.assert_enqueued_jobs(count, JobFilter::any().only::<MailDeliveryJob>());
}

/// Asserts that a mail job for this very delivery (mailer, action and arguments) is enqueued on
/// `jobs`, and returns its payload: Action Mailer's
/// `assert_enqueued_email_with UserMailer, :welcome, args: [user]`, written
/// `assert_enqueued_email_with(&jobs, UserMailer::welcome(user))`.
///
/// # Panics
///
/// If no such job is enqueued, or the arguments cannot be encoded.
pub fn assert_enqueued_email_with<A: MailAction>(jobs: &TestAdapter, delivery: MessageDelivery<A>) -> JobData {
    let arguments = delivery.payload_arguments().unwrap_or_else(|e| panic!("cannot encode the expected mail: {e}"));
    jobs.assert_enqueued_with(JobMatch::class::<MailDeliveryJob>().arguments(arguments))
}
