//! The cases, one `async fn` each, taking a fresh [`Fixture`](super::Fixture).
//!
//! [`conformance_suite!`](crate::conformance_suite) stamps out one `#[test]` per case; an adapter
//! may also call them directly.

mod actions;
mod claims;
mod continuation;
mod enqueue;
mod failures;
mod flow;
mod flow_worker;
mod history;
mod inspection;
mod leases;
mod listing;
mod processes;
mod queues;
mod recurring;
mod snooze;

pub use actions::{
    apply_each_action_to_a_filter, apply_each_action_to_ids, discard_retry_and_run_now, purge_completed_before,
};
pub use claims::{
    concurrent_workers_run_each_job_once, priority_order, priority_order_past_scheduled_jobs, queue_isolation,
    scheduled_job_waits_until_due, scheduled_jobs_start_on_time,
};
pub use continuation::{continuation_resumes_after_shutdowns, saved_progress_survives_a_lost_worker};
pub use enqueue::{argument_round_trip, enqueue_all_stores_every_job, enqueue_perform_round_trip};
pub use failures::{
    dead_job_records_the_boxed_error_class, exhausted_attempts_go_dead_with_error,
    non_json_payload_dies_at_once_unknown_class_retries, poison_jobs_go_dead_while_queue_flows, retries_start_on_time,
    retry_on_keeps_the_error_history, retry_persists_executions_and_error,
};
pub use flow::{
    a_stale_run_cannot_release_its_rerun_slot, blocked_jobs_show_and_take_actions,
    concurrent_takes_never_exceed_the_limit, expired_slots_free_their_blocked_jobs,
    slots_hold_the_limit_and_block_the_rest, throttle_counts_are_atomic, unique_enqueues_store_one_of_many,
    unique_keys_free_when_the_holder_moves_on,
};
pub use flow_worker::{
    a_retry_keeps_its_concurrency_key, blocked_jobs_run_after_an_abandoned_slot_expires,
    concurrency_limit_holds_across_workers, discard_on_conflict, throttle_paces_starts_without_spending_attempts,
    unique_enqueues_store_one_job,
};
pub use history::history_sums_writes_per_minute;
pub use inspection::{
    find_by_job_id_shows_the_latest_run, find_shows_each_state, pause_and_resume,
    unsupported_capability_is_not_supported,
};
pub use leases::{expired_lease_is_rescued, shutdown_returns_jobs_without_spending_attempt, stale_token_cannot_write};
pub use listing::{job_info_shows_ids_class_and_times, list_filters_by_every_field, list_pages_with_a_keyset_cursor};
pub use processes::{
    processes_register_signal_and_expire, worker_obeys_quiet_and_stop, worker_registers_and_records_history,
};
pub use queues::{queue_latency_is_the_oldest_wait, queue_stats_agree_with_counts};
pub use recurring::{
    enqueue_tick_is_once_and_only_for_active_tasks, missed_ticks_follow_the_policy, recurring_tasks_change_at_run_time,
    recurring_ticks_are_enqueued_once_across_schedulers,
};
pub use snooze::{cancel_ends_the_job_without_a_retry, snooze_runs_again_later_without_spending_an_attempt};
