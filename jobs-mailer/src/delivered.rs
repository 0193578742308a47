//! `Delivered`: a mail as it was rendered and handed to the transport.

use crate::mail::Attachment;

/// A mail as it was rendered and delivered: what [`deliver_now`](crate::MessageDelivery::deliver_now)
/// returns, and what test mode keeps in [`MailConfig::deliveries`](crate::MailConfig::deliveries)
/// (Action Mailer's `ActionMailer::Base.deliveries`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Delivered {
    /// The mailer, e.g. `UserMailer`.
    pub mailer: String,
    /// The action, e.g. `welcome`.
    pub action: String,
    /// The sender.
    pub from: String,
    /// Where replies go, if set.
    pub reply_to: Option<String>,
    /// The recipients in `To`.
    pub to: Vec<String>,
    /// The recipients in `Cc`.
    pub cc: Vec<String>,
    /// The blind-copy recipients (in the envelope only).
    pub bcc: Vec<String>,
    /// The subject.
    pub subject: String,
    /// The text part, if any.
    pub text: Option<String>,
    /// The HTML part, if any.
    pub html: Option<String>,
    /// The attachments.
    pub attachments: Vec<Attachment>,
    /// Headers the action added.
    pub headers: Vec<(String, String)>,
    /// The message as sent over SMTP (RFC 5322).
    pub raw: Vec<u8>,
}

impl Delivered {
    /// The message as sent, as text.
    pub fn raw_text(&self) -> String {
        String::from_utf8_lossy(&self.raw).into_owned()
    }
}
