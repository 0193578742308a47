//! The postgres adapter, once the `jobs-postgres` crate lands: each run gets a schema of its own on the server at
//! `JOBS_BENCH_POSTGRES_URL` (default: the local server), dropped by the teardown.
//!
//! Until then this file only says so; replace the body of [`open`] when the crate is here.

use crate::cli::AdapterKind;
use crate::target::{Target, Unavailable};

/// A fresh, empty postgres store, or why there is none.
pub(crate) async fn open() -> Result<Target, Unavailable> {
    Err(Unavailable::NotYetAvailable(AdapterKind::Postgres))
}
