//! Test mode: mail delivered into memory, and the ActionMailer::TestHelper-style assertions.

use std::time::Duration;

use jobs::Job;
use jobs::adapters::JobFilter;
use jobs::mailer::testing::{assert_emails, assert_enqueued_email_with, assert_enqueued_emails, assert_no_emails};
use jobs::mailer::{MailConfig, MailDeliveryJob, MailError};
use serde_json::json;

use crate::app::{UserMailer, ada, runtime};

#[tokio::test]
async fn deliver_now_renders_both_parts_in_the_layout_with_the_mailers_defaults() {
    let (runtime, _jobs, mail) = runtime(MailConfig::builder().test());
    let sent =
        runtime.scope(UserMailer::welcome(ada().into(), "Glad you're here & well".into()).deliver_now()).await.unwrap();
    assert_eq!(mail.deliveries(), vec![sent.clone()]);
    assert_eq!((sent.mailer.as_str(), sent.action.as_str()), ("UserMailer", "welcome"));
    assert_eq!(sent.from, "Example <hello@example.com>");
    assert_eq!(sent.reply_to.as_deref(), Some("help@example.com"));
    assert_eq!(sent.to, vec!["Ada <ada@example.com>"]);
    assert_eq!(sent.subject, "Welcome, Ada");
    assert_eq!(sent.text.as_deref(), Some("Hello Ada!\n\nGlad you're here & well\n-- \nThe Example team"));
    let html = sent.html.as_deref().unwrap();
    assert!(html.starts_with("<!DOCTYPE html>\n<html><body><h1>Hello Ada!</h1>"), "{html}");
    assert!(html.contains("<p>Glad you&#x27;re here &amp; well</p>"), "the HTML part escapes: {html}");
    assert!(html.ends_with("<footer>The Example team</footer></body></html>"), "{html}");
    assert_eq!(sent.attachments.len(), 1);
    assert_eq!(sent.attachments[0].filename, "terms.txt");
    let raw = sent.raw_text();
    assert!(raw.contains("Content-Type: multipart/mixed"), "{raw}");
    assert!(raw.contains("Content-Type: multipart/alternative"), "{raw}");
}

#[tokio::test]
async fn deliver_later_enqueues_rails_mail_delivery_job() {
    let (runtime, jobs, mail) = runtime(MailConfig::builder().test());
    runtime
        .scope(async {
            UserMailer::welcome(ada().into(), "hi".into()).deliver_later().await.unwrap();
            assert_enqueued_emails(&jobs, 1);
            let data = assert_enqueued_email_with(&jobs, UserMailer::welcome(ada().into(), "hi".into()));
            assert_eq!(data.job_class, "ActionMailer::MailDeliveryJob");
            assert_eq!(data.queue_name, "mailers");
            assert_eq!(
                serde_json::Value::from(data.arguments),
                json!([
                    "UserMailer",
                    "welcome",
                    "deliver_now",
                    { "args": [{ "_aj_globalid": "gid://myapp/User/42" }, "hi"], "_aj_ruby2_keywords": ["args"] }
                ])
            );
        })
        .await;
    assert!(mail.deliveries().is_empty(), "nothing is delivered until the job runs");
}

#[tokio::test]
async fn deliver_later_with_sets_wait_queue_and_priority() {
    let (runtime, jobs, _mail) = runtime(MailConfig::builder().test());
    let before = runtime.now();
    runtime
        .scope(
            UserMailer::notice("ada@example.com".into(), "x".into())
                .deliver_later_with()
                .wait(Duration::from_secs(3600))
                .queue("low")
                .priority(5)
                .deliver_later(),
        )
        .await
        .unwrap();
    let data = jobs.enqueued_jobs().pop().unwrap();
    assert_eq!((data.queue_name.as_str(), data.priority), ("low", Some(5)));
    let due = data.scheduled_at.unwrap();
    assert!(due >= before + chrono::TimeDelta::seconds(3600), "{due} vs {before}");
    let at = before + chrono::TimeDelta::days(1);
    runtime
        .scope(
            UserMailer::notice("ada@example.com".into(), "x".into())
                .deliver_later_with()
                .wait_until(at)
                .deliver_later(),
        )
        .await
        .unwrap();
    assert_eq!(jobs.enqueued_jobs().pop().unwrap().scheduled_at, Some(at));
}

