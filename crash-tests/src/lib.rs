//! What the crash tests' worker processes (`src/bin/`) and the tests that kill them (`tests/`)
//! share: the logs a job writes and a test reads, a worker that stops once every job is done,
//! a child process that dies with the test, and what the limited worker and its test agree on.

pub mod drain;
pub mod limited;
pub mod log;
pub mod process;
