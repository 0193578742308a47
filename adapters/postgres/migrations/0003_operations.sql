-- jobs-postgres schema version 3: the operations API — job classes and run start times for
-- listings, the indexes those listings need, worker processes, and per-minute history.
--
-- class is written at enqueue; rows stored before this migration take it from their payload
-- where it is valid JSON (else ''). started_at is set by each claim; the inspection side shows it
-- only while the job runs.
ALTER TABLE {schema}.jobs ADD COLUMN class text NOT NULL DEFAULT '';
ALTER TABLE {schema}.jobs ADD COLUMN started_at timestamptz;

CREATE FUNCTION pg_temp.jobs_payload_class(payload text) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    RETURN coalesce(payload::jsonb ->> 'job_class', '');
EXCEPTION WHEN others THEN
    RETURN '';
END
$$;
UPDATE {schema}.jobs SET class = pg_temp.jobs_payload_class(payload);
DROP FUNCTION pg_temp.jobs_payload_class(text);

-- Listings page by id (keyset). Ready, scheduled and retrying jobs of a queue come from
-- jobs_available (or the primary key when they are many), running ones from jobs_leases, finished
-- ones from this index, which enqueues and claims never write; dead jobs, rare and often listed,
-- from a small index of their own. Completed and ready jobs are most of a busy table and come in
-- id order from the primary key; when they are few, from jobs_finished and jobs_available.
CREATE INDEX jobs_finished_queue ON {schema}.jobs (queue, id) WHERE state IN ('completed', 'dead');
CREATE INDEX jobs_dead_id ON {schema}.jobs (id) WHERE state = 'dead';

-- Worker processes: each upserts its row at every heartbeat and deletes it when it stops; a row
-- whose expires_at (last heartbeat + the ttl it gave) is past belongs to a dead process. command
-- is what an operator asked of it ('quiet' or 'stop'), taken and cleared by its next heartbeat.
CREATE TABLE {schema}.processes (
    id             text        PRIMARY KEY,
    hostname       text        NOT NULL,
    pid            bigint      NOT NULL,
    version        text        NOT NULL,
    queues         text[]      NOT NULL,
    concurrency    bigint      NOT NULL,
    busy           bigint      NOT NULL,
    state          text        NOT NULL,
    started_at     timestamptz NOT NULL,
    last_heartbeat timestamptz NOT NULL,
    expires_at     timestamptz NOT NULL,
    command        text        CHECK (command IN ('quiet', 'stop'))
);

-- Runs that finished per minute, queue and class, summed over the workers that recorded them;
-- minutes older than the retention are pruned by the elected maintenance.
CREATE TABLE {schema}.job_history (
    minute    timestamptz NOT NULL,
    queue     text        NOT NULL,
    class     text        NOT NULL,
    processed bigint      NOT NULL DEFAULT 0,
    failed    bigint      NOT NULL DEFAULT 0,
    PRIMARY KEY (minute, queue, class)
);
