//! The sqlite adapter, once the `jobs-sqlite` crate lands: each run gets a database file in a temporary
//! directory, removed by the teardown.
//!
//! Until then this file only says so; replace the body of [`open`] when the crate is here.

use crate::cli::AdapterKind;
use crate::target::{Target, Unavailable};

/// A fresh, empty sqlite store, or why there is none.
pub(crate) async fn open() -> Result<Target, Unavailable> {
    Err(Unavailable::NotYetAvailable(AdapterKind::Sqlite))
}
