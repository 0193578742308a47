-- jobs-postgres schema version 4: recurring tasks, and the ticks they enqueued.
--
-- definition is the task as JSON (jobs_core::RecurringTask); is_static marks tasks declared in
-- code or a recurring file, which a start replaces or removes. last_run_at and last_job_id follow
-- the newest tick enqueued.
CREATE TABLE {schema}.recurring_tasks (
    key         text        PRIMARY KEY,
    definition  text        NOT NULL,
    is_static   boolean     NOT NULL,
    paused      boolean     NOT NULL DEFAULT false,
    last_run_at timestamptz,
    last_job_id text
);

-- One row per tick enqueued, inserted in the transaction that stores its job: the primary key
-- lets one scheduler only enqueue a tick, however many try (Solid Queue's
-- solid_queue_recurring_executions). Rows a day older than their task's newest tick are deleted.
CREATE TABLE {schema}.recurring_executions (
    task_key text        NOT NULL,
    run_at   timestamptz NOT NULL,
    job_id   text        NOT NULL,
    PRIMARY KEY (task_key, run_at)
);
