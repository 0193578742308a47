//! # jobs: Active Job for Rust
//!
//! Declare background jobs once with `#[job]` and run them on any queuing backend.
//!
//! ```no_run
//! use jobs::prelude::*;
//!
//! #[job(queue = "mailers")]
//! async fn send_welcome_email(address: String) -> Result<(), std::io::Error> {
//!     println!("welcome, {address}");
//!     Ok(())
//! }
//!
//! # async fn demo() -> Result<(), jobs::Error> {
//! Runtime::builder().build()?.install();
//! SendWelcomeEmail::perform_later("bob@example.com".into()).await?;
//! SendWelcomeEmail::set()
//!     .wait(std::time::Duration::from_secs(3600))
//!     .perform_later("bob@example.com".into())
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! | adapter | durable | for | feature |
//! |---|---|---|---|
//! | [`adapters::InlineAdapter`] | no | scripts, tests: runs at enqueue | |
//! | [`adapters::MemoryAdapter`] | no | development, one process | |
//! | [`adapters::TestAdapter`] | no | tests: records, asserts, performs on demand | |
//! | `sqlite::SqliteAdapter` | yes | the embedded default: one file, several processes | `sqlite` (default) |

pub use jobs_core::*;

/// The SQLite adapter: jobs in one file, durable, drained by one or several worker processes.
///
/// ```no_run
/// # async fn demo() -> Result<(), jobs::Error> {
/// let sqlite = jobs::sqlite::SqliteAdapter::open("jobs.db").await?;
/// jobs::Runtime::builder().adapter(sqlite).build()?.install();
/// # Ok(()) }
/// ```
#[cfg(feature = "sqlite")]
pub use jobs_sqlite as sqlite;

/// The `#[job]` attribute: turns an `async fn` into a background job.
///
/// See the crate's README for the full list of keys; in short:
///
/// ```no_run
/// use jobs::prelude::*;
///
/// #[job(queue = "mailers", priority = 10, name = "WelcomeMailJob", log_arguments = false)]
/// async fn welcome(address: String, ctx: &JobContext) {
///     println!("attempt {} for {address}", ctx.executions());
/// }
/// ```
///
/// generates a `pub struct Welcome { pub address: String }` that implements [`Job`] and is
/// registered with the worker's registry, with `Welcome::perform_later(address)`,
/// `Welcome::perform_now(address)` and `Welcome::set()` (see [`ConfiguredJob`]). Parameters of
/// type [`State<T>`] and [`JobContext`] are injected when the job runs, not serialized.
pub use jobs_macros::job;

/// The names most programs need: `use jobs::prelude::*;`.
pub mod prelude {
    pub use crate::job;
    pub use jobs_core::adapters::{InlineAdapter, MemoryAdapter, TestAdapter};
    pub use jobs_core::{
        ConfiguredJob, Enqueued, Job, JobContext, PendingJob, Runtime, State, Worker, perform_all_later,
    };
    #[cfg(feature = "sqlite")]
    pub use jobs_sqlite::SqliteAdapter;
}
