//! How a command ends: the exit statuses scripts test, and the failures that lead to them.

use std::fmt;
use std::process::ExitCode;

use jobs_core::Error;

/// The exit status of a `jobs` command, for scripts to test.
///
/// `main` can return it:
///
/// ```no_run
/// #[tokio::main]
/// async fn main() -> jobs_cli::Exit {
///     jobs_cli::run().await
/// }
/// ```
///
/// ```
/// use jobs_cli::Exit;
/// assert_eq!(Exit::NotFound.code(), 3);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Exit {
    /// 0: done.
    Ok,
    /// 1: failed: the backend could not be reached or answered an error, or a check failed.
    Error,
    /// 2: the command line was wrong: unknown command or flag, invalid value, no database URL.
    Usage,
    /// 3: no job or process has the id given, or an action matched no job.
    NotFound,
    /// 4: the backend cannot do what was asked.
    NotSupported,
}

impl Exit {
    /// The status as a number: 0, 1, 2, 3 or 4.
    pub fn code(self) -> u8 {
        match self {
            Exit::Ok => 0,
            Exit::Error => 1,
            Exit::Usage => 2,
            Exit::NotFound => 3,
            Exit::NotSupported => 4,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit.code())
    }
}

/// So that `main` can return an [`Exit`].
impl std::process::Termination for Exit {
    fn report(self) -> ExitCode {
        self.into()
    }
}

/// Why a command did not succeed; printed on stderr, and its [`Exit`] status returned.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The command line is wrong (status 2).
    Usage(String),
    /// What was named does not exist, or nothing matched (status 3).
    NotFound(String),
    /// The backend cannot do it (status 4).
    NotSupported(String),
    /// Anything else (status 1).
    Failed(String),
}

impl Failure {
    pub(crate) fn exit(&self) -> Exit {
        match self {
            Failure::Usage(_) => Exit::Usage,
            Failure::NotFound(_) => Exit::NotFound,
            Failure::NotSupported(_) => Exit::NotSupported,
            Failure::Failed(_) => Exit::Error,
        }
    }

    /// `what`, asked of the `backend` (its adapter's name), failed with `error`.
    pub(crate) fn operation(backend: &str, what: &str, error: Error) -> Failure {
        match error {
            Error::NotSupported { adapter, feature } => {
                // The operations API's defaults name no adapter ("this").
                let adapter = if adapter == "this" { backend.to_owned() } else { adapter };
                Failure::NotSupported(format!("the {adapter} adapter does not support {feature} in this version"))
            }
            Error::Config(message) => Failure::Usage(message),
            other => Failure::Failed(format!("{what} failed: {other}")),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Usage(message)
            | Failure::NotFound(message)
            | Failure::NotSupported(message)
            | Failure::Failed(message) => f.write_str(message),
        }
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Failure {
        match error {
            Error::NotSupported { adapter, feature } => {
                Failure::NotSupported(format!("the {adapter} adapter does not support {feature} in this version"))
            }
            Error::Config(message) => Failure::Usage(message),
            other => Failure::Failed(other.to_string()),
        }
    }
}
