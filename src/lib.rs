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
//! | adapter | durable | for |
//! |---|---|---|
//! | [`adapters::InlineAdapter`] | no | scripts, tests: runs at enqueue |
//! | [`adapters::MemoryAdapter`] | no | development, one process |
//! | [`adapters::TestAdapter`] | no | tests: records, asserts, performs on demand |
//!
//! | feature | default | what |
//! |---|---|---|
//! | `decimal` | no | `rust_decimal::Decimal` arguments, as Active Job's `BigDecimal` |

pub use jobs_core::*;

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
///
/// Serialized parameters travel in Active Job's encodings: types with one of their own
/// ([`RichArgument`]: `chrono` times and dates, durations, decimals, records as [`Global<T>`],
/// [`Keywords<T>`], [`CustomSerializer`]s, and `Option`/`Vec`/maps of them) use it, every other
/// serde type its JSON. A [`Global<T>`] parameter is loaded with [`GlobalId::locate`] before the
/// function runs.
pub use jobs_macros::job;

/// The names most programs need: `use jobs::prelude::*;`.
pub mod prelude {
    pub use crate::job;
    pub use jobs_core::adapters::{InlineAdapter, MemoryAdapter, TestAdapter};
    pub use jobs_core::{
        ConfiguredJob, Enqueued, Global, GlobalId, Job, JobContext, PendingJob, Runtime, State, Worker,
        perform_all_later,
    };
}

/// The README's code, compiled as doc tests so that it cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
