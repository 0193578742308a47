-- jobs-sqlite schema version 1: the jobs table and the paused queues.
--
-- state is 'available' (scheduled, ready or retrying: which one follows from run_at and failures),
-- 'running' (claimed; token is the claim's fencing token, lease_until its lease), 'dead' or
-- 'completed'. Times are microseconds since the Unix epoch, UTC.
CREATE TABLE jobs_jobs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id      TEXT,
    queue       TEXT    NOT NULL,
    priority    INTEGER NOT NULL DEFAULT 0,
    state       TEXT    NOT NULL CHECK (state IN ('available', 'running', 'dead', 'completed')),
    run_at      INTEGER NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    failures    INTEGER NOT NULL DEFAULT 0,
    token       INTEGER NOT NULL DEFAULT 0,
    lease_until INTEGER,
    worker_id   TEXT,
    payload     TEXT    NOT NULL,
    errors      TEXT    NOT NULL DEFAULT '[]',
    enqueued_at INTEGER NOT NULL,
    finished_at INTEGER
) STRICT;

-- Claims: by queue in precedence, and across every queue ('*'); both in priority, then FIFO.
CREATE INDEX jobs_jobs_available_by_queue ON jobs_jobs (queue, priority, run_at, id) WHERE state = 'available';
CREATE INDEX jobs_jobs_available ON jobs_jobs (priority, run_at, id) WHERE state = 'available';
-- Rescue of expired leases, and pruning of completed jobs.
CREATE INDEX jobs_jobs_leases ON jobs_jobs (lease_until) WHERE state = 'running';
CREATE INDEX jobs_jobs_completed ON jobs_jobs (finished_at) WHERE state = 'completed';

CREATE TABLE jobs_paused_queues (
    queue     TEXT    PRIMARY KEY,
    paused_at INTEGER NOT NULL
) STRICT;
