//! `ActionMailer::MailDeliveryJob`: the job that carries a mail to a worker, in Rails' payload,
//! and `DeliverNow`, the same delivery run in the caller.

use std::fmt;

use jobs_core::__private::{Declarations, ErrorHandler, RetryOn, Wait};
use jobs_core::encoding::EncodeContext;
use jobs_core::{BoxFuture, Error, Job, JobContext, JobError, JobRegistration, JobResult};
use serde_json::{Value, json};

use crate::config::MailConfig;
use crate::delivered::Delivered;
use crate::error::{self, MailError};
use crate::mail::Mail;
use crate::mailer::{ActionRegistration, MailAction, Mailer};
use crate::render::{Origin, render};

/// The queue mail jobs go to, as in Rails (`deliver_later_queue_name`).
pub const QUEUE: &str = "mailers";

/// Runs left before a transient failure goes on to the worker's retry policy: Active Job's
/// default for `retry_on`.
pub const ATTEMPTS: u32 = 5;

/// Rails' `ActionMailer::MailDeliveryJob`: one mail to deliver, as the mailer, the action and
/// the action's arguments.
///
/// Its payload is the one Rails 6.1+ writes for `UserMailer.welcome(user).deliver_later`:
///
/// ```text
/// "job_class": "ActionMailer::MailDeliveryJob", "queue_name": "mailers",
/// "arguments": ["UserMailer", "welcome", "deliver_now",
///               {"args": [{"_aj_globalid": "gid://app/User/1"}], "_aj_ruby2_keywords": ["args"]}]
/// ```
///
/// so a Rust worker delivers mail that a Rails app enqueued (the action must be declared with
/// `#[mailer]` under the same mailer and action names), and Rails delivers what Rust enqueued.
/// The job registers itself with `inventory`, as `#[job]`s do; a runtime built with an explicit
/// [`Registry`](jobs_core::Registry) needs `registry.register::<MailDeliveryJob>()`.
///
/// Failures, as declared on the job: a transient SMTP failure (`4xx`, a refused or reset
/// connection, a timeout) is retried with `retry_on(.., attempts = 5, wait = polynomially_longer)`;
/// a permanent one (`5xx`) is discarded, and the hooks of
/// [`MailConfigBuilder::after_discard`](crate::MailConfigBuilder::after_discard) run. Other
/// errors (a template that does not render, a record that is gone) go to the worker's retry
/// policy, as any job's. Payloads of parameterized mailers (`UserMailer.with(..)`, a `params`
/// key) do not decode: Rust mailers take arguments only.
pub struct MailDeliveryJob {
    mailer: String,
    action: String,
    delivery_method: String,
    arguments: Arguments,
}

enum Arguments {
    /// As read from a payload.
    Encoded(Vec<Value>),
    /// A typed action enqueued from Rust, encoded with the runtime's context at enqueue.
    Typed(Box<dyn EncodeArguments>),
}

trait EncodeArguments: Send {
    fn encode(&self, cx: &EncodeContext<'_>) -> Result<Vec<Value>, Error>;
}

impl<A: MailAction> EncodeArguments for A {
    fn encode(&self, cx: &EncodeContext<'_>) -> Result<Vec<Value>, Error> {
        self.to_arguments(cx)
    }
}

impl fmt::Debug for MailDeliveryJob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MailDeliveryJob")
            .field("mailer", &self.mailer)
            .field("action", &self.action)
            .field("delivery_method", &self.delivery_method)
            .finish_non_exhaustive()
    }
}

impl MailDeliveryJob {
    /// The job delivering `action`'s mail.
    pub fn new<A: MailAction>(action: A) -> Self {
        MailDeliveryJob {
            mailer: <A::Mailer as Mailer>::NAME.to_owned(),
            action: A::ACTION.to_owned(),
            delivery_method: "deliver_now".to_owned(),
            arguments: Arguments::Typed(Box::new(action)),
        }
    }

