//! The statements of the jobs table, in one place: the enqueue side, the worker side and the
//! inspection side (the statements built from a filter are in `filter.rs`; worker processes and
//! history have theirs in `processes.rs` and `history.rs`). Times are bound as microseconds since
//! the Unix epoch (`jobs_core::adapter::time_to_micros`); `?1`, `?2`, ... are numbered as each
//! statement's callers bind them.

// Transactions.

/// Opens a write transaction at once, so that two writers never both read and then fail to
/// upgrade to the write lock.
pub(crate) const BEGIN_WRITE: &str = "BEGIN IMMEDIATE";

// The schema's own bookkeeping (`schema.rs`).

/// Creates the table that records applied migrations, if missing.
pub(crate) const CREATE_MIGRATIONS: &str = "CREATE TABLE IF NOT EXISTS jobs_schema_migrations (
            version     INTEGER PRIMARY KEY,
            description TEXT    NOT NULL,
            checksum    TEXT    NOT NULL,
            applied_at  INTEGER NOT NULL
        ) STRICT";

/// The applied migrations, oldest first: `(version, checksum)`.
pub(crate) const APPLIED_MIGRATIONS: &str = "SELECT version, checksum FROM jobs_schema_migrations ORDER BY version";

/// Records migration `?1` (description `?2`, checksum `?3`) as applied now.
pub(crate) const RECORD_MIGRATION: &str = "INSERT INTO jobs_schema_migrations (version, description, checksum, applied_at) \
             VALUES (?1, ?2, ?3, CAST(unixepoch('subsec') * 1000000 AS INTEGER))";

// The enqueue side (`adapter.rs`).

/// Rows to insert, as one JSON parameter: one statement stores a whole batch.
pub(crate) const INSERT: &str = "
    INSERT INTO jobs_jobs (job_id, class, queue, priority, state, run_at, payload, enqueued_at)
    SELECT value ->> 'job_id', value ->> 'class', value ->> 'queue', value ->> 'priority', 'available',
           value ->> 'run_at', value ->> 'payload', ?2
    FROM json_each(?1)
    ORDER BY key
    RETURNING id";

/// Deletes up to 10 000 jobs completed before `?1`.
pub(crate) const PRUNE_COMPLETED: &str = "DELETE FROM jobs_jobs WHERE id IN \
             (SELECT id FROM jobs_jobs WHERE state = 'completed' AND finished_at < ?1 LIMIT 10000)";

// The worker side (`backend.rs`).

// Due jobs are found level by level: the claim indexes are in (queue,) priority, due time, id
// order, so a scan for due jobs in that order with the due time as a filter reads, within each
// priority, every job scheduled for later before it reaches the next priority. The statements
// below list a queue's priority levels by skipping through the index (one search per level),
// then read each level with its priority fixed, where the due time bounds the index range.

/// The priority levels of queue `?1` with a job due at `?2`, lowest first; none when the queue is
/// paused. A plain read, so that idle workers never take the write lock.
pub(crate) const DUE_LEVELS_ON: &str = "
    WITH RECURSIVE levels(priority) AS (
        SELECT (SELECT priority FROM jobs_jobs WHERE state = 'available' AND queue = ?1
                ORDER BY priority LIMIT 1)
        UNION ALL
        SELECT (SELECT priority FROM jobs_jobs WHERE state = 'available' AND queue = ?1 AND priority > levels.priority
                ORDER BY priority LIMIT 1)
        FROM levels WHERE levels.priority IS NOT NULL
    )
    SELECT priority FROM levels
    WHERE priority IS NOT NULL
      AND EXISTS (SELECT 1 FROM jobs_jobs
                  WHERE state = 'available' AND queue = ?1 AND priority = levels.priority AND run_at <= ?2)
      AND NOT EXISTS (SELECT 1 FROM jobs_paused_queues p WHERE p.queue = ?1)
    ORDER BY priority";

