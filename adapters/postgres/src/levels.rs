//! Finding due jobs without touching future ones: the claim's walk over priority levels.
//!
//! The claim index is `jobs_available (queue, priority, run_at, id)`. A claim wants the due jobs
//! (`run_at <= now()`) of a queue in priority, then due-time order; scanning the index in that
//! order with the due time as a filter meets, within each priority, the due jobs first and then
//! every job scheduled for later, and goes on through them looking for the next priority's due
//! jobs: a million scheduled jobs made each claim read the whole index. So the statements first
//! list the queue's *levels*, the distinct priorities of its available jobs, by skipping through
//! the index (a recursive loose index scan: one descent per level, PostgreSQL 15 has no skip
//! scan of its own), then read each level's due jobs with the priority fixed, where the due time
//! bounds the index range and the scan stops at the first future job.
//!
//! The levels are found from the top down (highest priority number first): each descent then
//! lands after a level's newest entries, never among the entries that claimed jobs leave dead at
//! the head of each level until VACUUM removes them. The levels are few (jobs use a handful of
//! priorities), so this costs one or two index descents more than a plain scan on a table
//! without future jobs, and no more as the scheduled jobs grow.

/// `levels (name, ord, priority)`: the priority levels of each queue of `queues (name, ord)`
/// (a CTE defined before it), highest first; a last row with a null priority ends each queue.
/// Belongs in a `WITH RECURSIVE`.
pub(crate) fn of_named_queues(jobs: &str) -> String {
    format!(
        "levels AS (
            SELECT queues.name, queues.ord,
                   (SELECT priority FROM {jobs} WHERE state = 'available' AND queue = queues.name
                    ORDER BY priority DESC LIMIT 1) AS priority
            FROM queues
            UNION ALL
            SELECT levels.name, levels.ord,
                   (SELECT priority FROM {jobs} WHERE state = 'available' AND queue = levels.name
                      AND priority < levels.priority ORDER BY priority DESC LIMIT 1)
            FROM levels WHERE levels.priority IS NOT NULL
         )"
    )
}

/// `levels (name, priority)`: every queue and priority level that has available jobs, in
/// reverse index order. Belongs in a `WITH RECURSIVE`.
pub(crate) fn of_every_queue(jobs: &str) -> String {
    format!(
        "levels AS (
            (SELECT queue AS name, priority FROM {jobs} WHERE state = 'available' ORDER BY queue DESC, priority DESC LIMIT 1)
            UNION ALL
            SELECT n.queue, n.priority FROM levels CROSS JOIN LATERAL (
                SELECT j.queue, j.priority FROM {jobs} j
                WHERE j.state = 'available' AND (j.queue, j.priority) < (levels.name, levels.priority)
                ORDER BY j.queue DESC, j.priority DESC LIMIT 1
            ) n
         )"
    )
}
