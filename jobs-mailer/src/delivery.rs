//! `MessageDelivery`: what `UserMailer::welcome(user)` returns, Action Mailer's
//! `MessageDelivery`: a mail not built yet, to deliver later or now.

use std::time::Duration;

use chrono::{DateTime, Utc};
use jobs_core::{ConfiguredJob, Enqueued, Error, Runtime};
use serde_json::Value;

use crate::delivered::Delivered;
use crate::job::{DeliverNow, MailDeliveryJob, payload_arguments};
use crate::mailer::{MailAction, Mailer};

/// A mailer action with its arguments, waiting to be delivered: what `UserMailer::welcome(user)`
/// returns. Nothing is rendered until it is delivered, as in Action Mailer.
///
/// ```no_run
/// # use jobs_mailer::{MailAction, MessageDelivery};
/// # async fn demo<A: MailAction>(welcome: impl Fn() -> MessageDelivery<A>) -> Result<(), jobs_core::Error> {
/// welcome().deliver_later().await?;                          // a MailDeliveryJob on `mailers`
/// welcome().deliver_later_with().wait(std::time::Duration::from_secs(3600)).deliver_later().await?;
/// let sent = welcome().deliver_now().await?;                 // rendered and sent right here
/// println!("sent {:?} to {:?}", sent.subject, sent.to);
/// # Ok(()) }
/// ```
#[must_use = "a mail is not sent until `deliver_later` or `deliver_now` is called"]
pub struct MessageDelivery<A> {
    action: A,
}

impl<A: MailAction> MessageDelivery<A> {
    /// The delivery of `action`; `#[mailer]` calls this.
    pub fn new(action: A) -> Self {
        MessageDelivery { action }
    }

    /// The action with its arguments.
    pub fn action(&self) -> &A {
        &self.action
    }

    /// Enqueues an `ActionMailer::MailDeliveryJob` on the current runtime, on queue `mailers`, to
    /// be delivered as soon as a worker is free.
    pub async fn deliver_later(self) -> Result<Enqueued, Error> {
        self.deliver_later_with().deliver_later().await
    }

    /// Enqueue options (`wait`, `wait_until`, `queue`, `priority`), then
    /// [`deliver_later`](ConfiguredDelivery::deliver_later): Action Mailer's
    /// `deliver_later(wait: 1.hour, queue: "low")`.
    pub fn deliver_later_with(self) -> ConfiguredDelivery<A> {
        ConfiguredDelivery { action: self.action, options: ConfiguredJob::new() }
    }

    /// Renders the mail and sends it right here, with the current runtime's
    /// [`MailConfig`](crate::MailConfig); returns what was sent. A failure is returned
    /// ([`Error::Job`] holding a [`MailError`](crate::MailError)), never retried.
    pub async fn deliver_now(self) -> Result<Delivered, Error> {
        Runtime::current()?.perform_now(DeliverNow(self.action)).await
    }

    /// The payload's `arguments` this delivery is enqueued with, encoded as the current runtime
    /// encodes them (for the test helpers).
    pub fn payload_arguments(&self) -> Result<Vec<Value>, Error> {
        let runtime = Runtime::current().ok();
        let cx = match runtime.as_ref().and_then(Runtime::app_name) {
            Some(app) => jobs_core::encoding::EncodeContext::new().app_name(app),
            None => jobs_core::encoding::EncodeContext::new(),
        };
        let arguments = self.action.to_arguments(&cx)?;
        Ok(payload_arguments(<A::Mailer as Mailer>::NAME, A::ACTION, "deliver_now", arguments))
    }
}

/// A delivery with enqueue options: what [`MessageDelivery::deliver_later_with`] returns.
#[must_use = "a mail is not sent until `deliver_later` is called"]
pub struct ConfiguredDelivery<A> {
    action: A,
    options: ConfiguredJob<MailDeliveryJob>,
}

impl<A: MailAction> ConfiguredDelivery<A> {
    /// Delivers after `delay`.
    pub fn wait(mut self, delay: Duration) -> Self {
        self.options = self.options.wait(delay);
        self
    }

    /// Delivers at `time` (or as soon as possible if it is past).
    pub fn wait_until(mut self, time: DateTime<Utc>) -> Self {
        self.options = self.options.wait_until(time);
        self
    }

    /// Enqueues on `queue` instead of `mailers`.
    pub fn queue(mut self, queue: impl Into<String>) -> Self {
        self.options = self.options.queue(queue);
        self
    }

    /// Gives the job this priority (lower runs first).
    pub fn priority(mut self, priority: i32) -> Self {
        self.options = self.options.priority(priority);
        self
    }

    /// Enqueues on `runtime` instead of the current one.
    pub fn runtime(mut self, runtime: &Runtime) -> Self {
        self.options = self.options.runtime(runtime);
        self
    }

    /// Enqueues the `ActionMailer::MailDeliveryJob` with these options.
    pub async fn deliver_later(self) -> Result<Enqueued, Error> {
        self.options.enqueue(MailDeliveryJob::new(self.action)).await
    }
}

impl<A> std::fmt::Debug for MessageDelivery<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(std::any::type_name::<A>())
    }
}