/// The priority levels with a job due at `?2` on any unpaused queue, lowest first (`?1`, the
/// queue `*`, is bound but unused).
pub(crate) const DUE_LEVELS: &str = "
    WITH RECURSIVE levels(priority) AS (
        SELECT (SELECT priority FROM jobs_jobs WHERE state = 'available' AND ?1 IS NOT NULL
                ORDER BY priority LIMIT 1)
        UNION ALL
        SELECT (SELECT priority FROM jobs_jobs WHERE state = 'available' AND priority > levels.priority
                ORDER BY priority LIMIT 1)
        FROM levels WHERE levels.priority IS NOT NULL
    )
    SELECT priority FROM levels
    WHERE priority IS NOT NULL
      AND EXISTS (SELECT 1 FROM jobs_jobs
                  WHERE state = 'available' AND priority = levels.priority AND run_at <= ?2
                    AND NOT EXISTS (SELECT 1 FROM jobs_paused_queues p WHERE p.queue = jobs_jobs.queue))
    ORDER BY priority";

/// The earliest due time of a waiting job on queue `?1` unless it is paused: the first job of
/// each priority level; NULL when none waits.
pub(crate) const NEXT_DUE_ON: &str = "
    WITH RECURSIVE levels(priority) AS (
        SELECT (SELECT priority FROM jobs_jobs WHERE state = 'available' AND queue = ?1
                ORDER BY priority LIMIT 1)
        UNION ALL
        SELECT (SELECT priority FROM jobs_jobs WHERE state = 'available' AND queue = ?1 AND priority > levels.priority
                ORDER BY priority LIMIT 1)
        FROM levels WHERE levels.priority IS NOT NULL
    )
    SELECT min((SELECT run_at FROM jobs_jobs
                WHERE state = 'available' AND queue = ?1 AND priority = levels.priority
                ORDER BY run_at LIMIT 1))
    FROM levels
    WHERE priority IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM jobs_paused_queues p WHERE p.queue = ?1)";

/// The earliest due time of a waiting job on any unpaused queue, level by level (`?1`, the queue
/// `*`, is bound but unused); NULL when none waits.
pub(crate) const NEXT_DUE_ANY: &str = "
    WITH RECURSIVE levels(priority) AS (
        SELECT (SELECT priority FROM jobs_jobs WHERE state = 'available' AND ?1 IS NOT NULL
                ORDER BY priority LIMIT 1)
        UNION ALL
        SELECT (SELECT priority FROM jobs_jobs WHERE state = 'available' AND priority > levels.priority
                ORDER BY priority LIMIT 1)
        FROM levels WHERE levels.priority IS NOT NULL
    )
    SELECT min((SELECT run_at FROM jobs_jobs
                WHERE state = 'available' AND priority = levels.priority
                  AND NOT EXISTS (SELECT 1 FROM jobs_paused_queues p WHERE p.queue = jobs_jobs.queue)
                ORDER BY run_at LIMIT 1))
    FROM levels
    WHERE priority IS NOT NULL";

/// Claims due jobs of priority `?6` on one queue: a new token and lease each, the attempt
/// counted, started now.
pub(crate) const CLAIM_ON: &str = "
    UPDATE jobs_jobs
    SET state = 'running', attempts = attempts + 1, token = token + 1, lease_until = ?4, worker_id = ?5,
        started_at = ?2
    WHERE id IN (SELECT id FROM jobs_jobs
                 WHERE state = 'available' AND queue = ?1 AND priority = ?6 AND run_at <= ?2
                   AND NOT EXISTS (SELECT 1 FROM jobs_paused_queues p WHERE p.queue = jobs_jobs.queue)
                 ORDER BY run_at, id
                 LIMIT ?3)
    RETURNING id, token, attempts, payload, priority, run_at";

/// Claims due jobs of priority `?6` on every unpaused queue.
pub(crate) const CLAIM_ANY: &str = "
    UPDATE jobs_jobs
    SET state = 'running', attempts = attempts + 1, token = token + 1, lease_until = ?4, worker_id = ?5,
        started_at = ?2
    WHERE id IN (SELECT id FROM jobs_jobs
                 WHERE state = 'available' AND priority = ?6 AND run_at <= ?2
                   AND NOT EXISTS (SELECT 1 FROM jobs_paused_queues p WHERE p.queue = jobs_jobs.queue)
                 ORDER BY run_at, id
                 LIMIT ?3)
    RETURNING id, token, attempts, payload, priority, run_at";

/// The running jobs among `?2`, a JSON array of `[id, token]` pairs: only current claims match.
macro_rules! current_claims {
    ($update:literal) => {
        concat!(
            $update,
            " WHERE state = 'running' AND (id, token) IN (SELECT value ->> 0, value ->> 1 FROM json_each(?2))"
        )
    };
}

