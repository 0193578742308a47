//! The `jobs` command line of [`jobs`](https://docs.rs/jobs): look into and steer the jobs stored
//! in SQLite, PostgreSQL or Redis, and run workers from an application's own binary.
//!
//! Two ways in:
//!
//! * the standalone `jobs` binary of this crate (`cargo install jobs-cli`) has every operations
//!   command: `migrate`, `check`, `stats`, `list`, `show`, `retry`, `discard`, `run-now`,
//!   `delete`, `purge`, `pause`, `resume`, `processes`, `quiet`, `stop`, and `web` (the
//!   dashboard of `jobs-web`). It has no `work` command: it has no jobs compiled in, so it
//!   could not run any;
//! * an application calls [`run`] (or [`Cli`] to configure it) from its own `main` and gets the
//!   same commands plus `work`, which runs a worker over the jobs compiled into it:
//!
//! ```no_run
//! // ... #[job] functions anywhere in the application ...
//!
//! #[tokio::main]
//! async fn main() -> jobs_cli::Exit {
//!     // myapp work --queues default,mailers --concurrency 10 --health-addr 127.0.0.1:9100
//!     // myapp stats, myapp list --state dead, myapp retry --all-dead, ...
//!     jobs_cli::run().await
//! }
//! ```
//!
//! The backend comes from `--database-url` or `JOBS_DATABASE_URL`: a SQLite path (or a
//! `sqlite:` URL), `postgres://…` or `redis://…`; `--postgres-schema` and `--redis-prefix` say
//! where in it the jobs are. Every command works through the operations API
//! ([`Inspect`](jobs_core::Inspect)), so it means the same on every backend.
//!
//! Output is a table for people and, with `--json`, the operations API's types as JSON for
//! scripts. The exit status says how it went ([`Exit`]):
//!
//! | status | meaning |
//! |---|---|
//! | 0 | done |
//! | 1 | failed: the backend could not be reached or answered an error, a check failed |
//! | 2 | usage: unknown command or flag, missing database URL, invalid value |
//! | 3 | not found: no job or process with that id, or an action matched no job |
//! | 4 | not supported: the backend cannot do this (e.g. `--print-sql` on Redis) |
//!
//! Settings come from flags, then `JOBS_*` environment variables, then a TOML file given with
//! `--config` (see [`Cli`] for its keys).

#![cfg_attr(docsrs, feature(doc_cfg))]
// Built without any adapter feature, nothing can open a backend: every command says so.
#![cfg_attr(not(any(feature = "sqlite", feature = "postgres", feature = "redis")), allow(dead_code))]

mod app;
mod args;
mod commands;
mod config;
mod database;
mod exit;
mod health;
mod output;
pub mod prometheus;
mod signals;
mod when;

pub use app::{Cli, run};
pub use exit::Exit;
