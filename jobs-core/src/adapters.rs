//! The in-process adapters: inline, memory and test.

mod inline;
mod memory;
mod testing;

pub use inline::InlineAdapter;
pub use memory::MemoryAdapter;
pub use testing::{JobFilter, JobMatch, TestAdapter};