/// Completes the current claims `?2`, finished at `?1`.
pub(crate) const COMPLETE: &str =
    current_claims!("UPDATE jobs_jobs SET state = 'completed', finished_at = ?1, lease_until = NULL, worker_id = NULL");

/// Completes job `?3` running under the claim with token `?4`, finished at `?1`, keeping the error
/// `?2` its run failed with before the job enqueued itself again.
pub(crate) const COMPLETE_REQUEUED: &str = "
    UPDATE jobs_jobs
    SET state = 'completed', finished_at = ?1, errors = json_insert(errors, '$[#]', json(?2)),
        lease_until = NULL, worker_id = NULL
    WHERE id = ?3 AND token = ?4 AND state = 'running'";

/// Hands the current claims `?2` back, ready, giving their attempt back (`?1` is unused).
pub(crate) const RELEASE: &str = current_claims!(
    "UPDATE jobs_jobs SET state = 'available', attempts = max(attempts - 1, 0), lease_until = NULL, \
     worker_id = NULL"
);

/// Extends the leases of the current claims `?2` until `?1`.
pub(crate) const HEARTBEAT: &str = current_claims!("UPDATE jobs_jobs SET lease_until = ?1");

/// Replaces the payload of job `?2` with `?1` while it runs under the claim with token `?3`.
pub(crate) const SAVE_PROGRESS: &str =
    "UPDATE jobs_jobs SET payload = ?1 WHERE id = ?2 AND state = 'running' AND token = ?3";

/// One failure: back to available at `?1` (retry) or dead (`?1` null), with the error appended.
pub(crate) const FAIL: &str = "
    UPDATE jobs_jobs
    SET state = CASE WHEN ?1 IS NULL THEN 'dead' ELSE 'available' END,
        run_at = coalesce(?1, run_at),
        finished_at = CASE WHEN ?1 IS NULL THEN ?2 END,
        payload = coalesce(?3, payload),
        errors = json_insert(errors, '$[#]', json(?4)),
        failures = failures + 1,
        lease_until = NULL,
        worker_id = NULL
    WHERE id = ?5 AND token = ?6 AND state = 'running'";

/// Hands back, ready, every running job whose lease ended by `?1`; their attempt stays counted.
pub(crate) const RESCUE: &str = "
    UPDATE jobs_jobs SET state = 'available', lease_until = NULL, worker_id = NULL
    WHERE state = 'running' AND lease_until <= ?1";

// The inspection side (`inspect.rs`).

/// The state as tools name it: an available job is scheduled, ready or retrying depending on its
/// due time (`?1` is now) and whether it failed before.
macro_rules! state_at {
    () => {
        "CASE WHEN state <> 'available' THEN state
              WHEN run_at <= ?1 THEN 'ready'
              WHEN failures > 0 THEN 'retrying'
              ELSE 'scheduled' END"
    };
}

/// How many jobs each queue holds in each state (as of `?1`): `queue, shown, n`, and the due time
/// of the queue's oldest ready job in the `ready` row (`oldest`). One walk of the table in its
/// own order: through the queue index, each row would be a random read (a third slower with 1M
/// jobs).
pub(crate) const COUNTS: &str = concat!(
    "SELECT queue, ",
    state_at!(),
    " AS shown, count(*) AS n, min(run_at) AS oldest FROM jobs_jobs NOT INDEXED GROUP BY queue, shown"
);

/// The columns of a job as tools see it (`JobInfo`), in its state as of `?1`; the run's start and
/// its worker only while it runs.
macro_rules! job_columns {
    () => {
        concat!(
            "id, job_id, class, queue, priority, ",
            state_at!(),
            " AS shown, attempts, run_at, enqueued_at, \
             CASE WHEN state = 'running' THEN started_at END AS started_at, finished_at, \
             CASE WHEN state = 'running' THEN worker_id END AS worker_id, payload, errors"
        )
    };
}

/// The start of a listing: the columns of `JobInfo` as of `?1`, to be followed by the conditions
/// that `filter.rs` builds.
pub(crate) const SELECT_JOBS: &str = concat!("SELECT ", job_columns!(), " FROM jobs_jobs WHERE ");

/// [`SELECT_JOBS`] for running jobs: they are few, and their lease index finds them faster than
/// any walk in id order (SQLite, which keeps no statistics here, would walk the table).
pub(crate) const SELECT_RUNNING_JOBS: &str =
    concat!("SELECT ", job_columns!(), " FROM jobs_jobs INDEXED BY jobs_jobs_leases WHERE ");

