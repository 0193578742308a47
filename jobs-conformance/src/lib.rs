//! The conformance suite: the cases every adapter must pass, one body of tests run against each.
//!
//! An adapter crate adds `jobs-conformance` to its dev-dependencies and, in a test file, gives
//! [`conformance_suite!`] a factory of fresh [`Fixture`]s; `cargo test` then runs every case by name.
//!
//! Time: an adapter that reads its time from a clock it is given (memory, SQLite) hands the suite
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
pub use services::{REQUIRE_SERVICES, service_url, services_required, unavailable};
