//! A welcome mail, delivered later: enqueued as Rails' `ActionMailer::MailDeliveryJob`, performed
//! by a worker, rendered from examples/templates and sent to an SMTP server.
//!
//! Start an SMTP sink first, e.g. the one the tests use (Python's aiosmtpd; it keeps each message
//! as a file in the folder):
//!
//! ```sh
//! python3 -m venv ~/.cache/jobs-aiosmtpd && ~/.cache/jobs-aiosmtpd/bin/pip install aiosmtpd
//! ~/.cache/jobs-aiosmtpd/bin/python3 tests/fixtures/smtp/sink.py --port 2525 --dir /tmp/mail &
//! SMTP_URL=smtp://127.0.0.1:2525 cargo run --example mailer --features mailer
//! ```

use std::time::Duration;

use jobs::mailer::{Attachment, Mail, MailConfig, MailError, mailer};
use jobs::prelude::*;

/// The mails about users.
pub struct UserMailer;

#[mailer(from = "Example <hello@example.com>", layout = "mailer")]
impl UserMailer {
    /// Welcomes a new user: examples/templates/user_mailer/welcome.{text,html}.jinja.
    pub async fn welcome(email: String, name: String) -> Result<Mail, MailError> {
        Ok(Mail::new()
            .to(format!("{name} <{email}>"))
            .subject(format!("Welcome, {name}"))
            .with("name", name)
            .attach(Attachment::new("getting-started.txt", "text/plain", b"1. Log in.\n2. Say hi.\n".to_vec())))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mail = MailConfig::builder()
        .smtp_from_env()
        .template_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/templates"))
        .after_discard(|ctx, error| eprintln!("gave up on mail job {}: {error}", ctx.job_id()))
        .build()?;
    let memory = MemoryAdapter::new();
    let runtime = Runtime::builder().adapter(memory.clone()).state(mail).build()?;
    runtime.install();

    // Right here, no queue: a failure is returned at once.
    let sent = UserMailer::welcome("ada@example.com".into(), "Ada".into()).deliver_now().await?;
    println!("delivered now: {:?} to {:?}", sent.subject, sent.to);

    // Later, by a worker: the job waits on the `mailers` queue.
    let enqueued = UserMailer::welcome("bob@example.com".into(), "Bob".into()).deliver_later().await?;
    println!("enqueued ActionMailer::MailDeliveryJob {}", enqueued.job_id);
    let worker = Worker::builder()
        .runtime(&runtime)
        .queues(["mailers"])
        .poll_interval(Duration::from_millis(50))
        .build()?
        .start();
    let mut waited = Duration::ZERO;
    while memory.pending() > 0 && waited < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited += Duration::from_millis(50);
    }
    worker.shutdown().await?;
    if memory.pending() > 0 || !memory.dead().is_empty() {
        return Err("the mail job was not delivered: is an SMTP server listening at SMTP_URL?".into());
    }
    println!("delivered later: the welcome mail to Bob, by a worker");
    Ok(())
}
