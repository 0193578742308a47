-- jobs-postgres schema version 1: the jobs table, paused queues, and maintenance bookkeeping.
--
-- {schema} stands for the schema's quoted name. state is 'available' (scheduled, ready or
-- retrying: which one follows from run_at and failures), 'running' (claimed: token is the claim's
-- fencing token, lease_until its lease), 'dead' or 'completed'. Times come from the server's clock.
CREATE TABLE {schema}.jobs (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id      text,
    queue       text        NOT NULL,
    priority    integer     NOT NULL DEFAULT 0,
    state       text        NOT NULL CHECK (state IN ('available', 'running', 'dead', 'completed')),
    run_at      timestamptz NOT NULL,
    attempts    integer     NOT NULL DEFAULT 0,
    failures    integer     NOT NULL DEFAULT 0,
    token       bigint      NOT NULL DEFAULT 0,
    lease_until timestamptz,
    worker_id   text,
    payload     text        NOT NULL,
    errors      jsonb       NOT NULL DEFAULT '[]',
    enqueued_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);

-- Claims, in priority then FIFO order within a queue. Claims across every queue ('*') walk the
-- queues through this index too, so that an insert writes one index besides the primary key.
CREATE INDEX jobs_available ON {schema}.jobs (queue, priority, run_at, id) WHERE state = 'available';
-- Rescue of expired leases, and pruning of finished jobs.
CREATE INDEX jobs_leases ON {schema}.jobs (lease_until) WHERE state = 'running';
CREATE INDEX jobs_finished ON {schema}.jobs (finished_at) WHERE state IN ('completed', 'dead');

CREATE TABLE {schema}.paused_queues (
    queue     text        PRIMARY KEY,
    paused_at timestamptz NOT NULL DEFAULT now()
);

-- When the elected worker last ran each periodic task.
CREATE TABLE {schema}.maintenance (
    task        text        PRIMARY KEY,
    last_run_at timestamptz NOT NULL
);
