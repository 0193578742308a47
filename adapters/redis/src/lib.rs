//! Redis adapter of [`jobs`](https://docs.rs/jobs) that speaks Sidekiq: Rails and Rust share one
//! set of queues.
//!
//! Jobs are stored in Sidekiq's key layout and job format, so a Rails application that uses
//! Active Job's Sidekiq adapter and a Rust service can exchange jobs: Rust workers perform the
//! jobs Rails pushes whose `job_class` names a registered Rust job, and Ruby's Sidekiq performs
//! the jobs Rust pushes with the Rails job class of that name — and shows them in its Web UI.
//!
//! ```no_run
//! use jobs_core::{Runtime, Worker};
//! use jobs_redis::RedisAdapter;
//!
//! # async fn demo() -> Result<(), jobs_core::Error> {
//! let redis = RedisAdapter::from_env().await?; // REDIS_URL, or redis://127.0.0.1:6379
//! Runtime::builder().adapter(redis).build()?.install();
//! // ... SomeJob::perform_later(..).await? anywhere in the application ...
//! Worker::builder().queues(["default"]).concurrency(10).build()?.run().await
//! # }
//! ```
//!
//! # The layout (Sidekiq 6 and 7)
//!
//! Every key below is preceded by the optional [prefix](RedisBuilder::prefix) (none by default).
//!
//! | key | type | what |
//! |---|---|---|
//! | `queues` | set | every queue name |
//! | `queue:NAME` | list | jobs ready to run: pushed on the left, taken from the right (oldest first) |
//! | `schedule`, `retry` | sorted sets | jobs waiting for their time (score: float seconds) |
//! | `dead` | sorted set | jobs out of attempts (score: time of death), at most 10 000, 180 days |
//! | `processes`, `WORKER`, `WORKER:work`, `WORKER:workers`, `WORKER-signals` | set, hashes, list | one entry per worker, as Sidekiq's Web UI reads and signals its processes |
//! | `stat:processed`, `stat:failed` (and per day) | strings | Sidekiq's counters, added to by each heartbeat |
//! | `IDENTITY` | hash | the adapter's liveness (`beat`), which protects its working set |
//! | `jobs:working:IDENTITY`, `jobs:leases:IDENTITY`, `jobs:runs:IDENTITY` | hashes, sorted set | jobs an adapter holds, by claim token; their leases; when each run started, and which worker runs it |
//! | `jobs:processes`, `jobs:claims` | set, string | adapters that may hold jobs; the claim token counter |
//! | `jobs:done` | sorted set | the latest completed jobs (10 000), scored by when they completed |
//! | `jobs:history:MINUTE` | hashes | runs processed and failed per queue and class in that minute, kept 25 hours |
//! | `jobs:paused`, `jobs:wake` | set, channel | paused queues, wake-ups |
//! | `jobs:slots:KEY`, `jobs:slot-claims:KEY`, `jobs:slot-expiry`, `jobs:slot-limits` | sorted sets, hashes | concurrency slots: their holders (jid) by expiry, the claim token each holds its slot under, every key by its earliest expiry, each key's limit (see [Flow control](#flow-control)) |
//! | `jobs:blocked:KEY`, `jobs:blocked-keys` | list, set | jobs blocked on a concurrency key, ordered like a queue; the keys that have some |
//! | `jobs:throttle:WINDOW:KEY` | string | starts of a throttle key in a window, expiring after it |
//! | `jobs:unique:KEY` | hash | the job holding a unique key: `jid`, `job_id`, `queue`, `until`, `concurrency` |
//!
//! Each job is the hash Active Job's Sidekiq adapter pushes: `class` (its `JobWrapper`),
//! `wrapped` (the job class), `queue`, `args` (one element: the Active Job payload), `retry`,
//! `jid` (the provider job id), `created_at`, `enqueued_at`. Failures add Sidekiq's
//! `error_class`, `error_message`, `failed_at`, `retried_at` and `retry_count`, plus
//! `error_history` (every failed run) and `attempts` (claims that counted), which Sidekiq ignores.
//! Priorities are kept by inserting a job with a priority at its place in the list, so that
//! lower numbers are taken first (Sidekiq's own jobs have none and are simply pushed).
//!
//! # Reliable fetch and fencing
//!
//! A claim is one Lua script: it promotes due jobs of `schedule` and `retry`, pops a batch from
//! the queues (in order of precedence, skipping paused ones) and moves it into this process's
//! working hash `jobs:working:IDENTITY` under new fencing tokens (from the counter
//! `jobs:claims`), each with a lease in `jobs:leases:IDENTITY` — nothing is ever only in the
//! worker's memory. Completing a batch is one script call: it deletes the tokens from the working
//! hash and records the jobs as completed. A stale claim's token is no longer in the hash (its
//! job was rescued, and a new claim has a new token), so a stale worker can neither complete,
//! fail, release nor extend a job that was handed to someone else.
//!
//! Each adapter (one per OS process, usually) has an identity, `hostname:pid:nonce`, and keeps
//! the key `IDENTITY` alive (60 s by default) with every claim, lease heartbeat and worker beat.
//! [`rescue_expired`](jobs_core::adapter::Backend::rescue_expired), which every worker calls
//! regularly, hands back to their queues the jobs of leases that expired and every job of an
//! adapter whose key is gone; their attempt stays counted.
//!
//! # Operations
//!
//! Each worker appears in Sidekiq's process list under its own id, with its own queues,
//! concurrency, quiet state and the jobs it runs, so that Sidekiq's Web UI (Busy page) shows it;
//! its Quiet and Stop buttons (`TSTP`, `TERM`) reach the worker at its next beat, as
//! [`Inspect::signal`](jobs_core::Inspect::signal) does. Listing and acting on jobs walk the
//! structures in bounded batches (one Lua script call each, a thousand jobs scanned at most), so
//! that no call blocks the server for long however many jobs it holds; see
//! [`Inspect::list`](jobs_core::Inspect::list) on [`RedisAdapter`] for the order and the cursor.
//!
//! Times for schedules, retries and leases come from the Redis server's clock (`TIME`).
//!
//! # Flow control
//!
//! Concurrency limits, unique jobs and throttles ([`FlowStore`](jobs_core::adapter::FlowStore))
//! are kept in the keys above, each operation one Lua script call (one round trip), atomic on the
//! server: taking, releasing and blocking a key's slots never interleave, and of many processes
//! enqueueing one unique key at once, one stores it.
//!
//! * A **slot** is a member of `jobs:slots:KEY` (the holder's jid) scored by when it expires, so
//!   that the slot of a worker killed while holding it frees after its hold time: the next
//!   [`expire_slots`](jobs_core::adapter::FlowStore::expire_slots) (workers call it with the
//!   lease rescue) removes it and makes blocked jobs ready up to the key's free slots; the
//!   killed worker's own job is rescued as any other, and keeps its slot if it takes it again.
//!   The slot is held under the claim that took it (or took it again last), its token kept in
//!   `jobs:slot-claims:KEY`: a run whose job was rescued and taken again cannot release the
//!   slot the newer run holds.
//! * A **blocked** job moves, in the script that found every slot taken, from the working hash
//!   (its claim ended, its attempt not counted) to `jobs:blocked:KEY`. It is in no structure
//!   Sidekiq knows: never claimed, never rescued, not on Sidekiq's Web UI, but listed, counted,
//!   found and acted on by [`Inspect`](jobs_core::Inspect) as blocked. A release makes the first
//!   one ready (lowest priority number, then oldest): back in its queue as it was, ahead of the
//!   jobs of its priority.
//! * A **throttle** count is `jobs:throttle:WINDOW:KEY`: INCR, and PEXPIRE on a window's first
//!   start.
//! * A **unique key** is the hash `jobs:unique:KEY`, naming the job that took it last. Nothing is
//!   written when a job completes or fails: an enqueue with the key looks for the holder by its
//!   jid where the states its rule names keep jobs (the running jobs, the key's blocked list, the
//!   holder's queue, the schedule and retry sets; the dead and done sets when named), cheapest
//!   first, and it is a duplicate only if the holder is found in one of those states. That look-up
//!   is O(jobs in those structures) when the holder has left them (the key is free): nothing for
//!   queues of thousands, a pause of the server for queues of millions. A batch reads each
//!   structure once, whatever the number of its unique jobs. The hash expires at the
//!   rule's `until`, else with the dead set's age limit (180 days by default).
//!
//! Per job with a limit, a worker adds two round trips (acquire and release); the unlimited path
//! is unchanged.
//!
//! # What Sidekiq does not see
//!
//! Ruby's Sidekiq neither honours `jobs:paused` nor holds its jobs in a working hash (its
//! reliable fetch is a Pro feature): its processes pop jobs with `BRPOP`. Route classes by
//! queue: give the classes that Rust performs their own queues, and have each side work its own.

mod actions;
mod adapter;
mod backend;
mod envelope;
mod error;
mod flow;
mod inspect;
mod listing;
mod options;
mod process;
mod recurring;
mod rewrite;
mod scripts;
mod stats;

pub use adapter::RedisAdapter;
pub use envelope::JOB_WRAPPER;
pub use error::RedisError;
/// Hides the passwords in a URL, as this adapter shows its server in logs and `Debug`.
pub use jobs_core::adapter::redact;
pub use options::{DEFAULT_URL, RedisBuilder};
/// The `redis` crate this adapter is built on, for [`RedisAdapter::connection`]'s commands.
pub use redis;
