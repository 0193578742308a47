//! `MailConfig`: how mail is delivered (SMTP or, in tests, into memory), the templates, and the
//! application's defaults. It is runtime state: `Runtime::builder().state(config)`.

use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jobs_core::{JobContext, JobError};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::delivered::Delivered;
use crate::error::MailError;
use crate::templates::Templates;

/// A hook run when a mail job is discarded: after a permanent SMTP failure, or once retries and
/// the worker's policy give up.
pub type AfterDiscardHook = Arc<dyn Fn(&JobContext, &JobError) + Send + Sync>;

/// How mail is delivered, the templates and the application's defaults: Action Mailer's
/// `delivery_method`, `smtp_settings`, views and `ApplicationMailer`'s `default from:`.
///
/// Put it into the runtime as state; mail jobs find it there. Clones share one configuration (and,
/// in test mode, one list of deliveries).
///
/// ```no_run
/// use jobs_mailer::MailConfig;
///
/// # fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let mail = MailConfig::builder()
///     .smtp_from_env()                     // SMTP_URL, e.g. smtp://127.0.0.1:2525
///     .template_dir("templates")           // templates/user_mailer/welcome.html.jinja, ...
///     .default_from("Example <hello@example.com>")
///     .after_discard(|ctx, error| eprintln!("mail job {} dropped: {error}", ctx.job_id()))
///     .build()?;
/// let runtime = jobs_core::Runtime::builder().state(mail).build()?;
/// # let _ = runtime; Ok(()) }
/// ```
#[derive(Clone)]
pub struct MailConfig {
    inner: Arc<Settings>,
}

pub(crate) struct Settings {
    delivery: Delivery,
    pub(crate) templates: Templates,
    pub(crate) from: Option<String>,
    pub(crate) reply_to: Option<String>,
    pub(crate) layout: Option<String>,
    pub(crate) after_discard: Vec<AfterDiscardHook>,
}

enum Delivery {
    Smtp { transport: AsyncSmtpTransport<Tokio1Executor>, url: String },
    Test(Mutex<Vec<Delivered>>),
}

impl fmt::Debug for MailConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let delivery = match &self.inner.delivery {
            Delivery::Smtp { url, .. } => format!("smtp {url}"),
            Delivery::Test(_) => "test".to_owned(),
        };
        f.debug_struct("MailConfig")
            .field("delivery", &delivery)
            .field("templates", &self.inner.templates)
            .field("from", &self.inner.from)
            .field("reply_to", &self.inner.reply_to)
            .field("layout", &self.inner.layout)
            .finish_non_exhaustive()
    }
}

impl MailConfig {
    /// A configuration to build: pick a delivery (`smtp_url`, `smtp_from_env` or `test`).
    pub fn builder() -> MailConfigBuilder {
        MailConfigBuilder::default()
    }

    pub(crate) fn settings(&self) -> &Settings {
        &self.inner
    }

    /// Whether mail goes into memory ([`MailConfigBuilder::test`]) instead of to a server.
    pub fn is_test(&self) -> bool {
        matches!(self.inner.delivery, Delivery::Test(_))
    }

    /// In test mode, every mail delivered so far, oldest first (Action Mailer's
    /// `ActionMailer::Base.deliveries`); empty when mail goes to a server.
    pub fn deliveries(&self) -> Vec<Delivered> {
        match &self.inner.delivery {
            Delivery::Test(list) => list.lock().unwrap_or_else(|e| e.into_inner()).clone(),
            Delivery::Smtp { .. } => Vec::new(),
        }
    }

    /// In test mode, forgets the deliveries so far.
    pub fn clear_deliveries(&self) {
        if let Delivery::Test(list) = &self.inner.delivery {
            list.lock().unwrap_or_else(|e| e.into_inner()).clear();
        }
    }

    /// Sends a rendered message.
    pub(crate) async fn send(&self, message: Message, delivered: Delivered) -> Result<Delivered, MailError> {
        match &self.inner.delivery {
            Delivery::Smtp { transport, .. } => {
                transport.send(message).await?;
            }
            Delivery::Test(list) => list.lock().unwrap_or_else(|e| e.into_inner()).push(delivered.clone()),
        }
        Ok(delivered)
    }
}

