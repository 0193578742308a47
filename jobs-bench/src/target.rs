//! The backend under test: what each adapter factory in [`crate::targets`] hands back.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use jobs::adapter::Adapter;

use crate::cli::AdapterKind;
use crate::targets;

/// Undoes what opening a target set up (a schema, a key prefix, a file).
pub(crate) type Teardown = Box<dyn FnOnce() -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

/// The store's own maintenance after a bulk load (see `--backlog-fresh`): what a store that took
/// the same rows over time would have had done; an error says why it failed.
pub(crate) type Settle = Box<dyn Fn() -> Pin<Box<dyn Future<Output = Result<(), String>> + Send>> + Send + Sync>;

/// A freshly opened, empty store of one backend.
pub(crate) struct Target {
    /// The adapter, ready to enqueue to and to be drained by a worker.
    pub(crate) adapter: Arc<dyn Adapter>,
    /// What was measured, for the report: crate and server versions.
    pub(crate) version: String,
    /// Run by [`Target::close`].
    pub(crate) teardown: Option<Teardown>,
    /// Run after the backlog is stored, unless `--backlog-fresh`; `None`: nothing to do.
    pub(crate) settle: Option<Settle>,
}

impl Target {
    /// Releases what opening the target set up.
    pub(crate) async fn close(self) {
        if let Some(teardown) = self.teardown {
            teardown().await;
        }
    }
}

/// Why a backend cannot be measured by this binary, now.
#[derive(Debug)]
// Which variants are constructed depends on the backends built in (and, until their crates land,
// on the stubs in `targets/`).
#[allow(dead_code)]
pub(crate) enum Unavailable {
    /// Its cargo feature is off.
    NotBuilt(AdapterKind),
    /// Its adapter crate has not landed in the workspace yet.
    NotYetAvailable(AdapterKind),
    /// Its server did not answer.
    Unreachable {
        /// Which backend.
        adapter: AdapterKind,
        /// What went wrong (never a password).
        reason: String,
    },
}

impl fmt::Display for Unavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unavailable::NotBuilt(kind) => write!(
                f,
                "adapter `{0}` is not built into this binary; rebuild with \
                 `cargo run --release -p jobs-bench --features {0} -- ...`",
                kind.name()
            ),
            Unavailable::NotYetAvailable(kind) => write!(
                f,
                "adapter `{0}` is not yet available: its crate jobs-{0} has not landed in this workspace",
                kind.name()
            ),
            Unavailable::Unreachable { adapter, reason } => {
                write!(f, "adapter `{}`: server not reachable: {reason}", adapter.name())
            }
        }
    }
}

/// Opens a fresh, empty store of `kind`: one factory function per backend, each behind its cargo
/// feature.
pub(crate) async fn open(kind: AdapterKind) -> Result<Target, Unavailable> {
    match kind {
        AdapterKind::Memory => Ok(targets::memory::open()),
        #[cfg(feature = "sqlite")]
        AdapterKind::Sqlite => targets::sqlite::open().await,
        #[cfg(feature = "postgres")]
        AdapterKind::Postgres => targets::postgres::open().await,
        #[cfg(feature = "redis")]
        AdapterKind::Redis => targets::redis::open().await,
        #[allow(unreachable_patterns)]
        other => Err(Unavailable::NotBuilt(other)),
    }
}
