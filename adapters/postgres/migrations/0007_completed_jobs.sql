-- jobs-postgres schema version 7: completed jobs live in a table of their own.
--
-- A completed job made up most of a busy jobs table (a day of them under the default retention),
-- so every listing that walked the primary key in id order (the oldest ready, scheduled or
-- queued jobs) read through them, and every vacuum of the claimed table read their index entries.
-- The statement that completes a run now deletes the row from jobs and inserts it here, in one
-- statement (a data-modifying CTE): a concurrent rescue, heartbeat or action on the deleted row
-- no longer matches it, as for any deleted row. Rows are never updated here: they are inserted
-- at completion and deleted by age (pruning) or by an operator's delete.
--
-- The columns are the jobs table's, in its order, so that both read as one (UNION ALL); state is
-- always 'completed'. id keeps the job's value (the provider job id tools know it by).
CREATE TABLE {schema}.jobs_completed (
    id                bigint      PRIMARY KEY,
    job_id            text,
    queue             text        NOT NULL,
    priority          integer     NOT NULL,
    state             text        NOT NULL DEFAULT 'completed' CHECK (state = 'completed'),
    run_at            timestamptz NOT NULL,
    attempts          integer     NOT NULL,
    failures          integer     NOT NULL,
    token             bigint      NOT NULL,
    lease_until       timestamptz,
    worker_id         text,
    payload           text        NOT NULL,
    errors            jsonb       NOT NULL,
    enqueued_at       timestamptz NOT NULL,
    finished_at       timestamptz NOT NULL,
    class             text        NOT NULL,
    started_at        timestamptz,
    concurrency_key   text,
    concurrency_limit integer
);

-- The completed rows already stored move over, before the indexes are built (one sort each).
WITH moved AS (
    DELETE FROM {schema}.jobs WHERE state = 'completed'
    RETURNING id, job_id, queue, priority, state, run_at, attempts, failures, token, lease_until, worker_id,
              payload, errors, enqueued_at, finished_at, class, started_at, concurrency_key, concurrency_limit
)
INSERT INTO {schema}.jobs_completed
SELECT id, job_id, queue, priority, state, run_at, attempts, failures, token, NULL, NULL,
       payload, errors, enqueued_at, coalesce(finished_at, now()), class, started_at, concurrency_key, concurrency_limit
FROM moved;

-- Pruning by age; listings of a queue (keyset by id); finding the latest row of a job_id.
CREATE INDEX jobs_completed_finished ON {schema}.jobs_completed (finished_at);
CREATE INDEX jobs_completed_queue ON {schema}.jobs_completed (queue, id);
CREATE INDEX jobs_completed_job_id ON {schema}.jobs_completed (job_id, id) WHERE job_id IS NOT NULL;

-- The jobs table keeps its indexes: jobs_finished and jobs_finished_queue now hold dead jobs
-- only (and the completed rows that a process of the previous build, still running while this
-- one rolls out, writes there: pruning and listings still find those), and the CHECK still
-- allows 'completed' for the same reason, so that such a completion is not refused and run again.