#[tokio::test]
async fn assert_emails_delivers_what_the_block_enqueued() {
    let (runtime, jobs, mail) = runtime(MailConfig::builder().test());
    runtime
        .scope(async {
            assert_emails(&jobs, 2, async {
                UserMailer::welcome(ada().into(), "hi".into()).deliver_later().await.unwrap();
                UserMailer::notice("bob@example.com".into(), "hello".into()).deliver_now().await.unwrap();
            })
            .await;
            assert_no_emails(&jobs, async {}).await;
        })
        .await;
    let subjects: Vec<_> = mail.deliveries().into_iter().map(|d| d.subject).collect();
    assert_eq!(subjects, ["Notice", "Welcome, Ada"]);
    jobs.assert_performed_jobs(1, JobFilter::any().only::<MailDeliveryJob>());
}

#[tokio::test]
#[should_panic(expected = "expected 1 mails delivered, got 0")]
async fn assert_emails_fails_when_the_count_differs() {
    let (runtime, jobs, _mail) = runtime(MailConfig::builder().test());
    runtime.scope(assert_emails(&jobs, 1, async {})).await;
}

#[tokio::test]
async fn a_deleted_record_is_a_deserialization_error_and_a_failed_action_says_which() {
    let (runtime, jobs, mail) = runtime(MailConfig::builder().test());
    let gone = crate::app::User { id: 7, ..ada() };
    runtime.scope(UserMailer::welcome(gone.into(), "hi".into()).deliver_later()).await.unwrap();
    let err = runtime.scope(jobs.perform_enqueued_jobs(JobFilter::any())).await.unwrap_err();
    let jobs::Error::Job(failure) = err else { panic!("expected a job failure, got {err:?}") };
    assert_eq!(failure.class(), "ActiveJob::DeserializationError");
    assert!(
        failure.message().contains("argument `user`: record not found: gid://myapp/User/7"),
        "{}",
        failure.message()
    );
    assert!(mail.deliveries().is_empty());

    let err = runtime.scope(UserMailer::notice("not an address".into(), "x".into()).deliver_now()).await.unwrap_err();
    let jobs::Error::Job(failure) = err else { panic!("expected a job failure, got {err:?}") };
    assert!(matches!(failure.downcast_ref::<MailError>(), Some(MailError::Address(_))), "{failure}");
}

#[test]
fn payloads_rust_cannot_deliver_are_clear_errors() {
    let keywords = |extra: serde_json::Value| {
        let mut hash = json!({ "args": [], "_aj_ruby2_keywords": ["args"] });
        hash.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        vec![json!("UserMailer"), json!("welcome"), json!("deliver_now"), hash]
    };
    let message = |args| MailDeliveryJob::from_arguments(args).unwrap_err().to_string();
    assert!(message(keywords(json!({ "params": { "user": 1 } }))).contains("`params` is not supported"));
    assert!(message(vec![json!("UserMailer")]).contains("expected 4 arguments"));
    let mut later = keywords(json!({}));
    later[2] = json!("deliver_later");
    assert!(message(later).contains("unknown delivery method `deliver_later`"));
}

#[tokio::test]
async fn an_action_no_process_declares_fails_and_is_retried_by_the_worker_policy() {
    let (runtime, jobs, _mail) = runtime(MailConfig::builder().test());
    let mut data = UserMailer::notice("a@example.com".into(), "x".into()).payload_arguments().unwrap();
    data[0] = json!("AdminMailer");
    let job = MailDeliveryJob::from_arguments(data).unwrap();
    runtime.scope(jobs::ConfiguredJob::<MailDeliveryJob>::new().enqueue(job)).await.unwrap();
    let err = runtime.scope(jobs.perform_enqueued_jobs(JobFilter::any())).await.unwrap_err();
    assert!(err.to_string().contains("no mailer action AdminMailer#notice in this process"), "{err}");
}
