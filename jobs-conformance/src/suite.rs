//! `conformance_suite!`: one `#[test]` per case for an adapter factory.

/// Stamps out the conformance suite for an adapter: a module `$suite` with one `#[test]` per case
/// of [`cases`](crate::cases), named after the case, each calling `$factory` (an async function or
/// closure returning a [`Fixture`](crate::Fixture) or `Option<Fixture>`) for a fresh adapter.
/// Nothing needs importing; the factory is resolved in the calling module.
///
/// ```no_run
/// use std::sync::Arc;
/// use jobs_conformance::Fixture;
/// use jobs_core::{ManualClock, adapters::MemoryAdapter};
///
/// async fn memory() -> Fixture {
///     let clock = ManualClock::new(chrono::Utc::now());
///     Fixture::new(MemoryAdapter::with_clock(Arc::new(clock.clone()))).clock(clock)
/// }
///
/// jobs_conformance::conformance_suite!(memory_conformance, memory);
/// # fn main() {}
/// ```
///
/// `cargo test` then lists `memory_conformance::priority_order`, `memory_conformance::pause_and_resume`, ...
#[macro_export]
macro_rules! conformance_suite {
    ($suite:ident, $factory:expr $(,)?) => {
        #[cfg(test)]
        mod $suite {
            #[allow(unused_imports)]
            use super::*;

            $crate::__conformance_tests! {
                $factory;
                enqueue_perform_round_trip,
                argument_round_trip,
                queue_isolation,
                scheduled_job_waits_until_due,
                scheduled_jobs_start_on_time,
                priority_order,
                priority_order_past_scheduled_jobs,
                retry_persists_executions_and_error,
                retries_start_on_time,
                retry_on_keeps_the_error_history,
                exhausted_attempts_go_dead_with_error,
                dead_job_records_the_boxed_error_class,
                concurrent_workers_run_each_job_once,
                expired_lease_is_rescued,
                stale_token_cannot_write,
                poison_jobs_go_dead_while_queue_flows,
                non_json_payload_dies_at_once_unknown_class_retries,
                enqueue_all_stores_every_job,
                find_shows_each_state,
                find_by_job_id_shows_the_latest_run,
                pause_and_resume,
                shutdown_returns_jobs_without_spending_attempt,
                unsupported_capability_is_not_supported,
                list_filters_by_every_field,
                list_pages_with_a_keyset_cursor,
                job_info_shows_ids_class_and_times,
                apply_each_action_to_ids,
                apply_each_action_to_a_filter,
                discard_retry_and_run_now,
                purge_completed_before,
                queue_stats_agree_with_counts,
                queue_latency_is_the_oldest_wait,
                history_sums_writes_per_minute,
                processes_register_signal_and_expire,
                worker_registers_and_records_history,
                worker_obeys_quiet_and_stop,
                continuation_resumes_after_shutdowns,
                saved_progress_survives_a_lost_worker,
                snooze_runs_again_later_without_spending_an_attempt,
                cancel_ends_the_job_without_a_retry,
                recurring_ticks_are_enqueued_once_across_schedulers,
                enqueue_tick_is_once_and_only_for_active_tasks,
                recurring_tasks_change_at_run_time,
                missed_ticks_follow_the_policy,
                slots_hold_the_limit_and_block_the_rest,
                concurrent_takes_never_exceed_the_limit,
                expired_slots_free_their_blocked_jobs,
                a_stale_run_cannot_release_its_rerun_slot,
                blocked_jobs_show_and_take_actions,
                throttle_counts_are_atomic,
                unique_enqueues_store_one_of_many,
                unique_keys_free_when_the_holder_moves_on,
                concurrency_limit_holds_across_workers,
                unique_enqueues_store_one_job,
                throttle_paces_starts_without_spending_attempts,
                blocked_jobs_run_after_an_abandoned_slot_expires,
                a_retry_keeps_its_concurrency_key,
                discard_on_conflict,
            }
        }
    };
}

/// Not public API: one `#[test]` per listed case.
#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_tests {
    ($factory:expr; $($case:ident),* $(,)?) => {
        $(
            #[test]
            fn $case() {
                $crate::run(stringify!($case), $factory, $crate::cases::$case);
            }
        )*
    };
}
