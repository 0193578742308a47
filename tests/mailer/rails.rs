//! Mail jobs exchanged with Action Mailer 6.1+, both ways (tests/fixtures/activejob/mailer.rb).

use jobs::JobData;
use jobs::adapter::{Adapter, NewJob};
use jobs::adapters::JobFilter;
use jobs::mailer::MailConfig;

use crate::app::{UserMailer, ada, runtime};
use crate::common::rails::{fixture, ruby_with, run_script};

/// Performs `data` (a payload Rails wrote) in test mode; the mails delivered.
async fn deliver(data: JobData) -> Vec<jobs::mailer::Delivered> {
    let (runtime, jobs, mail) = runtime(MailConfig::builder().test());
    jobs.enqueue(&NewJob::new(data).unwrap()).await.unwrap();
    assert_eq!(runtime.scope(jobs.perform_enqueued_jobs(JobFilter::any())).await.unwrap(), 1);
    mail.deliveries()
}

fn assert_welcomed_ada(delivered: &[jobs::mailer::Delivered]) {
    assert_eq!(delivered.len(), 1, "{delivered:?}");
    assert_eq!((delivered[0].mailer.as_str(), delivered[0].action.as_str()), ("UserMailer", "welcome"));
    assert_eq!(delivered[0].to, ["Ada <ada@example.com>"]);
    assert_eq!(delivered[0].subject, "Welcome, Ada");
    assert!(delivered[0].text.as_deref().unwrap().contains("Hello Ada!\n\nhi"), "{delivered:?}");
}

#[tokio::test]
async fn a_mail_rails_enqueued_is_delivered_by_rust() {
    // Written by Action Mailer 6.1: UserMailer.welcome(User.find(42), "hi").deliver_later.
    let data = fixture("mail_delivery");
    assert_eq!((data.job_class.as_str(), data.queue_name.as_str()), ("ActionMailer::MailDeliveryJob", "mailers"));
    assert_welcomed_ada(&deliver(data).await);
}

#[tokio::test]
async fn rust_enqueues_the_payload_rails_does() {
    let (runtime, jobs, _mail) = runtime(MailConfig::builder().test());
    runtime.scope(UserMailer::welcome(ada().into(), "hi".into()).deliver_later()).await.unwrap();
    let ours = jobs.enqueued_jobs().pop().unwrap();
    let rails = fixture("mail_delivery");
    assert_eq!(
        (ours.job_class, ours.queue_name, ours.priority, ours.arguments),
        (rails.job_class, rails.queue_name, rails.priority, rails.arguments)
    );
}

#[tokio::test]
async fn action_mailer_enqueues_and_rust_delivers() {
    if !ruby_with(&["active_job", "action_mailer"], "ruby-actionmailer", "the Action Mailer interop test") {
        return;
    }
    let file = std::env::temp_dir().join(format!("jobs-mailer-from-rails-{}.json", std::process::id()));
    let (ok, output) = run_script("mailer.rb", &["enqueue".as_ref(), file.as_os_str()]);
    assert!(ok, "Action Mailer could not enqueue:\n{output}");
    let json = std::fs::read_to_string(&file).unwrap();
    let _ = std::fs::remove_file(&file);
    assert_welcomed_ada(&deliver(JobData::from_json(&json).unwrap()).await);
}

#[tokio::test]
async fn action_mailer_delivers_what_rust_enqueued() {
    if !ruby_with(&["active_job", "action_mailer"], "ruby-actionmailer", "the Action Mailer interop test") {
        return;
    }
    let (runtime, jobs, _mail) = runtime(MailConfig::builder().test());
    runtime.scope(UserMailer::welcome(ada().into(), "hi from Rust".into()).deliver_later()).await.unwrap();
    let dir = std::env::temp_dir().join(format!("jobs-mailer-to-rails-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("welcome.json"), jobs.enqueued_jobs().pop().unwrap().to_json().unwrap()).unwrap();
    let (ok, output) = run_script("mailer.rb", &["deliver".as_ref(), dir.as_os_str()]);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(ok, "Action Mailer could not deliver what Rust enqueued:\n{output}");
    // Rails' UserMailer#welcome(user, note) received User 42 (located by its global id) and the note.
    assert!(
        output.contains(
            "delivered to=user42@example.com from=hello@example.com subject=Welcome, user 42 body=hi from Rust"
        ),
        "{output}"
    );
    assert!(output.contains("1 of 1 mails from Rust delivered"), "{output}");
}
