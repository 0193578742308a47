//! The statements, written once for a schema: every table name is qualified, so that they also
//! run on connections the crate does not own (transactional enqueue).

use std::sync::Arc;

use sqlx::AssertSqlSafe;

use crate::levels;

/// Every statement of the adapter for one schema.
#[derive(Debug)]
pub(crate) struct Statements {
    pub(crate) insert: Sql,
    pub(crate) claim_named: Sql,
    pub(crate) claim_any: Sql,
    pub(crate) next_due_named: Sql,
    pub(crate) next_due_any: Sql,
    pub(crate) complete: Sql,
    pub(crate) complete_requeued: Sql,
    pub(crate) release: Sql,
    pub(crate) heartbeat: Sql,
    pub(crate) save_progress: Sql,
    pub(crate) fail: Sql,
    pub(crate) rescue: Sql,
    pub(crate) prune_completed: Sql,
    pub(crate) prune_dead: Sql,
    pub(crate) counts: Sql,
    pub(crate) find: Sql,
    pub(crate) earlier_errors: Sql,
    pub(crate) pause: Sql,
    pub(crate) resume: Sql,
    pub(crate) paused: Sql,
    pub(crate) acquire_slot: Sql,
    pub(crate) release_slot: Sql,
    pub(crate) expire_slots: Sql,
    pub(crate) count_start: Sql,
}

/// One statement's text, shared: handing it to sqlx copies nothing.
#[derive(Clone, Debug)]
pub(crate) struct Sql(Arc<str>);

impl Sql {
    /// The text, for `sqlx::query` and friends.
    pub(crate) fn get(&self) -> AssertSqlSafe<Arc<str>> {
        AssertSqlSafe(self.0.clone())
    }
}

/// That the row `j` is still the run its ticket names (with `j.id` and `j.token` matched): claimed
/// and not finished. Written as `IS TRUE` so that the planner cannot answer it from the lease
/// index `jobs_leases`, whose predicate `state = 'running'` is: with statistics taken while few
/// jobs ran (an ANALYZE, by hand or autovacuum's), it estimates one running row and, in the
/// generic plans prepared statements settle on, scans every running job's lease entry for each
/// ticket instead of looking the ids up by primary key. Measured with 57 000 jobs running after
/// such an ANALYZE: a completion of 30 took 345 ms through the lease index, and slower
/// completions let even more jobs pile up unacknowledged.
const STILL_RUNNING: &str = "(j.state = 'running') IS TRUE";

/// A duration bound as whole microseconds (`int8`), as an interval.
const MICROS: &str = "* interval '1 microsecond'";

/// The state as tools name it: an available job is scheduled, ready or retrying depending on its
/// due time and whether it failed before.
pub(crate) const SHOWN_STATE: &str = "CASE WHEN state <> 'available' THEN state
                                WHEN run_at <= now() THEN 'ready'
                                WHEN failures > 0 THEN 'retrying'
                                ELSE 'scheduled' END";

/// Every column of a stored job, in the order both tables (`jobs`, `jobs_completed`) keep them.
pub(crate) const COLUMNS: &str = "id, job_id, queue, priority, state, run_at, attempts, failures, token, lease_until,
    worker_id, payload, errors, enqueued_at, finished_at, class, started_at, concurrency_key, concurrency_limit";

/// Every stored job of the schema whose quoted name is `schema`, with its `shown` state (see
/// [`SHOWN_STATE`]), as one relation: the jobs table and the completed jobs (migration 7) read as
/// one. Conditions on it reach both tables' indexes (the planner pushes them into each branch).
pub(crate) fn every_job(schema: &str) -> String {
    format!(
        "(SELECT {COLUMNS}, {SHOWN_STATE} AS shown FROM {schema}.jobs
          UNION ALL SELECT {COLUMNS}, 'completed' AS shown FROM {schema}.jobs_completed)"
    )
}

/// The statement that completes the current runs among `runs` (a `FROM` item naming its columns
/// `id` and `token`, plus whatever `errors` reads): it deletes them from the jobs table and stores
/// them in the completed jobs' table with `errors` as their errors, in one statement, so a
/// completion is one round trip and a concurrent write to the row no longer matches it.
fn completion(schema: &str, runs: &str, errors: &str) -> String {
    format!(
        "WITH done AS (
            DELETE FROM {schema}.jobs j USING {runs}
            WHERE j.id = r.id AND j.token = r.token AND {STILL_RUNNING}
            RETURNING j.*, {errors} AS new_errors
         )
         INSERT INTO {schema}.jobs_completed ({COLUMNS})
         SELECT id, job_id, queue, priority, 'completed', run_at, attempts, failures, token, NULL, NULL,
                payload, new_errors, enqueued_at, now(), class, started_at, concurrency_key, concurrency_limit
         FROM done"
    )
}

