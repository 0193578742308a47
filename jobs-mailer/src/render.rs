//! From a [`Mail`] to the message on the wire: defaults, templates, layout, MIME parts.

use lettre::Message;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};

use crate::config::MailConfig;
use crate::delivered::Delivered;
use crate::error::MailError;
use crate::mail::Mail;
use crate::mailer::{MailDefaults, folder};
use crate::templates::{Part, Templates};

/// Who and what: the mailer and action a mail comes from, with the mailer's defaults.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Origin<'a> {
    pub(crate) mailer: &'a str,
    pub(crate) action: &'a str,
    pub(crate) defaults: MailDefaults,
}

/// Renders `mail` and assembles the message: the lettre message to send and its record.
pub(crate) fn render(config: &MailConfig, origin: Origin<'_>, mail: Mail) -> Result<(Message, Delivered), MailError> {
    if let Some(error) = mail.errors.first() {
        return Err(MailError::Template(error.clone()));
    }
    let settings = config.settings();
    let from =
        mail.from.clone().or(origin.defaults.from.map(str::to_owned)).or(settings.from.clone()).ok_or_else(|| {
            MailError::Address(format!(
                "{}#{} has no sender: give the mail a `from`, the mailer a default (#[mailer(from = \"..\")]) or the \
             application one (MailConfig::builder().default_from(..))",
                origin.mailer, origin.action
            ))
        })?;
    let reply_to = mail.reply_to.clone().or(origin.defaults.reply_to.map(str::to_owned)).or(settings.reply_to.clone());
    if mail.recipients().next().is_none() {
        return Err(MailError::Address(format!("{}#{} has no recipient", origin.mailer, origin.action)));
    }
    let template = match &mail.template {
        Some(name) if name.contains('/') => name.clone(),
        Some(name) => format!("{}/{name}", folder(origin.mailer)),
        None => format!("{}/{}", folder(origin.mailer), origin.action),
    };
    let layout = match &mail.layout {
        Some(choice) => choice.clone(),
        None => origin.defaults.layout.map(str::to_owned).or(settings.layout.clone()),
    };
    let context = minijinja::Value::from(minijinja::value::Serde(&mail.context));
    let templates = &settings.templates;
    let part = |body: &Option<String>, kind: Part| match body {
        Some(body) => templates.wrap(body.clone(), layout.as_deref(), kind, &context).map(Some),
        None => templates.render(&template, layout.as_deref(), kind, &context),
    };
    let text = part(&mail.text, Part::Text)?;
    let html = part(&mail.html, Part::Html)?;
    if text.is_none() && html.is_none() {
        return Err(MailError::Template(format!(
            "{}#{} has no body: no template {} or {}, and no text_body or html_body",
            origin.mailer,
            origin.action,
            Templates::name_of(&template, Part::Text),
            Templates::name_of(&template, Part::Html)
        )));
    }
    if let Some(layout) = &layout {
        let named = [Part::Text, Part::Html]
            .iter()
            .any(|p| templates.has(&Templates::name_of(&format!("layouts/{layout}"), *p)));
        if !named {
            return Err(MailError::Template(format!(
                "layout `{layout}` of {}#{} not found: no layouts/{layout}.text.jinja or layouts/{layout}.html.jinja",
                origin.mailer, origin.action
            )));
        }
    }
    let subject = mail.subject.clone().unwrap_or_default();

    // A Message-ID of its own (random, at this host), as Action Mailer gives every mail.
    let mut builder = Message::builder().from(mailbox(&from)?).subject(subject.clone()).message_id(None);
    if let Some(reply_to) = &reply_to {
        builder = builder.reply_to(mailbox(reply_to)?);
    }
    for to in &mail.to {
        builder = builder.to(mailbox(to)?);
    }
    for cc in &mail.cc {
        builder = builder.cc(mailbox(cc)?);
    }
    for bcc in &mail.bcc {
        builder = builder.bcc(mailbox(bcc)?);
    }
    for (name, value) in &mail.headers {
        let name = HeaderName::new_from_ascii(name.clone())
            .map_err(|e| MailError::Build(format!("header name `{name}`: {e}")))?;
        builder = builder.raw_header(HeaderValue::new(name, value.clone()));
    }
    let body = match (&text, &html) {
        (Some(text), Some(html)) => Body::Multi(MultiPart::alternative_plain_html(text.clone(), html.clone())),
        (Some(text), None) => Body::Single(SinglePart::plain(text.clone())),
        (None, Some(html)) => Body::Single(SinglePart::html(html.clone())),
        (None, None) => unreachable!("checked above"),
    };
    let message = if mail.attachments.is_empty() {
        match body {
            Body::Multi(multi) => builder.multipart(multi),
            Body::Single(single) => builder.singlepart(single),
        }
    } else {
        let mut mixed = match body {
            Body::Multi(multi) => MultiPart::mixed().multipart(multi),
            Body::Single(single) => MultiPart::mixed().singlepart(single),
        };
        for attachment in &mail.attachments {
            let content_type = ContentType::parse(&attachment.content_type).map_err(|e| {
                MailError::Build(format!(
                    "attachment {}: content type `{}`: {e}",
                    attachment.filename, attachment.content_type
                ))
            })?;
            mixed = mixed.singlepart(
                lettre::message::Attachment::new(attachment.filename.clone())
                    .body(attachment.body.clone(), content_type),
            );
        }
        builder.multipart(mixed)
    }
    .map_err(|e| MailError::Build(e.to_string()))?;

    let delivered = Delivered {
        mailer: origin.mailer.to_owned(),
        action: origin.action.to_owned(),
        from,
        reply_to,
        to: mail.to,
        cc: mail.cc,
        bcc: mail.bcc,
        subject,
        text,
        html,
        attachments: mail.attachments,
        headers: mail.headers,
        raw: message.formatted(),
    };
    Ok((message, delivered))
}

enum Body {
    Multi(MultiPart),
    Single(SinglePart),
}

fn mailbox(address: &str) -> Result<Mailbox, MailError> {
    address.parse().map_err(|e| MailError::Address(format!("`{address}`: {e}")))
}
