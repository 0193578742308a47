//! The redis adapter, once the `jobs-redis` crate lands: each run gets a key prefix of its own on the server at
//! `JOBS_BENCH_REDIS_URL` (default: the local server), deleted by the teardown.
//!
//! Until then this file only says so; replace the body of [`open`] when the crate is here.

use crate::cli::AdapterKind;
use crate::target::{Target, Unavailable};

/// A fresh, empty redis store, or why there is none.
pub(crate) async fn open() -> Result<Target, Unavailable> {
    Err(Unavailable::NotYetAvailable(AdapterKind::Redis))
}
