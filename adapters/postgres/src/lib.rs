//! PostgreSQL adapter of [`jobs`](https://docs.rs/jobs): the production backend for workers
//! spread over many machines.
//!
//! ```no_run
//! use jobs_core::{Runtime, Worker};
//! use jobs_postgres::PostgresAdapter;
//!
//! # async fn demo() -> Result<(), jobs_core::Error> {
//! let postgres = PostgresAdapter::connect("postgres://app@localhost/app").await?;
//! Runtime::builder().adapter(postgres).build()?.install();
//! // ... SomeJob::perform_later(..).await? anywhere in the application ...
//! Worker::builder().queues(["default"]).concurrency(20).build()?.run().await
//! # }
//! ```
//!
//! * **Schema**: the crate owns its tables, in a schema of their own (`jobs` by default,
//!   [`PostgresBuilder::schema`]). Versioned migrations are recorded in `<schema>.schema_migrations`,
//!   applied at connect under an advisory lock ([`PostgresBuilder::migrate`]) or by your own
//!   migration tool from [`migration_sql`]; a schema of another version is refused at start-up.
//! * **Claims**: a worker claims as many due jobs as it has free slots in one statement
//!   (`FOR UPDATE SKIP LOCKED`, in queue precedence, then priority, then FIFO), each with a lease
//!   and a fencing token; completions and failures are written in batches. Every time — due
//!   times, leases, retries — comes from the server's clock.
//! * **Wake-ups**: enqueues `NOTIFY` the queue's name (nothing else; once per queue and
//!   transaction, sent on commit; debounced when one process enqueues concurrently, since
//!   notifying commits serialize), and one `LISTEN` connection per process wakes its waiting
//!   workers, a burst of notifications once each; while it is down, workers poll at their poll
//!   interval.
//! * **Leases**: heartbeats renew them; any live worker rescues expired ones; pruning of finished
//!   jobs runs on one elected worker (an advisory lock) per [`PostgresBuilder::maintenance_interval`].
//! * **Completed jobs** (schema version 7) live in `jobs_completed`, not in `jobs`: the statement
//!   that completes a run deletes its row from `jobs` and inserts it there (one round trip), so
//!   the claimed table holds only waiting, running, blocked and dead jobs, and listings of
//!   waiting jobs never read through a day of completed ones. The inspection side reads both
//!   (`find`, `counts`, `queues`, listings of every state, merged in id order; a listing of
//!   completed jobs reads only the new table), a delete applies to both, and the elected worker
//!   prunes it by `finished_at` ([`PostgresBuilder::retain_completed`]).
//! * **Vacuum**: claiming workers `VACUUM` the jobs table once it holds
//!   [`PostgresBuilder::vacuum_after`] dead row versions (10 000 by default), one at a time and
//!   in the background, so that claims do not read through the dead index entries of every job
//!   claimed since the last vacuum; and the completed jobs' table by the same rule, so that the
//!   space of pruned jobs is reused without autovacuum.
//! * **Transactional enqueue**: [`PostgresAdapter::enqueue_in`] writes jobs with the
//!   application's transaction: visible after commit, gone after rollback.
//! * **Flow control** ([`FlowStore`](jobs_core::adapter::FlowStore), schema versions 5 and 6):
//!   concurrency limits, unique jobs and throttles are enforced in the schema, for every worker
//!   and process at once. Tables: `concurrency_slots` (key, holder job, the token of the claim
//!   it is held under, which alone releases it, limit, hold expiry),
//!   `unique_keys` (key, holder job and its `job_id`, its states, `held_until`) and
//!   `throttle_counts` (key, window, count, expiry); a job held back by a limit is stored
//!   `blocked` in `jobs` with its `concurrency_key` (partial index `jobs_blocked`), never
//!   claimed nor rescued, until a slot frees. Costs, in round trips: taking a slot (or blocking),
//!   releasing one (and readying the next blocked job, by priority then FIFO), and expiring slots
//!   are one call each of a function of the schema (`flow_acquire_slot`, `flow_release_slot`,
//!   `flow_expire_slots`) that first takes the key's transaction-scoped advisory lock, so a take,
//!   a block and a release of one key never interleave; counting a throttle start is one upsert;
//!   a unique enqueue is one transaction of six statements (begin, lock the keys, read their
//!   holders' states, insert, record the keys, commit), and writes nothing when the holder
//!   completes: the holder's state is read at the next enqueue of its key. Released keys and
//!   expired counts are pruned by the maintenance and `expire_slots`. A worker that dies holding
//!   slots loses nothing: its jobs are rescued with their leases (and keep their slots when run
//!   again), and its slots free after their hold, readying the jobs blocked on them.
//! * **Faults**: statements that meet a lost connection (a killed backend, a restarted server)
//!   are retried on a new connection, the LISTEN connection reconnects with backoff, and both
//!   say so in the log.

mod actions;
mod adapter;
mod backend;
mod error;
mod filter;
mod flow;
mod history;
mod inspect;
mod lane;
mod levels;
mod listener;
mod listing;
mod maintenance;
mod notify;
mod options;
mod processes;
mod queues;
mod recurring;
mod schema;
mod sql;
mod transaction;
mod unique;
mod vacuum;

pub use adapter::PostgresAdapter;
pub use error::PostgresError;
/// Hides the passwords in a URL, as this adapter shows its server in logs and `Debug`.
pub use jobs_core::adapter::redact;
pub use options::PostgresBuilder;
pub use schema::{SCHEMA_VERSION, migration_sql};
pub use sqlx::postgres::PgConnectOptions;
