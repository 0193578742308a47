//! Mailers and their actions: what `#[mailer]` implements, and the registry a worker looks
//! `ActionMailer::MailDeliveryJob`'s mailer and action up in.

use jobs_core::{BoxFuture, Error, Job, JobContext, JobError, JobResult};
use serde_json::Value;

use crate::mail::Mail;

/// A mailer: a class of mails with defaults of its own (Action Mailer's `UserMailer`).
///
/// `#[mailer]` on an `impl` block implements it; by hand it is two constants.
pub trait Mailer: 'static {
    /// The class name in the payload, e.g. `UserMailer` (what Rails calls the mailer).
    const NAME: &'static str;
    /// Defaults for every mail of this mailer: Action Mailer's `default from: ...` and `layout`.
    const DEFAULTS: MailDefaults = MailDefaults::NONE;
}

/// A mailer's defaults, used where a [`Mail`] does not say otherwise; the application's
/// defaults (on [`MailConfig`](crate::MailConfig)) come after these.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MailDefaults {
    /// The sender.
    pub from: Option<&'static str>,
    /// Where replies go.
    pub reply_to: Option<&'static str>,
    /// The layout, `layouts/NAME.{text,html}.jinja`.
    pub layout: Option<&'static str>,
}

impl MailDefaults {
    /// No defaults.
    pub const NONE: MailDefaults = MailDefaults { from: None, reply_to: None, layout: None };
}

/// One action of a mailer (`UserMailer#welcome`) as a value: its arguments, encoded and decoded
/// as a job's are, and the action itself as the job's `perform`, which returns the [`Mail`].
///
/// `#[mailer]` generates one struct per action that implements this and [`Job`]; the job is
/// never enqueued on its own: [`MailDeliveryJob`](crate::MailDeliveryJob) carries its
/// arguments.
pub trait MailAction: Job<Output: JobResult<Value = Mail>> {
    /// The mailer this action belongs to.
    type Mailer: Mailer;
    /// The action's name, e.g. `welcome`.
    const ACTION: &'static str;
}

type BuildFn = fn(Vec<Value>, JobContext) -> BoxFuture<'static, Result<Result<Mail, JobError>, Error>>;

/// A mailer action as the registry keeps it; `#[mailer]` submits one per action with
/// `inventory`.
#[derive(Clone, Copy, Debug)]
pub struct ActionRegistration {
    pub(crate) mailer: &'static str,
    pub(crate) action: &'static str,
    pub(crate) defaults: MailDefaults,
    build: BuildFn,
}

inventory::collect!(ActionRegistration);

impl ActionRegistration {
    /// The registration of action `A`.
    pub const fn of<A: MailAction>() -> Self {
        ActionRegistration {
            mailer: <A::Mailer as Mailer>::NAME,
            action: A::ACTION,
            defaults: <A::Mailer as Mailer>::DEFAULTS,
            build: build::<A>,
        }
    }

    /// The action registered for `mailer` and `action`, if any.
    pub fn find(mailer: &str, action: &str) -> Option<&'static ActionRegistration> {
        inventory::iter::<ActionRegistration>.into_iter().find(|r| r.mailer == mailer && r.action == action)
    }

    /// The mailer's class name.
    pub fn mailer(&self) -> &'static str {
        self.mailer
    }

    /// The action's name.
    pub fn action(&self) -> &'static str {
        self.action
    }

    /// Decodes the action's arguments and runs it: the outer error is a framework error met
    /// before the action ran (an argument that does not decode, a record not found), the inner
    /// one the action's own.
    pub(crate) async fn build(&self, arguments: Vec<Value>, ctx: JobContext) -> Result<Result<Mail, JobError>, Error> {
        (self.build)(arguments, ctx).await
    }
}

fn build<A: MailAction>(
    arguments: Vec<Value>,
    ctx: JobContext,
) -> BoxFuture<'static, Result<Result<Mail, JobError>, Error>> {
    Box::pin(async move {
        let action = A::from_arguments(arguments)?;
        Ok(action.perform(ctx).await?.into_job_result())
    })
}

/// The folder of a mailer's templates, as Rails names it: `UserMailer` -> `user_mailer`,
/// `Admin::UserMailer` -> `admin/user_mailer`.
pub(crate) fn folder(mailer: &str) -> String {
    let mut out = String::with_capacity(mailer.len() + 4);
    for (i, segment) in mailer.split("::").enumerate() {
        if i > 0 {
            out.push('/');
        }
        let chars: Vec<char> = segment.chars().collect();
        for (j, c) in chars.iter().enumerate() {
            if c.is_uppercase() {
                let after_lower = j > 0 && (chars[j - 1].is_lowercase() || chars[j - 1].is_ascii_digit());
                let before_lower =
                    j > 0 && chars[j - 1].is_uppercase() && chars.get(j + 1).is_some_and(|n| n.is_lowercase());
                if after_lower || before_lower {
                    out.push('_');
                }
                out.extend(c.to_lowercase());
            } else {
                out.push(*c);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::folder;

    #[test]
    fn folders_are_named_as_rails_names_them() {
        assert_eq!(folder("UserMailer"), "user_mailer");
        assert_eq!(folder("Admin::UserMailer"), "admin/user_mailer");
        assert_eq!(folder("HTMLMailer"), "html_mailer");
        assert_eq!(folder("V2Mailer"), "v2_mailer");
    }
}
