//! SQLite adapter of [`jobs`](https://docs.rs/jobs): the embedded durable default.
//!
//! Jobs live in one SQLite file (WAL mode), so they survive restarts and crashes with no server
//! to run, and several worker processes on one machine can drain the same file. The crate owns
//! its schema: versioned migrations, recorded in the file, applied and checked when the adapter
//! opens it. Workers claim jobs in batches in one write transaction and report completions in
//! batches, so throughput is bounded by commits, not by jobs.
//!
//! ```no_run
//! use jobs_core::{Runtime, Worker};
//! use jobs_sqlite::SqliteAdapter;
//!
//! # async fn demo() -> Result<(), jobs_core::Error> {
//! let sqlite = SqliteAdapter::open("jobs.db").await?;
//! Runtime::builder().adapter(sqlite).build()?.install();
//! // ... SomeJob::perform_later(..).await? anywhere in the application ...
//! Worker::builder().queues(["default"]).concurrency(5).build()?.run().await
//! # }
//! ```
//!
//! The file also holds what the operations API shows (`Inspect`): jobs in every state, listed
//! in keyset pages that stay fast with millions of jobs stored, the worker processes with their
//! last heartbeats (and the quiet/stop commands operators leave them), and processed/failed
//! counts per minute, queue and class for 25 hours.
//!
//! Flow control (concurrency limits, unique jobs, throttles: [`FlowStore`](jobs_core::adapter::FlowStore))
//! lives in the file too: concurrency slots, unique keys and throttle counts in tables of their
//! own, blocked jobs in the jobs table under their concurrency key. Each operation is one write
//! transaction (SQLite admits one writer at a time, across processes), so a limit holds for every
//! worker on the file and, of many enqueues of one unique key at once, exactly one is stored. The
//! crate's README lists the tables and what each operation costs.
//!
//! Guarantees (proven by the conformance suite, `jobs-conformance`): a job whose enqueue returned
//! `Ok` is in the file, committed with `synchronous = FULL` by default, and is performed at least
//! once or ends in the dead set with its error, even if a worker process is killed at any
//! instant: its claims carry a lease that heartbeats renew, and another worker rescues them once
//! the lease has expired. SQLite has no clock of its own; schedules and leases use the clock
//! the adapter is built with ([`SqliteBuilder::clock`]), the system clock by default.

mod actions;
mod adapter;
mod adopt;
mod backend;
mod error;
mod filter;
mod flow;
mod history;
mod inspect;
mod options;
mod processes;
mod queues;
mod recurring;
mod schema;
mod slots;
mod sql;
mod transaction;
mod unique;

pub use adapter::SqliteAdapter;
pub use error::SqliteError;
pub use options::SqliteBuilder;
pub use schema::SCHEMA_VERSION;
pub use sqlx::sqlite::SqliteSynchronous as Synchronous;