    /// The mailer, e.g. `UserMailer`.
    pub fn mailer(&self) -> &str {
        &self.mailer
    }

    /// The action, e.g. `welcome`.
    pub fn action(&self) -> &str {
        &self.action
    }
}

/// The payload's `arguments` for a delivery of `mailer#action` with `arguments`.
pub(crate) fn payload_arguments(mailer: &str, action: &str, method: &str, arguments: Vec<Value>) -> Vec<Value> {
    vec![json!(mailer), json!(action), json!(method), json!({ "args": arguments, "_aj_ruby2_keywords": ["args"] })]
}

fn undecodable(message: impl Into<String>) -> Error {
    Error::Deserialization { job: MailDeliveryJob::NAME.to_owned(), message: message.into() }
}

/// Reads `{"args": [...], "_aj_ruby2_keywords": ["args"]}`.
fn read_keywords(value: Value) -> Result<Vec<Value>, Error> {
    let Value::Object(mut map) = value else {
        return Err(undecodable("expected the keyword arguments {\"args\" => [...]} (Rails 6.1+ form)"));
    };
    for unsupported in ["params", "kwargs"] {
        if map.get(unsupported).is_some_and(|v| !v.is_null()) {
            return Err(undecodable(format!(
                "`{unsupported}` is not supported: Rust mailer actions take positional arguments only \
                 (no UserMailer.with(..) or keyword arguments)"
            )));
        }
    }
    match map.remove("args") {
        Some(Value::Array(arguments)) => Ok(arguments),
        Some(_) => Err(undecodable("`args` must be an array")),
        None => Err(undecodable("no `args` in the keyword arguments")),
    }
}

fn read_string(value: Value, what: &str) -> Result<String, Error> {
    match value {
        Value::String(s) => Ok(s),
        other => Err(undecodable(format!("the {what} must be a string, found {other}"))),
    }
}

impl Job for MailDeliveryJob {
    const NAME: &'static str = "ActionMailer::MailDeliveryJob";
    const QUEUE: &'static str = QUEUE;
    const DECLARATIONS: &'static Declarations = &Declarations {
        error_handlers: &[
            ErrorHandler::RetryOn(RetryOn {
                key: "[jobs_mailer::MailError::Transient]",
                matches: error::transient,
                attempts: Some(ATTEMPTS),
                wait: Wait::PolynomiallyLonger,
                jitter: None,
                queue: None,
                priority: None,
                exhausted: None,
            }),
            ErrorHandler::DiscardOn { matches: error::permanent, handler: None },
        ],
        after_discard: &[after_discard],
        ..Declarations::EMPTY
    };
    type Output = Result<(), MailError>;

    fn to_arguments(&self, cx: &EncodeContext<'_>) -> Result<Vec<Value>, Error> {
        let arguments = match &self.arguments {
            Arguments::Encoded(arguments) => arguments.clone(),
            Arguments::Typed(action) => action.encode(cx)?,
        };
        Ok(payload_arguments(&self.mailer, &self.action, &self.delivery_method, arguments))
    }

    fn from_arguments(arguments: Vec<Value>) -> Result<Self, Error> {
        let count = arguments.len();
        let Ok([mailer, action, method, keywords]) = <[Value; 4]>::try_from(arguments) else {
            return Err(undecodable(format!(
                "expected 4 arguments (mailer, action, delivery method, {{\"args\" => [...]}}), found {count}"
            )));
        };
        let delivery_method = read_string(method, "delivery method")?;
        if !matches!(delivery_method.as_str(), "deliver_now" | "deliver_now!") {
            return Err(undecodable(format!(
                "unknown delivery method `{delivery_method}` (deliver_now or deliver_now!)"
            )));
        }
        Ok(MailDeliveryJob {
            mailer: read_string(mailer, "mailer")?,
            action: read_string(action, "action")?,
            delivery_method,
            arguments: Arguments::Encoded(read_keywords(keywords)?),
        })
    }

    async fn perform(self, ctx: JobContext) -> Result<Self::Output, Error> {
        let arguments = match self.arguments {
            Arguments::Encoded(arguments) => arguments,
            Arguments::Typed(action) => {
                let cx = match ctx.app_name() {
                    Some(app) => EncodeContext::new().app_name(app),
                    None => EncodeContext::new(),
                };
                action.encode(&cx)?
            }
        };
        let Some(registration) = ActionRegistration::find(&self.mailer, &self.action) else {
            return Ok(Err(MailError::UnknownAction { mailer: self.mailer, action: self.action }));
        };
        let config = ctx.state::<MailConfig>()?;
        let origin =
            Origin { mailer: registration.mailer, action: registration.action, defaults: registration.defaults };
        let mail = match registration.build(arguments, ctx.clone()).await? {
            Ok(mail) => mail,
            Err(source) => return Ok(Err(action_failed(origin, source))),
        };
        Ok(deliver(&config, origin, mail).await.map(drop))
    }
}

