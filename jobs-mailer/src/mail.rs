//! `Mail`: what a mailer action returns, Action Mailer's `mail(to:, subject:)` with its
//! template variables and attachments.

use serde::Serialize;
use serde_json::{Map, Value};

/// A mail as a mailer action describes it: recipients, subject, template variables,
/// attachments. Rendering (templates, layout, defaults) and delivery happen after the action
/// returns, as in Action Mailer.
///
/// ```
/// use jobs_mailer::{Attachment, Mail};
///
/// let mail = Mail::new()
///     .to("Ada <ada@example.com>")
///     .subject("Welcome, Ada")
///     .with("name", "Ada")
///     .attach(Attachment::new("terms.txt", "text/plain", b"Be nice.".to_vec()));
/// assert_eq!(mail.recipients().count(), 1);
/// ```
///
/// Unless told otherwise with [`Mail::template`], the text part renders the template
/// `MAILER/ACTION.text.jinja` and the HTML part `MAILER/ACTION.html.jinja` (`user_mailer/welcome`
/// for `UserMailer#welcome`), each inside its layout when there is one; a mail with both parts is
/// `multipart/alternative`. [`Mail::text_body`] and [`Mail::html_body`] give a part's body
/// directly instead.
#[derive(Clone, Debug, Default)]
#[must_use = "a mail does nothing until a mailer action returns it"]
pub struct Mail {
    pub(crate) to: Vec<String>,
    pub(crate) cc: Vec<String>,
    pub(crate) bcc: Vec<String>,
    pub(crate) from: Option<String>,
    pub(crate) reply_to: Option<String>,
    pub(crate) subject: Option<String>,
    pub(crate) context: Map<String, Value>,
    pub(crate) template: Option<String>,
    pub(crate) layout: Option<Option<String>>,
    pub(crate) text: Option<String>,
    pub(crate) html: Option<String>,
    pub(crate) attachments: Vec<Attachment>,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) errors: Vec<String>,
}

impl Mail {
    /// An empty mail: add recipients, a subject and template variables.
    pub fn new() -> Self {
        Mail::default()
    }

    /// Adds a recipient (`ada@example.com` or `Ada <ada@example.com>`).
    pub fn to(mut self, address: impl Into<String>) -> Self {
        self.to.push(address.into());
        self
    }

    /// Adds a carbon-copy recipient.
    pub fn cc(mut self, address: impl Into<String>) -> Self {
        self.cc.push(address.into());
        self
    }

    /// Adds a blind-carbon-copy recipient: in the envelope, not in the headers.
    pub fn bcc(mut self, address: impl Into<String>) -> Self {
        self.bcc.push(address.into());
        self
    }

    /// The sender, instead of the mailer's or the application's default.
    pub fn from(mut self, address: impl Into<String>) -> Self {
        self.from = Some(address.into());
        self
    }

    /// Where replies go, instead of the mailer's or the application's default.
    pub fn reply_to(mut self, address: impl Into<String>) -> Self {
        self.reply_to = Some(address.into());
        self
    }

    /// The subject.
    pub fn subject(mut self, subject: impl Into<String>) -> Self {
        self.subject = Some(subject.into());
        self
    }

    /// A template variable: `{{ name }}` in the templates.
    pub fn with(mut self, name: impl Into<String>, value: impl Serialize) -> Self {
        let name = name.into();
        match serde_json::to_value(value) {
            Ok(value) => {
                self.context.insert(name, value);
            }
            Err(e) => self.errors.push(format!("template variable `{name}`: {e}")),
        }
        self
    }

    /// Template variables from a struct or map: each field is a variable.
    pub fn context(mut self, values: impl Serialize) -> Self {
        match serde_json::to_value(values) {
            Ok(Value::Object(map)) => self.context.extend(map),
            Ok(other) => self.errors.push(format!("template variables must be a struct or a map, not {other}")),
            Err(e) => self.errors.push(format!("template variables: {e}")),
        }
        self
    }

    /// Renders `MAILER/NAME.text.jinja` and `MAILER/NAME.html.jinja` instead of the action's
    /// templates; a name with a `/` is taken from the template folder's root.
    pub fn template(mut self, name: impl Into<String>) -> Self {
        self.template = Some(name.into());
        self
    }

    /// Renders inside `layouts/NAME.text.jinja` / `layouts/NAME.html.jinja` instead of the
    /// mailer's layout.
    pub fn layout(mut self, name: impl Into<String>) -> Self {
        self.layout = Some(Some(name.into()));
        self
    }

    /// Renders without a layout.
    pub fn without_layout(mut self) -> Self {
        self.layout = Some(None);
        self
    }

    /// The text part's body, instead of a template.
    pub fn text_body(mut self, body: impl Into<String>) -> Self {
        self.text = Some(body.into());
        self
    }

    /// The HTML part's body, instead of a template.
    pub fn html_body(mut self, body: impl Into<String>) -> Self {
        self.html = Some(body.into());
        self
    }

    /// Adds an attachment.
    pub fn attach(mut self, attachment: Attachment) -> Self {
        self.attachments.push(attachment);
        self
    }

    /// Adds a header of your own (`X-Campaign: spring`).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Every recipient: `to`, `cc` and `bcc`.
    pub fn recipients(&self) -> impl Iterator<Item = &str> {
        self.to.iter().chain(&self.cc).chain(&self.bcc).map(String::as_str)
    }
}

/// A file attached to a mail: Action Mailer's `attachments["terms.pdf"] = ...`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attachment {
    /// The file name the recipient sees.
    pub filename: String,
    /// Its MIME type, e.g. `application/pdf`.
    pub content_type: String,
    /// Its bytes.
    pub body: Vec<u8>,
}

impl Attachment {
    /// An attachment named `filename`, of MIME type `content_type`.
    pub fn new(filename: impl Into<String>, content_type: impl Into<String>, body: impl Into<Vec<u8>>) -> Self {
        Attachment { filename: filename.into(), content_type: content_type.into(), body: body.into() }
    }
}
