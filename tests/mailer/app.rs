//! The application under test: users, and a UserMailer as a Rails app would have it.

use std::path::Path;

use jobs::BoxError;
use jobs::adapters::TestAdapter;
use jobs::mailer::{Attachment, Mail, MailConfig, MailConfigBuilder, MailError, mailer};
use jobs::prelude::*;

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct User {
    pub(crate) id: i64,
    pub(crate) name: String,
    pub(crate) email: String,
}

/// The users that exist.
pub(crate) struct Users(pub(crate) Vec<User>);

impl GlobalId for User {
    const MODEL: &'static str = "User";

    fn model_id(&self) -> String {
        self.id.to_string()
    }

    async fn locate(id: &str, ctx: &JobContext) -> Result<Option<Self>, BoxError> {
        let id: i64 = id.parse()?;
        Ok(ctx.state::<Users>()?.0.iter().find(|u| u.id == id).cloned())
    }
}

pub(crate) fn ada() -> User {
    User { id: 42, name: "Ada".into(), email: "ada@example.com".into() }
}

pub(crate) struct UserMailer;

#[mailer(from = "Example <hello@example.com>", reply_to = "help@example.com", layout = "mailer")]
impl UserMailer {
    /// Rails' UserMailer#welcome(user, note) in tests/fixtures/activejob/mailer.rb, with templates.
    pub(crate) async fn welcome(user: Global<User>, note: String) -> Result<Mail, MailError> {
        Ok(Mail::new()
            .to(format!("{} <{}>", user.name, user.email))
            .subject(format!("Welcome, {}", user.name))
            .with("name", &user.name)
            .with("note", note)
            .attach(Attachment::new("terms.txt", "text/plain", Self::terms())))
    }

    /// A text-only mail to any address, no template, no layout.
    pub(crate) async fn notice(to: String, text: String) -> Result<Mail, MailError> {
        Ok(Mail::new().to(to).subject("Notice").text_body(text).without_layout())
    }

    fn terms() -> Vec<u8> {
        b"Be nice.\nShare.\n".to_vec()
    }
}

pub(crate) fn templates() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mailer/templates")
}

/// A runtime on a fresh test adapter with `mail` (templates added) and the users.
pub(crate) fn runtime(mail: MailConfigBuilder) -> (Runtime, TestAdapter, MailConfig) {
    let jobs = TestAdapter::new();
    let mail = mail.template_dir(templates()).build().unwrap();
    let runtime = Runtime::builder()
        .adapter(jobs.clone())
        .app_name("myapp")
        .state(mail.clone())
        .state(Users(vec![ada()]))
        .build()
        .unwrap();
    (runtime, jobs, mail)
}
