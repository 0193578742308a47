//! `MailError`: why a mail could not be built or delivered, and which failures are worth a retry.

use jobs_core::JobError;

/// Why a mail could not be built, rendered or delivered.
///
/// Delivery failures are sorted as the SMTP reply sorts them: a `4xx` reply, a refused or reset
/// connection or a timeout is [`Transient`](MailError::Transient) (`MailDeliveryJob` retries it
/// with `retry_on`, waiting polynomially longer), a `5xx` reply is
/// [`Permanent`](MailError::Permanent) (the job is discarded and the `after_discard` hooks run).
/// Everything else is a mistake in the application (a template that does not render, an address
/// that does not parse) and goes to the worker's retry policy like any job error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MailError {
    /// The server or the connection failed in a way that may pass: a `4xx` reply, a refused or
    /// reset connection, a timeout.
    #[error("transient delivery failure{}: {message}", code_suffix(*.code))]
    Transient {
        /// The SMTP reply code, when the server answered.
        code: Option<u16>,
        /// What the server or the connection said.
        message: String,
    },
    /// The server refused the mail for good: a `5xx` reply.
    #[error("permanent delivery failure{}: {message}", code_suffix(*.code))]
    Permanent {
        /// The SMTP reply code.
        code: Option<u16>,
        /// What the server said.
        message: String,
    },
    /// A template is missing or does not render.
    #[error("template error: {0}")]
    Template(String),
    /// An address (`to`, `from`, ...) does not parse, or a mail has no recipient or sender.
    #[error("invalid address: {0}")]
    Address(String),
    /// The message could not be assembled (a bad header, a bad content type, ...).
    #[error("cannot build the message: {0}")]
    Build(String),
    /// The mail settings are wrong or missing (`SMTP_URL`, the template folder, ...).
    #[error("mail configuration: {0}")]
    Config(String),
    /// No mailer action of this name is registered in this process.
    #[error("no mailer action {mailer}#{action} in this process (declare it with #[mailer])")]
    UnknownAction {
        /// The mailer class, e.g. `UserMailer`.
        mailer: String,
        /// The action, e.g. `welcome`.
        action: String,
    },
    /// The mailer action itself failed.
    #[error("{mailer}#{action} failed: {source}")]
    Action {
        /// The mailer class.
        mailer: String,
        /// The action.
        action: String,
        /// The action's error.
        #[source]
        source: JobError,
    },
}

fn code_suffix(code: Option<u16>) -> String {
    code.map(|c| format!(" ({c})")).unwrap_or_default()
}

impl MailError {
    /// Whether a retry may succeed: a `4xx` reply or a connection failure.
    pub fn is_transient(&self) -> bool {
        matches!(self, MailError::Transient { .. })
    }

    /// Whether the server refused the mail for good: a `5xx` reply.
    pub fn is_permanent(&self) -> bool {
        matches!(self, MailError::Permanent { .. })
    }

    /// The SMTP reply code, when the server answered.
    pub fn code(&self) -> Option<u16> {
        match self {
            MailError::Transient { code, .. } | MailError::Permanent { code, .. } => *code,
            _ => None,
        }
    }
}

impl From<lettre::transport::smtp::Error> for MailError {
    fn from(error: lettre::transport::smtp::Error) -> Self {
        let code = error.status().map(|c| c.to_string().parse::<u16>().unwrap_or_default());
        let message = error.to_string();
        if error.is_permanent() {
            MailError::Permanent { code, message }
        } else if error.is_transient() || error.is_timeout() || !(error.is_client() || error.is_tls()) {
            // 4xx, and what is left once client mistakes are set apart: connection refused or
            // reset, the server closing on us, a reply that did not parse.
            MailError::Transient { code, message }
        } else {
            MailError::Config(message)
        }
    }
}

/// `retry_on`'s matcher in `MailDeliveryJob`: transient delivery failures.
pub(crate) fn transient(error: &JobError) -> bool {
    error.downcast_ref::<MailError>().is_some_and(MailError::is_transient)
}

/// `discard_on`'s matcher in `MailDeliveryJob`: permanent delivery failures.
pub(crate) fn permanent(error: &JobError) -> bool {
    error.downcast_ref::<MailError>().is_some_and(MailError::is_permanent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_and_permanent_are_told_apart() {
        let busy = MailError::Transient { code: Some(451), message: "try later".into() };
        let gone = MailError::Permanent { code: Some(550), message: "no such user".into() };
        assert!(busy.is_transient() && !busy.is_permanent());
        assert!(gone.is_permanent() && !gone.is_transient());
        assert_eq!(busy.to_string(), "transient delivery failure (451): try later");
        assert!(transient(&JobError::from_error(busy)));
        assert!(permanent(&JobError::from_error(gone)));
        assert!(!transient(&JobError::from_error(MailError::Template("x".into()))));
    }
}