/// Columns of a claimed job, in the order `backend.rs` reads them.
const CLAIMED: &str = "j.id, j.token, j.attempts, j.payload, j.priority, j.run_at";

/// Columns of a job for the inspection side, from rows that have `shown` (see [`SHOWN_STATE`]);
/// the run's start and worker only while it runs.
pub(crate) const INFO: &str = "id, job_id, class, queue, priority, shown, attempts, run_at, enqueued_at, finished_at,
    CASE WHEN state = 'running' THEN started_at END AS started_at,
    CASE WHEN state = 'running' THEN worker_id END AS worker_id,
    payload, errors::text AS errors";

impl Statements {
    /// The statements for the schema whose quoted name is `schema`.
    pub(crate) fn new(schema: &str, synchronous_worker: bool) -> Statements {
        // Joined into the FROM list of the worker's writes: their commits do not wait for the
        // WAL flush (see PostgresBuilder::synchronous_worker_commits).
        let nowait =
            if synchronous_worker { "" } else { ", (SELECT set_config('synchronous_commit', 'off', true)) AS nowait" };
        // The same for the worker's flow-control writes, which select from no table.
        let from_nowait = if synchronous_worker {
            ""
        } else {
            " FROM (SELECT set_config('synchronous_commit', 'off', true)) AS nowait"
        };
        let jobs = format!("{schema}.jobs");
        let completed = format!("{schema}.jobs_completed");
        let every = every_job(schema);
        let paused = format!("{schema}.paused_queues");
        let (levels_named, levels_any) = (levels::of_named_queues(&jobs), levels::of_every_queue(&jobs));
        let sql = |text: String| Sql(Arc::from(text));
        Statements {
            // $1..$5 and $8: the rows as arrays; $6: the channel; $7: the queues to wake.
            insert: sql(format!(
                "WITH input AS (
                    SELECT * FROM unnest($1::text[], $2::text[], $3::int4[], $4::timestamptz[], $5::text[], $8::text[])
                        WITH ORDINALITY AS t(job_id, queue, priority, run_at, payload, class, ord)
                 ), inserted AS (
                    INSERT INTO {jobs} (job_id, queue, priority, state, run_at, payload, class)
                    SELECT job_id, queue, priority, 'available', coalesce(run_at, now()), payload, class
                    FROM input ORDER BY ord
                    RETURNING id
                 )
                 SELECT i.id FROM inserted i
                 CROSS JOIN (SELECT count(*) FROM (SELECT pg_notify($6, q) FROM unnest($7::text[]) q) n) woken
                 ORDER BY i.id"
            )),
            // $1: the queues in precedence; $2: the limit; $3: the lease; $4: the worker. Each
            // queue's priority levels are walked in order, reading only due jobs (see levels.rs).
            claim_named: sql(format!(
                "WITH RECURSIVE queues AS (
                    SELECT q.name, q.ord FROM unnest($1::text[]) WITH ORDINALITY AS q(name, ord)
                    WHERE NOT EXISTS (SELECT 1 FROM {paused} p WHERE p.queue = q.name)
                 ), {levels_named}, next AS (
                    SELECT c.id, levels.ord FROM levels CROSS JOIN LATERAL (
                        SELECT id, priority, run_at FROM {jobs}
                        WHERE state = 'available' AND queue = levels.name AND priority = levels.priority
                          AND run_at <= now()
                        ORDER BY run_at, id
                        LIMIT $2
                        FOR UPDATE SKIP LOCKED
                    ) c
                    ORDER BY levels.ord, c.priority, c.run_at, c.id
                    LIMIT $2
                 )
                 UPDATE {jobs} j
                 SET state = 'running', attempts = j.attempts + 1, token = j.token + 1,
                     lease_until = now() + $3 {MICROS}, worker_id = $4, started_at = now()
                 FROM next{nowait} WHERE j.id = next.id
                 RETURNING {CLAIMED}, next.ord"
            )),
            // $1: the limit; $2: the lease; $3: the worker. Every queue's priority levels are
            // found by skipping through the index, then each level gives its first due jobs and
            // the best of those are claimed.
            claim_any: sql(format!(
                "WITH RECURSIVE {levels_any}, next AS (
                    SELECT c.id FROM levels CROSS JOIN LATERAL (
                        SELECT id, priority, run_at FROM {jobs}
                        WHERE state = 'available' AND queue = levels.name AND priority = levels.priority
                          AND run_at <= now()
                        ORDER BY run_at, id
                        LIMIT $1
                        FOR UPDATE SKIP LOCKED
                    ) c
                    WHERE NOT EXISTS (SELECT 1 FROM {paused} p WHERE p.queue = levels.name)
                    ORDER BY c.priority, c.run_at, c.id
                    LIMIT $1
                 )
                 UPDATE {jobs} j
                 SET state = 'running', attempts = j.attempts + 1, token = j.token + 1,
                     lease_until = now() + $2 {MICROS}, worker_id = $3, started_at = now()
                 FROM next{nowait} WHERE j.id = next.id
                 RETURNING {CLAIMED}, 1::int8 AS ord"
            )),
            // $1: the queues. Microseconds until the earliest waiting job of an unpaused queue
            // among them is due (negative when due), or null when none waits: the first job of
            // each priority level.
            next_due_named: sql(format!(
                "WITH RECURSIVE queues AS (
                    SELECT q.name, q.ord FROM unnest($1::text[]) WITH ORDINALITY AS q(name, ord)
                    WHERE NOT EXISTS (SELECT 1 FROM {paused} p WHERE p.queue = q.name)
                 ), {levels_named}
                 SELECT (extract(epoch FROM min(f.run_at) - now()) * 1000000)::int8 FROM levels CROSS JOIN LATERAL (
                    SELECT run_at FROM {jobs}
                    WHERE state = 'available' AND queue = levels.name AND priority = levels.priority
                    ORDER BY run_at LIMIT 1
                 ) f"
            )),
            // The same over every unpaused queue.
            next_due_any: sql(format!(
                "WITH RECURSIVE {levels_any}
                 SELECT (extract(epoch FROM min(f.run_at) - now()) * 1000000)::int8 FROM levels CROSS JOIN LATERAL (
                    SELECT run_at FROM {jobs}
                    WHERE state = 'available' AND queue = levels.name AND priority = levels.priority
                    ORDER BY run_at LIMIT 1
                 ) f
                 WHERE NOT EXISTS (SELECT 1 FROM {paused} p WHERE p.queue = levels.name)"
            )),
            // Tickets as two arrays: $1 ids, $2 tokens; only current claims match.
            complete: sql(completion(
                schema,
                &format!("unnest($1::int8[], $2::int8[]) AS r(id, token){nowait}"),
                "j.errors",
            )),
            // Per run: id, token, the error it failed with before the job enqueued itself again.
            complete_requeued: sql(completion(
                schema,
                &format!("unnest($1::int8[], $2::int8[], $3::text[]) AS r(id, token, error){nowait}"),
                "j.errors || jsonb_build_array(r.error::jsonb)",
            )),
            // $3: the channel, woken for each queue that got a job back.
            release: sql(format!(
                "WITH released AS (
                    UPDATE {jobs} j
                    SET state = 'available', attempts = greatest(j.attempts - 1, 0), lease_until = NULL, worker_id = NULL
                    FROM unnest($1::int8[], $2::int8[]) AS t(id, token){nowait}
                    WHERE j.id = t.id AND j.token = t.token AND {STILL_RUNNING}
                    RETURNING j.queue
                 )
                 SELECT count(*) AS n, (SELECT count(*) FROM (SELECT pg_notify($3, queue) FROM released) w) AS woken
                 FROM released"
            )),
            // $3: the lease.
            heartbeat: sql(format!(
                "UPDATE {jobs} j SET lease_until = now() + $3 {MICROS}
                 FROM unnest($1::int8[], $2::int8[]) AS t(id, token){nowait}
                 WHERE j.id = t.id AND j.token = t.token AND {STILL_RUNNING}"
            )),
            // $1, $2: the claim; $3: the payload to store.
            save_progress: sql(format!(
                "UPDATE {jobs} j SET payload = $3 WHERE j.id = $1 AND j.token = $2 AND {STILL_RUNNING}"
            )),
            // Per failure: id, token, retry delay (null: dead), new payload (null: keep), error JSON;
            // $6: the channel, woken for each queue that got a retry (it may be due before what
            // idle workers wait for).
            fail: sql(format!(
                "WITH failed AS (
                 UPDATE {jobs} j
                 SET state = CASE WHEN f.retry_in IS NULL THEN 'dead' ELSE 'available' END,
                     run_at = CASE WHEN f.retry_in IS NULL THEN j.run_at ELSE now() + f.retry_in {MICROS} END,
                     finished_at = CASE WHEN f.retry_in IS NULL THEN now() END,
                     payload = coalesce(f.payload, j.payload),
                     errors = j.errors || jsonb_build_array(f.error::jsonb),
                     failures = j.failures + 1,
                     lease_until = NULL,
                     worker_id = NULL
                 FROM unnest($1::int8[], $2::int8[], $3::int8[], $4::text[], $5::text[])
                     AS f(id, token, retry_in, payload, error){nowait}
                 WHERE j.id = f.id AND j.token = f.token AND {STILL_RUNNING}
                 RETURNING j.queue, f.retry_in
                 )
                 SELECT count(*) AS n,
                        (SELECT count(*) FROM (SELECT pg_notify($6, queue) FROM
                            (SELECT DISTINCT queue FROM failed WHERE retry_in IS NOT NULL) q) w) AS woken
                 FROM failed"
            )),
            // $1: the channel.
            rescue: sql(format!(
                "WITH expired AS (
                    SELECT id FROM {jobs} WHERE state = 'running' AND lease_until <= now()
                    ORDER BY lease_until LIMIT 10000
                    FOR UPDATE SKIP LOCKED
                 ), rescued AS (
                    UPDATE {jobs} j SET state = 'available', lease_until = NULL, worker_id = NULL
                    FROM expired{nowait} WHERE j.id = expired.id
                    RETURNING j.queue
                 )
                 SELECT count(*) AS n, (SELECT count(*) FROM (SELECT pg_notify($1, queue) FROM rescued) w) AS woken
                 FROM rescued"
            )),
            // $1: how long completed jobs are kept; returns how many were deleted. Completed rows
            // in the jobs table are those a process of the build before migration 7 wrote.
            prune_completed: sql(format!(
                "WITH old AS (
                    DELETE FROM {completed} WHERE id IN (
                        SELECT id FROM {completed} WHERE finished_at < now() - $1 {MICROS} LIMIT 10000)
                    RETURNING 1
                 ), stray AS (
                    DELETE FROM {jobs} WHERE id IN (
                        SELECT id FROM {jobs} WHERE state = 'completed' AND finished_at < now() - $1 {MICROS} LIMIT 10000)
                    RETURNING 1
                 )
                 SELECT (SELECT count(*) FROM old) + (SELECT count(*) FROM stray)"
            )),
            // $1: how long dead jobs are kept; returns how many were deleted.
            prune_dead: sql(format!(
                "WITH old AS (
                    DELETE FROM {jobs} WHERE id IN (
                        SELECT id FROM {jobs} WHERE state = 'dead' AND finished_at < now() - $1 {MICROS} LIMIT 10000)
                    RETURNING 1
                 )
                 SELECT count(*) FROM old"
            )),
            counts: sql(format!(
                "SELECT queue, shown, sum(n)::int8 AS n FROM (
                    SELECT queue, {SHOWN_STATE} AS shown, count(*) AS n FROM {jobs} GROUP BY queue, shown
                    UNION ALL SELECT queue, 'completed', count(*) FROM {completed} GROUP BY queue
                 ) c GROUP BY queue, shown"
            )),
            // $1: a provider id (or null); $2: else an Active Job job_id, whose latest row (in
            // either table) is shown.
            find: sql(format!(
                "SELECT {INFO} FROM {every} j WHERE id = coalesce(
                    (SELECT id FROM {every} f WHERE id = $1),
                    (SELECT max(id) FROM {every} f WHERE job_id = $2))"
            )),
            // The errors of the jobs stored under job_id $1 before row $2, oldest first.
            earlier_errors: sql(format!(
                "SELECT errors::text FROM {every} j WHERE job_id = $1 AND id < $2 AND errors <> '[]'::jsonb ORDER BY id"
            )),
            pause: sql(format!("INSERT INTO {paused} (queue) VALUES ($1) ON CONFLICT DO NOTHING")),
            // $2: the channel, woken for the resumed queue.
            resume: sql(format!(
                "WITH resumed AS (DELETE FROM {paused} WHERE queue = $1 RETURNING queue)
                 SELECT pg_notify($2, $1)"
            )),
            paused: sql(format!("SELECT queue FROM {paused} ORDER BY queue")),
            // Flow control (migration 5): the claim ($1 id, $2 token), the key, its limit, the hold
            // in microseconds, whether to block.
            acquire_slot: sql(format!("SELECT {schema}.flow_acquire_slot($1, $2, $3, $4, $5, $6){from_nowait}")),
            // The key, the holder's id and its claim's token (migration 6), the channel.
            release_slot: sql(format!("SELECT {schema}.flow_release_slot($1, $2, $3, $4){from_nowait}")),
            // The channel.
            expire_slots: sql(format!("SELECT {schema}.flow_expire_slots($1){from_nowait}")),
            // The key, the window, how long the count is kept in microseconds. A count past its
            // time that expire_slots has not deleted yet starts again. The starts of one window
            // queue up on its row's lock until each commits: without the flush they are quick.
            count_start: sql(format!(
                "INSERT INTO {schema}.throttle_counts AS t (key, window_no, n, expires_at)
                 SELECT $1, $2, 1, now() + $3 {MICROS}{from_nowait}
                 ON CONFLICT (key, window_no) DO UPDATE
                 SET n = CASE WHEN t.expires_at <= now() THEN 1 ELSE t.n + 1 END,
                     expires_at = CASE WHEN t.expires_at <= now() THEN excluded.expires_at ELSE t.expires_at END
                 RETURNING n"
            )),
        }
    }
}
