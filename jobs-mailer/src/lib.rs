//! Mail sent outside the request: Action Mailer's `deliver_later` for
//! [`jobs`](https://docs.rs/jobs), on [`lettre`].
//!
//! Use it through the `jobs` crate's `mailer` feature, as `jobs::mailer`.
//!
//! ```no_run
//! use jobs::mailer::{Mail, MailConfig, MailError, mailer};
//! use jobs::prelude::*;
//!
//! # #[derive(Clone)] struct User { id: i64, name: String, email: String }
//! # impl GlobalId for User {
//! #     const MODEL: &'static str = "User";
//! #     fn model_id(&self) -> String { self.id.to_string() }
//! #     async fn locate(_: &str, _: &JobContext) -> Result<Option<Self>, jobs::BoxError> { Ok(None) }
//! # }
//! pub struct UserMailer;
//!
//! #[mailer(from = "Example <hello@example.com>", layout = "mailer")]
//! impl UserMailer {
//!     /// Says hello: templates/user_mailer/welcome.{text,html}.jinja.
//!     pub async fn welcome(user: Global<User>) -> Result<Mail, MailError> {
//!         Ok(Mail::new().to(&user.email).subject(format!("Welcome, {}", user.name)).with("name", &user.name))
//!     }
//! }
//!
//! # async fn demo(user: User) -> Result<(), Box<dyn std::error::Error>> {
//! let mail = MailConfig::builder().smtp_from_env().template_dir("templates").build()?;
//! Runtime::builder().app_name("shop").state(mail).build()?.install();
//!
//! UserMailer::welcome(user.clone().into()).deliver_later().await?;   // ActionMailer::MailDeliveryJob on `mailers`
//! UserMailer::welcome(user.clone().into())
//!     .deliver_later_with()
//!     .wait(std::time::Duration::from_secs(3600))
//!     .queue("low")
//!     .deliver_later()
//!     .await?;
//! UserMailer::welcome(user.into()).deliver_now().await?;              // rendered and sent right here
//! # Ok(()) }
//! ```
//!
//! | piece | Action Mailer | here |
//! |---|---|---|
//! | a mailer and its actions | `class UserMailer < ApplicationMailer` | `#[mailer] impl UserMailer { async fn welcome(..) -> Result<Mail, _> }` |
//! | `mail(to:, subject:)` | | [`Mail`] |
//! | views and layouts | `app/views/user_mailer/welcome.html.erb`, `layouts/mailer.html.erb` | `user_mailer/welcome.html.jinja`, `layouts/mailer.html.jinja` ([`Templates`]) |
//! | `default from:`, `layout` | on the mailer, on `ApplicationMailer` | `#[mailer(from, reply_to, layout)]`, [`MailConfigBuilder`] |
//! | `attachments[..] = ..` | | [`Attachment`] |
//! | `deliver_later(wait:, queue:, priority:)`, `deliver_now` | [`MessageDelivery`] | [`MessageDelivery`] |
//! | `MailDeliveryJob` | queue `mailers` | [`MailDeliveryJob`], same payload |
//! | `delivery_method :smtp` / `:test`, `deliveries` | | [`MailConfig`] |
//! | `ActionMailer::TestHelper` | `assert_emails`, `assert_enqueued_email_with` | [`testing`] |
//!
//! # Templates: why minijinja
//!
//! Templates are in Jinja syntax, rendered by [`minijinja`]. Action Mailer finds a view by the
//! mailer's and the action's names at run time, and lets designers edit views without
//! recompiling; minijinja does the same: templates are files loaded when the application starts
//! (checked then, so a broken one fails at start-up), looked up by name, with autoescaping by file
//! extension (`.html.jinja` escapes, `.text.jinja` does not), layouts and inheritance. It is
//! maintained, has no dependencies beyond serde, and takes any `Serialize` value as context.
//! Askama, the other choice, compiles each template into a Rust type: checked by the compiler,
//! but a mail job from Rails names its mailer and action as strings, and a type per template
//! would have to be written for each action besides the action itself.
//!
//! # Delivery
//!
//! [`MailConfig`] is runtime state. Its SMTP delivery is lettre's async tokio transport, pooled,
//! with TLS through rustls (`smtps://`, or `?tls=required` for STARTTLS) and authentication from
//! the URL (`SMTP_URL`, e.g. `smtp://user:secret@mail.example.com:587?tls=required`). Transient
//! failures are retried and permanent ones discarded: see [`MailDeliveryJob`].

#![cfg_attr(docsrs, feature(doc_cfg))]

mod config;
mod delivered;
mod delivery;
mod error;
mod job;
mod mail;
mod mailer;
mod render;
mod templates;
pub mod testing;

pub use config::{AfterDiscardHook, MailConfig, MailConfigBuilder};
pub use delivered::Delivered;
pub use delivery::{ConfiguredDelivery, MessageDelivery};
pub use error::MailError;
pub use job::{ATTEMPTS, MailDeliveryJob, QUEUE};
pub use mail::{Attachment, Mail};
pub use mailer::{ActionRegistration, MailAction, MailDefaults, Mailer};
pub use templates::Templates;

/// Not public API: paths used by the code `#[mailer]` generates.
#[doc(hidden)]
pub mod __private {
    pub use crate::delivery::MessageDelivery;
    pub use crate::mailer::{ActionRegistration, MailAction, MailDefaults, Mailer};
}
