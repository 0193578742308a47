//! The conformance suite of [`jobs`](https://docs.rs/jobs): the cases every adapter must pass, one
//! body of tests run against each.
//!
//! The cases check the promises of the adapter contract in `jobs-core` — at-least-once delivery,
//! fencing tokens on every write about a run, expired leases rescued, schedules never early,
//! priorities, retries and the dead set, poison payloads, graceful hand-back on shutdown, declared
//! capabilities — through the public API only, as a worker and a tool would use the adapter. Every
//! adapter of the workspace runs them, the in-process memory adapter included; an adapter written
//! outside it runs them the same way.
//!
//! # Running the suite against your adapter
//!
//! The adapter must implement [`Adapter`](jobs_core::adapter::Adapter) with a worker side
//! ([`Adapter::backend`](jobs_core::adapter::Adapter::backend)) and an inspection side
//! ([`Adapter::inspector`](jobs_core::adapter::Adapter::inspector)). Add the suite to the adapter crate's
//! dev-dependencies:
//!
//! ```toml
//! [dev-dependencies]
//! jobs-conformance = "0.1"
//! ```
//!
//! and write one test file, say `tests/conformance.rs`, with a factory that builds a fresh
//! adapter for each case and hands it over as a [`Fixture`], then [`conformance_suite!`]:
//!
//! ```no_run
//! // tests/conformance.rs
//! use jobs_conformance::Fixture;
//! # mod my_adapter {
//! #     use jobs_core::adapter::{Adapter, Backend, Capabilities, NewJob};
//! #     use jobs_core::{BoxFuture, Error, Inspect};
//! #     use jobs_core::adapters::MemoryAdapter;
//! #     #[derive(Clone, Debug)]
//! #     pub struct MyAdapter(MemoryAdapter);
//! #     impl MyAdapter {
//! #         pub async fn connect(_url: &str, _prefix: &str) -> Result<Self, Error> {
//! #             Ok(MyAdapter(MemoryAdapter::new()))
//! #         }
//! #         pub async fn store_raw(&self, queue: &str, payload: &str) -> Result<String, Error> {
//! #             Ok(self.0.push_raw(queue, payload.to_owned()))
//! #         }
//! #     }
//! #     impl Adapter for MyAdapter {
//! #         fn name(&self) -> &str { "Mine" }
//! #         fn capabilities(&self) -> Capabilities { self.0.capabilities() }
//! #         fn enqueue_all<'a>(&'a self, jobs: &'a [NewJob])
//! #             -> BoxFuture<'a, Result<Vec<Option<String>>, Error>> { self.0.enqueue_all(jobs) }
//! #         fn backend(&self) -> Option<&dyn Backend> { self.0.backend() }
//! #         fn inspector(&self) -> Option<&dyn Inspect> { self.0.inspector() }
//! #     }
//! # }
//! use my_adapter::MyAdapter;
//!
//! /// A fresh adapter for one case: its own database, schema or key prefix.
//! async fn my_adapter() -> Option<Fixture> {
//!     let url = jobs_conformance::service_url("MY_ADAPTER_TEST_URL", "myserver://127.0.0.1");
//!     let prefix = format!("conformance-{}", std::process::id());
//!     let adapter = match MyAdapter::connect(&url, &prefix).await {
//!         Ok(adapter) => adapter,
//!         // Skips the case, or fails it when JOBS_REQUIRE_SERVICES=1.
//!         Err(error) => return jobs_conformance::unavailable("My server", "the conformance suite", error),
//!     };
//!     let raw = adapter.clone();
//!     Some(Fixture::new(adapter).raw_enqueue(move |queue, payload| {
//!         let raw = raw.clone();
//!         async move { raw.store_raw(&queue, &payload).await }
//!     }))
//! }
//!
//! jobs_conformance::conformance_suite!(my_adapter_conformance, my_adapter);
//! # fn main() {}
//! ```
//!
//! `cargo test` then runs one test per case, named after it:
//! `my_adapter_conformance::priority_order`, `my_adapter_conformance::expired_lease_is_rescued`, ...
//! A failing case names what it expected; the cases themselves are in [`cases`], each documented
//! with the guarantee it checks, and can also be called directly through [`run`].
//!
//! The factory may return a [`Fixture`], or `Option<Fixture>` to skip a case when its server is
//! not there ([`unavailable`] prints why, or fails when `JOBS_REQUIRE_SERVICES=1`). Each case gets
//! its own fixture; [`Fixture::guard`] keeps whatever the adapter needs alive until the case ends
//! (a temporary directory, a schema to drop), and [`Fixture::raw_enqueue`] lets the suite store a
//! payload that is not valid JSON, for the case of undecodable payloads.
//!
//! # Time
//!
//! An adapter that reads its time from a clock it is given (memory, SQLite) hands the suite
//! a [`ManualClock`](jobs_core::ManualClock) with [`Fixture::clock`], and the suite moves it instead of
//! waiting. An adapter whose store owns the clock (Postgres) gives none; the suite then waits in
//! real time, briefly, and checks start times rather than durations. Cases wait for conditions
//! with generous timeouts and never assert on how long something took.

pub mod cases;
mod env;
mod fixture;
mod jobs;
mod services;
mod suite;

pub use fixture::{Fixture, IntoFixture, run};
pub use services::{REQUIRE_SERVICES, service_url, services_required, skip_notice, unavailable};
