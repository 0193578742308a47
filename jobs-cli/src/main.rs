//! `jobs`: look into and steer the jobs stored in SQLite, PostgreSQL or Redis.
//!
//! ```text
//! jobs --database-url jobs.db stats
//! JOBS_DATABASE_URL=postgres://app@db/app jobs list --state dead
//! jobs --database-url redis://127.0.0.1:6379 retry --all-dead
//! ```
//!
//! Workers are not run from here: they need the jobs compiled in, so they run in the
//! application's own binary through `jobs::cli::run()`.

#[tokio::main]
async fn main() -> jobs_cli::Exit {
    jobs_cli::Cli::standalone().run().await
}