jobs_core::__private::inventory::submit! {
    JobRegistration::of::<MailDeliveryJob>()
}

fn action_failed(origin: Origin<'_>, source: JobError) -> MailError {
    MailError::Action { mailer: origin.mailer.to_owned(), action: origin.action.to_owned(), source }
}

/// Renders and sends.
async fn deliver(config: &MailConfig, origin: Origin<'_>, mail: Mail) -> Result<Delivered, MailError> {
    let (message, delivered) = render(config, origin, mail)?;
    let delivered = config.send(message, delivered).await?;
    tracing::info!(mailer = origin.mailer, action = origin.action, to = ?delivered.to, "Delivered mail {}#{}", origin.mailer, origin.action);
    Ok(delivered)
}

/// `after_discard` of `MailDeliveryJob`: the application's hooks.
fn after_discard<'a>(ctx: &'a JobContext, error: &'a JobError) -> BoxFuture<'a, Result<(), JobError>> {
    Box::pin(async move {
        tracing::warn!(job_id = ctx.job_id(), error = %error.message(), "Discarded mail job {}", ctx.job_id());
        if let Ok(config) = ctx.state::<MailConfig>() {
            for hook in &config.settings().after_discard {
                hook(ctx, error);
            }
        }
        Ok(())
    })
}

/// A delivery run here and now ([`MessageDelivery::deliver_now`](crate::MessageDelivery::deliver_now)):
/// the same payload and the same delivery as [`MailDeliveryJob`], with the action's arguments
/// kept as they are (records already loaded are not loaded again), and no retry: a failure is
/// the caller's.
pub(crate) struct DeliverNow<A>(pub(crate) A);

impl<A: MailAction> Job for DeliverNow<A> {
    const NAME: &'static str = MailDeliveryJob::NAME;
    const QUEUE: &'static str = QUEUE;
    type Output = Result<Delivered, MailError>;

    fn to_arguments(&self, cx: &EncodeContext<'_>) -> Result<Vec<Value>, Error> {
        let arguments = self.0.to_arguments(cx)?;
        Ok(payload_arguments(<A::Mailer as Mailer>::NAME, A::ACTION, "deliver_now", arguments))
    }

    fn from_arguments(_arguments: Vec<Value>) -> Result<Self, Error> {
        Err(undecodable("deliver_now runs in the caller and is never decoded from a payload"))
    }

    async fn perform(self, ctx: JobContext) -> Result<Self::Output, Error> {
        let config = ctx.state::<MailConfig>()?;
        let defaults = <A::Mailer as Mailer>::DEFAULTS;
        let origin = Origin { mailer: <A::Mailer as Mailer>::NAME, action: A::ACTION, defaults };
        let mail = match self.0.perform(ctx.clone()).await?.into_job_result() {
            Ok(mail) => mail,
            Err(source) => return Ok(Err(action_failed(origin, source))),
        };
        Ok(deliver(&config, origin, mail).await)
    }
}