/// The job with provider id `?2`, else the latest with Active Job `job_id` `?3` (indexed).
pub(crate) const FIND: &str = concat!(
    "SELECT ",
    job_columns!(),
    " FROM jobs_jobs WHERE id = coalesce(",
    "(SELECT id FROM jobs_jobs WHERE id = ?2), (SELECT max(id) FROM jobs_jobs WHERE job_id = ?3))"
);

/// The errors of the jobs stored under job_id `?1` before row `?2`, oldest first.
pub(crate) const EARLIER_ERRORS: &str =
    "SELECT errors FROM jobs_jobs WHERE job_id = ?1 AND id < ?2 AND errors <> '[]' ORDER BY id";

/// Pauses queue `?1` (paused at `?2`); pausing it again changes nothing.
pub(crate) const PAUSE: &str =
    "INSERT INTO jobs_paused_queues (queue, paused_at) VALUES (?1, ?2) ON CONFLICT DO NOTHING";

/// Resumes queue `?1`.
pub(crate) const RESUME: &str = "DELETE FROM jobs_paused_queues WHERE queue = ?1";

/// The paused queues, sorted.
pub(crate) const PAUSED: &str = "SELECT queue FROM jobs_paused_queues ORDER BY queue";

// Unique jobs (`unique.rs`); their other statements are there.

/// The holders of the unique keys in the JSON array `?2`, with the state each shows as of `?1`:
/// `key, holder, job_id, until, shown`. A key whose holder is no longer stored is absent.
pub(crate) const UNIQUE_HOLDERS: &str = concat!(
    "SELECT u.key AS key, u.holder AS holder, u.job_id AS job_id, u.until AS until, ",
    state_at!(),
    " AS shown FROM jobs_flow_uniques u JOIN jobs_jobs j ON j.id = u.holder ",
    "WHERE u.key IN (SELECT value FROM json_each(?2))"
);

// Recurring tasks (`recurring.rs`).

/// Every task with its state, by key.
pub(crate) const RECURRING_TASKS: &str =
    "SELECT key, definition, paused, last_run_at, last_job_id FROM jobs_recurring_tasks ORDER BY key";

/// Adds a task `?1` (definition `?2`, static `?3`) or replaces its definition, keeping its state.
pub(crate) const UPSERT_RECURRING_TASK: &str = "INSERT INTO jobs_recurring_tasks (key, definition, is_static)
    VALUES (?1, ?2, ?3)
    ON CONFLICT (key) DO UPDATE SET definition = excluded.definition, is_static = excluded.is_static";

/// Removes the tasks whose keys are in the JSON array `?1`, and their ticks.
pub(crate) const REMOVE_RECURRING_TASKS: &str =
    "DELETE FROM jobs_recurring_tasks WHERE key IN (SELECT value FROM json_each(?1))";
pub(crate) const REMOVE_RECURRING_TICKS: &str =
    "DELETE FROM jobs_recurring_executions WHERE task_key IN (SELECT value FROM json_each(?1))";

/// Pauses (`?2` = 1) or resumes task `?1`.
pub(crate) const PAUSE_RECURRING_TASK: &str = "UPDATE jobs_recurring_tasks SET paused = ?2 WHERE key = ?1";

/// Whether task `?1` is paused; no row when it is not stored.
pub(crate) const RECURRING_TASK_PAUSED: &str = "SELECT paused FROM jobs_recurring_tasks WHERE key = ?1";

/// Records tick `?2` of task `?1` with job `?3`, unless it is recorded already (no row changed).
pub(crate) const RECORD_RECURRING_TICK: &str = "INSERT INTO jobs_recurring_executions (task_key, run_at, job_id)
    VALUES (?1, ?2, ?3) ON CONFLICT (task_key, run_at) DO NOTHING";

/// Makes tick `?2` with job `?3` the last run of task `?1`, if newer than the one recorded.
pub(crate) const RECURRING_LAST_RUN: &str = "UPDATE jobs_recurring_tasks SET last_run_at = ?2, last_job_id = ?3
    WHERE key = ?1 AND (last_run_at IS NULL OR last_run_at < ?2)";

/// Forgets the ticks of task `?1` before `?2`.
pub(crate) const FORGET_RECURRING_TICKS: &str =
    "DELETE FROM jobs_recurring_executions WHERE task_key = ?1 AND run_at < ?2";
