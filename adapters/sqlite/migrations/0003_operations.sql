-- jobs-sqlite schema version 3: the operations API — job classes and run start times for
-- listings, the indexes those listings need, worker processes, and per-minute history.
--
-- class is written at enqueue; rows stored before this migration take it from their payload
-- where it is valid JSON with a text job_class (else ''). started_at is set by each claim; the
-- inspection side shows it only while the job runs.
ALTER TABLE jobs_jobs ADD COLUMN class TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs_jobs ADD COLUMN started_at INTEGER;

UPDATE jobs_jobs SET class = payload ->> '$.job_class'
WHERE CASE WHEN json_valid(payload) THEN json_type(payload, '$.job_class') = 'text' ELSE 0 END;

-- Listings page by id (keyset), so each state and the queues need an index in id order, or the
-- first page of a rare state scans the table. A queue's jobs, in any state, come from
-- jobs_jobs_queue (it costs inserts only: a job never changes queue). Dead jobs come from a small
-- partial index that the hot paths never touch; completed ones from a partial index that a
-- completion writes once. Scheduled, ready and retrying jobs come from a partial index that holds
-- run_at and failures, so that telling them apart reads no row. Running jobs, few, come from
-- jobs_jobs_leases.
CREATE INDEX jobs_jobs_queue ON jobs_jobs (queue, id);
CREATE INDEX jobs_jobs_dead ON jobs_jobs (id) WHERE state = 'dead';
CREATE INDEX jobs_jobs_completed_ids ON jobs_jobs (id) WHERE state = 'completed';
CREATE INDEX jobs_jobs_available_ids ON jobs_jobs (id, run_at, failures) WHERE state = 'available';

-- Worker processes: each upserts its row at every heartbeat and deletes it when it stops; a row
-- whose expires_at (last heartbeat + the ttl it gave) is past belongs to a dead process. queues
-- is a JSON array. command is what an operator asked of it ('quiet' or 'stop'), taken and
-- cleared by its next heartbeat.
CREATE TABLE jobs_processes (
    id             TEXT    PRIMARY KEY,
    hostname       TEXT    NOT NULL,
    pid            INTEGER NOT NULL,
    version        TEXT    NOT NULL,
    queues         TEXT    NOT NULL,
    concurrency    INTEGER NOT NULL,
    busy           INTEGER NOT NULL,
    state          TEXT    NOT NULL CHECK (state IN ('running', 'quiet', 'stopping')),
    started_at     INTEGER NOT NULL,
    last_heartbeat INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    command        TEXT    CHECK (command IN ('quiet', 'stop'))
) STRICT;

-- Runs that finished per minute (microseconds, a whole minute), queue and class, summed over the
-- workers that recorded them; record_history forgets minutes older than the retention.
CREATE TABLE jobs_job_history (
    minute    INTEGER NOT NULL,
    queue     TEXT    NOT NULL,
    class     TEXT    NOT NULL,
    processed INTEGER NOT NULL DEFAULT 0,
    failed    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (minute, queue, class)
) STRICT, WITHOUT ROWID;
