//! Delivery through a real SMTP server (tests/fixtures/smtp/sink.py): what arrives, and what a
//! 451 or a 550 from the server does to the mail job.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use jobs::adapters::JobFilter;
use jobs::mailer::MailConfig;

use crate::app::{UserMailer, ada, runtime};
use crate::common::smtp::SmtpSink;

#[tokio::test]
async fn a_multipart_mail_with_an_attachment_arrives_as_sent() {
    let Some(sink) = SmtpSink::start("a_multipart_mail_with_an_attachment_arrives_as_sent") else { return };
    let (runtime, jobs, _mail) = runtime(MailConfig::builder().smtp_url(sink.url()));
    runtime
        .scope(async {
            UserMailer::welcome(ada().into(), "Glad you're here".into()).deliver_later().await.unwrap();
            assert_eq!(jobs.perform_enqueued_jobs(JobFilter::any()).await.unwrap(), 1);
        })
        .await;
    let received = sink.received();
    assert_eq!(received.len(), 1, "{received:?}");
    let mail = &received[0];
    assert_eq!(mail.mail_from, "hello@example.com");
    assert_eq!(mail.rcpt_tos, ["ada@example.com"]);
    assert_eq!(mail.header("From"), Some("Example <hello@example.com>"));
    assert_eq!(mail.header("To"), Some("Ada <ada@example.com>"));
    assert_eq!(mail.header("Reply-To"), Some("help@example.com"));
    assert_eq!(mail.header("Subject"), Some("Welcome, Ada"));
    assert!(mail.header("Message-ID").is_some_and(|id| id.contains('@')), "{:?}", mail.headers);
    assert!(mail.header("Date").is_some());
    assert_eq!(
        mail.content_types(),
        ["multipart/mixed", "multipart/alternative", "text/plain", "text/html", "text/plain"]
    );
    assert_eq!(mail.body("text/plain").unwrap(), "Hello Ada!\n\nGlad you're here\n-- \nThe Example team");
    let html = mail.body("text/html").unwrap();
    assert!(html.contains("<h1>Hello Ada!</h1>\n<p>Glad you&#x27;re here</p>"), "{html}");
    let attachment = mail.parts.iter().find(|p| p["disposition"] == "attachment").unwrap();
    assert_eq!(attachment["filename"], "terms.txt");
    assert_eq!(attachment["content"].as_str().unwrap().replace("\r\n", "\n"), "Be nice.\nShare.\n");
}

#[tokio::test]
async fn deliver_now_sends_right_away() {
    let Some(sink) = SmtpSink::start("deliver_now_sends_right_away") else { return };
    let (runtime, _jobs, mail) = runtime(MailConfig::builder().smtp_url(sink.url()));
    let sent =
        runtime.scope(UserMailer::notice("bob@example.com".into(), "Hello Bob".into()).deliver_now()).await.unwrap();
    assert!(mail.deliveries().is_empty(), "SMTP mode keeps no deliveries");
    let received = sink.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].content_types(), ["text/plain"]);
    assert_eq!(received[0].body("text/plain").unwrap(), "Hello Bob");
    assert_eq!(received[0].header("Subject"), Some(sent.subject.as_str()));
}

#[tokio::test]
async fn a_451_is_retried_polynomially_longer() {
    let Some(sink) = SmtpSink::start("a_451_is_retried_polynomially_longer") else { return };
    let discarded = Arc::new(Mutex::new(Vec::new()));
    let seen = discarded.clone();
    let config = MailConfig::builder()
        .smtp_url(sink.url())
        .after_discard(move |_ctx, error| seen.lock().unwrap().push(error.message()));
    let (runtime, jobs, _mail) = runtime(config);
    let now = runtime.now();
    runtime
        .scope(async {
            UserMailer::notice("busy@example.com".into(), "x".into()).deliver_later().await.unwrap();
            // The run fails with 451; retry_on handles it by enqueueing a retry, due later.
            assert_eq!(jobs.perform_enqueued_jobs(JobFilter::any().at(runtime.now())).await.unwrap(), 1);
        })
        .await;
    assert!(sink.received().is_empty());
    assert!(discarded.lock().unwrap().is_empty());
    let retry = jobs.enqueued_jobs().pop().expect("a retry is enqueued");
    assert_eq!(retry.job_class, "ActionMailer::MailDeliveryJob");
    assert_eq!(retry.executions, 1);
    assert_eq!(retry.exception_executions.get("[jobs_mailer::MailError::Transient]"), Some(&1));
    let due = retry.scheduled_at.unwrap();
    // polynomially_longer: 1⁴ + 2 s, plus up to 15 % jitter of 1 s.
    assert!(due >= now + chrono::TimeDelta::seconds(3), "{due} vs {now}");
    assert!(due <= runtime.now() + chrono::TimeDelta::milliseconds(3150), "{due}");
    let performed = jobs.performed_jobs();
    assert_eq!(performed.len(), 1);
}

#[tokio::test]
async fn a_550_is_discarded_and_after_discard_hooks_run() {
    let Some(sink) = SmtpSink::start("a_550_is_discarded_and_after_discard_hooks_run") else { return };
    let discarded = Arc::new(Mutex::new(Vec::new()));
    let seen = discarded.clone();
    let config = MailConfig::builder()
        .smtp_url(sink.url())
        .after_discard(move |ctx, error| seen.lock().unwrap().push((ctx.job_class().to_owned(), error.message())));
    let (runtime, jobs, _mail) = runtime(config);
    runtime
        .scope(async {
            UserMailer::notice("gone@example.com".into(), "x".into()).deliver_later().await.unwrap();
            assert_eq!(jobs.perform_enqueued_jobs(JobFilter::any()).await.unwrap(), 1);
        })
        .await;
    assert!(sink.received().is_empty());
    assert!(jobs.enqueued_jobs().is_empty(), "a permanent failure is not retried");
    let discarded = discarded.lock().unwrap().clone();
    assert_eq!(discarded.len(), 1, "{discarded:?}");
    assert_eq!(discarded[0].0, "ActionMailer::MailDeliveryJob");
    assert!(discarded[0].1.contains("permanent delivery failure (550)"), "{discarded:?}");
}

#[tokio::test]
async fn a_refused_connection_is_transient() {
    // A port nothing listens on: bound, then closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let config = MailConfig::builder().smtp_url(format!("smtp://127.0.0.1:{port}")).timeout(Duration::from_secs(5));
    let (runtime, jobs, _mail) = runtime(config);
    runtime
        .scope(async {
            UserMailer::notice("bob@example.com".into(), "x".into()).deliver_later().await.unwrap();
            jobs.perform_enqueued_jobs(JobFilter::any().at(runtime.now())).await.unwrap();
        })
        .await;
    let retry = jobs.enqueued_jobs().pop().expect("a retry is enqueued");
    assert_eq!(retry.exception_executions.get("[jobs_mailer::MailError::Transient]"), Some(&1));
}
