//! The signals `work` obeys: SIGTERM and SIGINT shut it down, SIGTSTP makes it quiet.

use crate::exit::Failure;

/// What a signal asks of the worker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Signal {
    /// Shut down gracefully (SIGTERM, SIGINT).
    Stop,
    /// Claim no more jobs, finish those held (SIGTSTP).
    Quiet,
}

/// The signals of this process, from the moment they are listened to.
#[derive(Debug)]
pub(crate) struct Signals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
    #[cfg(unix)]
    tstp: tokio::signal::unix::Signal,
}

impl Signals {
    /// Starts listening; from now on these signals no longer end or suspend the process.
    pub(crate) fn listen() -> Result<Signals, Failure> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let listen = |kind: SignalKind, name: &str| {
                signal(kind).map_err(|e| Failure::Failed(format!("cannot listen for {name}: {e}")))
            };
            Ok(Signals {
                term: listen(SignalKind::terminate(), "SIGTERM")?,
                int: listen(SignalKind::interrupt(), "SIGINT")?,
                tstp: listen(SignalKind::from_raw(libc::SIGTSTP), "SIGTSTP")?,
            })
        }
        #[cfg(not(unix))]
        {
            Ok(Signals {})
        }
    }

    /// The next signal.
    pub(crate) async fn next(&mut self) -> Signal {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.term.recv() => Signal::Stop,
                _ = self.int.recv() => Signal::Stop,
                _ = self.tstp.recv() => Signal::Quiet,
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            Signal::Stop
        }
    }
}
