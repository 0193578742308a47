//! Adapter factories, one file per backend: each opens a fresh, empty store and says which
//! versions it measures.
//!
//! Adding a backend: put its crate behind the matching feature in `jobs-bench/Cargo.toml`
//! (`sqlite = ["dep:jobs-sqlite"]`) and write `open()` in its file here.

pub(crate) mod memory;
#[cfg(feature = "postgres")]
pub(crate) mod postgres;
#[cfg(feature = "redis")]
pub(crate) mod redis;
#[cfg(feature = "sqlite")]
pub(crate) mod sqlite;
