//! The memory adapter: a new `MemoryAdapter` per run, in this process.

use std::sync::Arc;

use jobs::adapters::MemoryAdapter;

use crate::target::Target;

/// A new, empty memory store.
pub(crate) fn open() -> Target {
    Target {
        adapter: Arc::new(MemoryAdapter::new()),
        version: format!("jobs-core {} (in-process)", env!("CARGO_PKG_VERSION")),
        teardown: None,
        settle: None,
    }
}
