-- jobs-sqlite schema version 4: recurring tasks, and the ticks they enqueued.
--
-- definition is the task as JSON (jobs_core::RecurringTask); is_static marks tasks declared in
-- code or a recurring file, which a start replaces or removes. last_run_at (microseconds) and
-- last_job_id follow the newest tick enqueued.
CREATE TABLE jobs_recurring_tasks (
    key         TEXT    PRIMARY KEY,
    definition  TEXT    NOT NULL,
    is_static   INTEGER NOT NULL,
    paused      INTEGER NOT NULL DEFAULT 0,
    last_run_at INTEGER,
    last_job_id TEXT
) STRICT;

-- One row per tick enqueued, inserted in the transaction that stores its job: the primary key
-- lets one scheduler only enqueue a tick, however many try (Solid Queue's
-- solid_queue_recurring_executions). Rows a day older than their task's newest tick are deleted.
CREATE TABLE jobs_recurring_executions (
    task_key TEXT    NOT NULL,
    run_at   INTEGER NOT NULL,
    job_id   TEXT    NOT NULL,
    PRIMARY KEY (task_key, run_at)
) STRICT, WITHOUT ROWID;