/// Builds a [`MailConfig`].
#[derive(Default)]
#[must_use = "call `build()` to get the configuration"]
pub struct MailConfigBuilder {
    smtp_url: Option<Result<String, String>>,
    test: bool,
    timeout: Option<Duration>,
    templates: Option<Result<Templates, MailError>>,
    from: Option<String>,
    reply_to: Option<String>,
    layout: Option<String>,
    after_discard: Vec<AfterDiscardHook>,
}

impl fmt::Debug for MailConfigBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MailConfigBuilder").field("test", &self.test).finish_non_exhaustive()
    }
}

impl MailConfigBuilder {
    /// Delivers through the SMTP server at `url`: `smtp://host:port` (plain),
    /// `smtp://host:587?tls=opportunistic` (STARTTLS when offered), `smtp://host:587?tls=required`
    /// (STARTTLS or fail), `smtps://host:465` (TLS from the start), with `user:password@` for
    /// authentication. TLS is rustls with the webpki roots; connections are pooled.
    pub fn smtp_url(mut self, url: impl Into<String>) -> Self {
        self.smtp_url = Some(Ok(url.into()));
        self
    }

    /// Delivers through the SMTP server in the `SMTP_URL` environment variable (see
    /// [`smtp_url`](Self::smtp_url)); `build` fails if it is not set.
    pub fn smtp_from_env(mut self) -> Self {
        self.smtp_url = Some(std::env::var("SMTP_URL").map_err(|_| "SMTP_URL is not set".to_owned()));
        self
    }

    /// Delivers into memory, for tests: see [`MailConfig::deliveries`].
    pub fn test(mut self) -> Self {
        self.test = true;
        self
    }

    /// How long one SMTP command may take (default: 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The templates.
    pub fn templates(mut self, templates: Templates) -> Self {
        self.templates = Some(Ok(templates));
        self
    }

    /// The templates: every `*.jinja` file under `dir` (see [`Templates::from_dir`]).
    pub fn template_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.templates = Some(Templates::from_dir(dir.into()));
        self
    }

    /// The sender of mails whose mailer names none.
    pub fn default_from(mut self, address: impl Into<String>) -> Self {
        self.from = Some(address.into());
        self
    }

    /// Where replies go, for mails whose mailer says nothing.
    pub fn default_reply_to(mut self, address: impl Into<String>) -> Self {
        self.reply_to = Some(address.into());
        self
    }

    /// The layout of mails whose mailer names none (`layouts/NAME.{text,html}.jinja`).
    pub fn default_layout(mut self, name: impl Into<String>) -> Self {
        self.layout = Some(name.into());
        self
    }

    /// Runs `hook` when a mail job is discarded: after a permanent SMTP failure (`5xx`), or
    /// once retries and the worker's retry policy give up.
    pub fn after_discard(mut self, hook: impl Fn(&JobContext, &JobError) + Send + Sync + 'static) -> Self {
        self.after_discard.push(Arc::new(hook));
        self
    }

    /// The configuration; fails on a bad SMTP URL, a template folder that cannot be read or a
    /// template that does not parse.
    pub fn build(self) -> Result<MailConfig, MailError> {
        let delivery = match (self.test, self.smtp_url) {
            (true, _) => Delivery::Test(Mutex::new(Vec::new())),
            (false, Some(Ok(url))) => {
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&url)
                    .map_err(|e| MailError::Config(format!("SMTP URL {}: {e}", jobs_core::adapter::redact(&url))))?
                    .timeout(Some(self.timeout.unwrap_or(Duration::from_secs(30))))
                    .build();
                Delivery::Smtp { transport, url: jobs_core::adapter::redact(&url) }
            }
            (false, Some(Err(e))) => return Err(MailError::Config(e)),
            (false, None) => {
                return Err(MailError::Config(
                    "no delivery method: call smtp_url(..), smtp_from_env() or test() on MailConfig::builder()".into(),
                ));
            }
        };
        let templates = self.templates.transpose()?.unwrap_or_default();
        Ok(MailConfig {
            inner: Arc::new(Settings {
                delivery,
                templates,
                from: self.from,
                reply_to: self.reply_to,
                layout: self.layout,
                after_discard: self.after_discard,
            }),
        })
    }
}
