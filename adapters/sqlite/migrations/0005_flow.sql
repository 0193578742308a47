-- jobs-sqlite schema version 5: flow control — concurrency limits, unique jobs and throttles.
--
-- A job held back by a concurrency limit waits in the new state 'blocked' under its
-- concurrency_key (NULL in every other state) until a slot of its key frees. SQLite cannot change
-- a CHECK constraint in place, so the jobs table is rebuilt under the new one: rows, ids and the
-- id sequence are kept (a provider job id is never handed out twice), the indexes are made anew.
-- On a large file this copies every row once, inside the migration's transaction.
CREATE TABLE jobs_jobs_v5 (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id          TEXT,
    queue           TEXT    NOT NULL,
    priority        INTEGER NOT NULL DEFAULT 0,
    state           TEXT    NOT NULL CHECK (state IN ('available', 'blocked', 'running', 'dead', 'completed')),
    run_at          INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    failures        INTEGER NOT NULL DEFAULT 0,
    token           INTEGER NOT NULL DEFAULT 0,
    lease_until     INTEGER,
    worker_id       TEXT,
    payload         TEXT    NOT NULL,
    errors          TEXT    NOT NULL DEFAULT '[]',
    enqueued_at     INTEGER NOT NULL,
    finished_at     INTEGER,
    class           TEXT    NOT NULL DEFAULT '',
    started_at      INTEGER,
    concurrency_key TEXT
) STRICT;

INSERT INTO jobs_jobs_v5 (id, job_id, queue, priority, state, run_at, attempts, failures, token, lease_until,
                          worker_id, payload, errors, enqueued_at, finished_at, class, started_at)
SELECT id, job_id, queue, priority, state, run_at, attempts, failures, token, lease_until,
       worker_id, payload, errors, enqueued_at, finished_at, class, started_at
FROM jobs_jobs ORDER BY id;

-- The sequence goes on from the old table's, which may be past its largest id (pruned jobs).
DELETE FROM sqlite_sequence WHERE name = 'jobs_jobs_v5';
INSERT INTO sqlite_sequence (name, seq) SELECT 'jobs_jobs_v5', seq FROM sqlite_sequence WHERE name = 'jobs_jobs';

DROP TABLE jobs_jobs;
ALTER TABLE jobs_jobs_v5 RENAME TO jobs_jobs;

-- The indexes of versions 1 to 3, as they were.
CREATE INDEX jobs_jobs_available_by_queue ON jobs_jobs (queue, priority, run_at, id) WHERE state = 'available';
CREATE INDEX jobs_jobs_available ON jobs_jobs (priority, run_at, id) WHERE state = 'available';
CREATE INDEX jobs_jobs_leases ON jobs_jobs (lease_until) WHERE state = 'running';
CREATE INDEX jobs_jobs_completed ON jobs_jobs (finished_at) WHERE state = 'completed';
CREATE INDEX jobs_jobs_job_id ON jobs_jobs (job_id, id) WHERE job_id IS NOT NULL;
CREATE INDEX jobs_jobs_queue ON jobs_jobs (queue, id);
CREATE INDEX jobs_jobs_dead ON jobs_jobs (id) WHERE state = 'dead';
CREATE INDEX jobs_jobs_completed_ids ON jobs_jobs (id) WHERE state = 'completed';
CREATE INDEX jobs_jobs_available_ids ON jobs_jobs (id, run_at, failures) WHERE state = 'available';

-- Blocked jobs: the first of a key to make ready when a slot frees (priority, then FIFO), and
-- listings of the blocked state in id order. Both hold blocked rows only, so the paths of jobs
-- without a concurrency limit never write them.
CREATE INDEX jobs_jobs_blocked ON jobs_jobs (concurrency_key, priority, id) WHERE state = 'blocked';
CREATE INDEX jobs_jobs_blocked_ids ON jobs_jobs (id) WHERE state = 'blocked';

-- Concurrency slots: one row per job (holder, its id in jobs_jobs) running with a slot of key.
-- A slot is taken for a hold time: one whose holder never released it (a worker that died) is
-- freed once expires_at is past.
CREATE TABLE jobs_flow_slots (
    key        TEXT    NOT NULL,
    holder     INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (key, holder)
) STRICT, WITHOUT ROWID;
CREATE INDEX jobs_flow_slots_expiry ON jobs_flow_slots (expires_at);

-- Unique keys: the job that took the key last (holder, its id in jobs_jobs, and its Active Job
-- job_id) and until when it holds it at most. Whether it still holds it is read from the
-- holder's row at the next enqueue of the key, against the states that enqueue names, so
-- completing or failing a job writes nothing here. Rows whose until is past, or whose holder is
-- deleted, are deleted.
CREATE TABLE jobs_flow_uniques (
    key    TEXT    PRIMARY KEY,
    holder INTEGER NOT NULL,
    job_id TEXT    NOT NULL,
    until  INTEGER
) STRICT, WITHOUT ROWID;
CREATE INDEX jobs_flow_uniques_holder ON jobs_flow_uniques (holder);
CREATE INDEX jobs_flow_uniques_until ON jobs_flow_uniques (until) WHERE until IS NOT NULL;

-- Throttle counts: the starts of key in time window window_number (the window's start divided
-- by its length), forgotten once expires_at is past.
CREATE TABLE jobs_flow_counts (
    key           TEXT    NOT NULL,
    window_number INTEGER NOT NULL,
    n             INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    PRIMARY KEY (key, window_number)
) STRICT, WITHOUT ROWID;
CREATE INDEX jobs_flow_counts_expiry ON jobs_flow_counts (expires_at);

-- A key whose holder is deleted (pruned after its retention, purged by an operator, removed by
-- the application's own SQL) is free: its row goes with it, on every path that deletes jobs.
CREATE TRIGGER jobs_flow_uniques_holder_deleted AFTER DELETE ON jobs_jobs
BEGIN
    DELETE FROM jobs_flow_uniques WHERE holder = old.id;
END;
