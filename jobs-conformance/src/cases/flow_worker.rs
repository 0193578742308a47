//! Flow control end to end: workers, the runtime and the store together. Concurrency limits
//! hold across workers, through retries, after a worker vanished holding a slot, and discard
//! on conflict; unique enqueues at once store one job; a throttle paces starts without spending
//! attempts.
//!
//! These cases need an adapter with a [`FlowStore`](jobs_core::adapter::FlowStore).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use jobs_core::adapter::{FlowStore, SlotOutcome, SlotParams};
use jobs_core::{JobState, PendingJob};

use crate::Fixture;
use crate::env::{Env, Start, provider_id};
use crate::jobs::{
    Discarding, HOLD, Ledger, Limited, Once, OnceFor, Single, SingleToo, THROTTLE, Throttled, UNIQUE_FOR, flow_registry,
};

/// The case's environment (its runtime knows the flow jobs) and the ledger of their runs.
fn flow_env(fixture: Fixture) -> (Env, Arc<Ledger>) {
    assert!(fixture.adapter.flow().is_some(), "the flow cases need an adapter that keeps flow control (Adapter::flow)");
    let ledger = Arc::new(Ledger::default());
    let state = ledger.clone();
    let env = Env::with_registry(fixture, flow_registry(), move |builder| builder.shared_state(state));
    (env, ledger)
}

fn flow(env: &Env) -> &dyn FlowStore {
    env.adapter.flow().expect("checked by flow_env")
}

/// Makes a manual clock follow real time while it lives, for cases whose jobs wait on the
/// store's clock (throttle windows, slot hold times) as long as they run in real time.
struct FollowRealTime(Option<tokio::task::JoinHandle<()>>);

impl FollowRealTime {
    fn start(env: &Env) -> Self {
        FollowRealTime(env.manual().cloned().map(|clock| {
            tokio::spawn(async move {
                let mut last = Instant::now();
                loop {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    let now = Instant::now();
                    clock.advance(now - last);
                    last = now;
                }
            })
        }))
    }
}

impl Drop for FollowRealTime {
    fn drop(&mut self) {
        if let Some(task) = self.0.take() {
            task.abort();
        }
    }
}

/// 4 workers × concurrency 20 drain 2,000 jobs over 10 keys limited `to = 2`: the ledger of
/// their starts and ends never shows more than 2 running per key, and every job runs once.
pub async fn concurrency_limit_holds_across_workers(fixture: Fixture) {
    const JOBS: usize = 2_000;
    const KEYS: u32 = 10;
    let (env, ledger) = flow_env(fixture);
    let _time = FollowRealTime::start(&env);
    let jobs: Vec<PendingJob> = (0..JOBS)
        .map(|n| PendingJob::new(Limited { sleep_ms: 2, ..Limited::new(format!("limited-{n}"), n as u32 % KEYS) }))
        .collect();
    let mut pending = jobs;
    while !pending.is_empty() {
        let rest = pending.split_off(pending.len().min(500));
        env.runtime.perform_all_later(pending).await.expect("bulk enqueue succeeds");
        pending = rest;
    }
    let workers: Vec<_> = (0..4).map(|_| env.worker(&["default"]).concurrency(20).start()).collect();
    env.wait_for("every limited job to run", || {
        let spans = ledger.spans();
        spans.len() >= JOBS && spans.iter().all(|s| s.end.is_some())
    })
    .await;
    for worker in workers {
        worker.shutdown().await.unwrap();
    }
    let spans = ledger.spans();
    let names: HashSet<&str> = spans.iter().map(|s| s.name.as_str()).collect();
    assert_eq!((spans.len(), names.len()), (JOBS, JOBS), "each job ran exactly once");
    for key in 0..KEYS {
        let (most, ended) = ledger.max_overlap(|s| s.account == key);
        assert!(ended);
        assert!(most <= 2, "{most} jobs of key {key} ran at once, limit 2");
    }
    let counts = env.inspector().counts().await.unwrap();
    assert_eq!((counts.total(JobState::Blocked), counts.total(JobState::Ready)), (0, 0), "{counts:?}");
}

/// 50 tasks enqueue the same unique job at once: one is stored, the 49 others get its handle
/// marked as a duplicate. Once it has run, the key is free again. A key held `for` a time is
/// free after it, though its holder still waits.
pub async fn unique_enqueues_store_one_job(fixture: Fixture) {
    let (env, ledger) = flow_env(fixture);
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let runtime = env.runtime.clone();
            tokio::spawn(async move { runtime.perform_later(Once::new("once", 1)).await })
        })
        .collect();
    let mut handles = Vec::new();
    for task in tasks {
        handles.push(task.await.unwrap().expect("a duplicate is no error"));
    }
    let stored: Vec<_> = handles.iter().filter(|h| !h.is_duplicate()).collect();
    assert_eq!(stored.len(), 1, "exactly one enqueue stores the job: {handles:?}");
    let holder = stored[0].clone();
    assert!(handles.iter().all(|h| h.job_id == holder.job_id), "every duplicate names the stored job");
    let counts = env.inspector().counts().await.unwrap();
    assert_eq!(counts.total(JobState::Ready), 1, "{counts:?}");

    let worker = env.worker(&["default"]).start();
    env.wait_for_state(&provider_id(&holder), JobState::Completed).await;
    worker.shutdown().await.unwrap();
    assert_eq!(ledger.runs_of("once").len(), 1);
    let again = env.runtime.perform_later(Once::new("once", 1)).await.unwrap();
    assert!(!again.is_duplicate(), "the key is free once its holder completed");
    assert_ne!(again.job_id, holder.job_id);

    // Held for UNIQUE_FOR after the enqueue, though the holder waits an hour.
    let hour = Duration::from_secs(3600);
    let first = env.set::<OnceFor>().wait(hour).enqueue(OnceFor::new("for", 2)).await.unwrap();
    let second = env.set::<OnceFor>().wait(hour).enqueue(OnceFor::new("for", 2)).await.unwrap();
    assert!(!first.is_duplicate() && second.is_duplicate(), "{first:?} {second:?}");
    assert_eq!(second.job_id, first.job_id);
    env.pass(UNIQUE_FOR + Duration::from_millis(500)).await;
    let third = env.set::<OnceFor>().wait(hour).enqueue(OnceFor::new("for", 2)).await.unwrap();
    assert!(!third.is_duplicate(), "the key is free once its time is over");
    assert_eq!(env.find(&provider_id(&first)).await.state, JobState::Scheduled);
}

/// A throttle of 20 starts per second over 10 seconds: 200 starts ± 10 %, with a backlog far
/// larger; the delayed jobs run with their first attempt and no error in their history.
pub async fn throttle_paces_starts_without_spending_attempts(fixture: Fixture) {
    const JOBS: usize = 320;
    let (env, ledger) = flow_env(fixture);
    let _time = FollowRealTime::start(&env);
    let jobs = (0..JOBS).map(|n| PendingJob::new(Throttled::new(format!("throttled-{n}"), 0)));
    env.runtime.perform_all_later(jobs).await.expect("bulk enqueue succeeds");
    let workers: Vec<_> = (0..4).map(|_| env.worker(&["default"]).concurrency(20).start()).collect();
    env.wait_for("the first start", || !ledger.spans().is_empty()).await;
    let first = ledger.spans().iter().map(|s| s.at).min().unwrap();
    // Count over whole windows: from the first second boundary after the first start.
    let from = DateTime::<Utc>::from_timestamp(first.timestamp() + 1, 0).unwrap();
    let to = from + chrono::Duration::seconds(10);
    env.wait_for("starts past the ten seconds counted", || ledger.spans().iter().any(|s| s.at >= to)).await;
    for worker in workers {
        worker.shutdown().await.unwrap();
    }
    let spans = ledger.spans();
    let counted = spans.iter().filter(|s| s.at >= from && s.at < to).count();
    let expected = THROTTLE as usize * 10;
    // Never more than the throttle allows (a tenth over for starts timed across a window's edge);
    // and the pace kept, give or take what a loaded machine cannot keep up with: a delayed job is
    // stored again for the next window, and a busy single-writer store may not get every start
    // of a window through in time.
    assert!(
        (expected * 3 / 4..=expected * 11 / 10).contains(&counted),
        "{counted} starts in 10 s under a throttle of {THROTTLE}/s"
    );
    assert!(spans.iter().all(|s| s.executions == 1), "a throttle delay spends no attempt");
    let late = spans.iter().filter(|s| s.at >= from + chrono::Duration::seconds(5)).take(5);
    for span in late {
        let info = env.find(&span.job_id).await;
        assert!(info.errors.is_empty(), "a delayed job has no error: {info:?}");
    }
    let counts = env.inspector().counts().await.unwrap();
    assert_eq!((counts.total(JobState::Retrying), counts.total(JobState::Dead)), (0, 0), "{counts:?}");
}

/// A worker took a slot and vanished without releasing it: the jobs blocked on its key (of two
/// classes sharing the group) run once the slot's hold time is over, not before.
pub async fn blocked_jobs_run_after_an_abandoned_slot_expires(fixture: Fixture) {
    let (env, ledger) = flow_env(fixture);
    env.enqueue("default", Single::new("abandoned", 7)).await;
    let claimed = env.claim_one("default", Duration::from_secs(3600)).await;
    let params = SlotParams { ticket: &claimed.ticket, key: "single/7", limit: 1, hold: HOLD, block: true };
    assert_eq!(flow(&env).acquire_slot(params).await.unwrap(), SlotOutcome::Acquired);
    let taken = Instant::now();

    let blocked = env.enqueue("default", Single::new("blocked", 7)).await;
    let grouped = env.enqueue("default", SingleToo::new("grouped", 7)).await;
    let worker = env.worker(&["default"]).lease(Duration::from_millis(600)).start();
    env.wait_for_state(&blocked, JobState::Blocked).await;
    env.wait_for_state(&grouped, JobState::Blocked).await;
    assert!(ledger.spans().is_empty(), "nothing ran while the slot was held");
    if let Some(clock) = env.manual() {
        clock.advance(HOLD + Duration::from_secs(1));
    }
    env.wait_for("the blocked jobs to run", || ledger.spans().iter().filter(|s| s.end.is_some()).count() == 2).await;
    worker.shutdown().await.unwrap();
    if env.manual().is_none() {
        let first = ledger.spans().iter().map(|s| s.start).min().unwrap();
        assert!(first >= taken + HOLD, "a blocked job ran {:?} after the slot was taken", first - taken);
    }
    let (most, _) = ledger.max_overlap(|s| s.account == 7);
    assert_eq!(most, 1, "the group's limit of 1 held");
}

/// A limited job that fails keeps its key: its retry takes a slot again, so with a limit of 1
/// no two runs of the key (first runs and retries) overlap, and every job runs twice.
pub async fn a_retry_keeps_its_concurrency_key(fixture: Fixture) {
    const JOBS: usize = 8;
    let (env, ledger) = flow_env(fixture);
    for n in 0..JOBS {
        let job = Single { fail_first: true, sleep_ms: 20, ..Single::new(format!("retry-{n}"), 3) };
        env.enqueue("default", job).await;
    }
    let workers = [env.worker(&["default"]).concurrency(8).start(), env.worker(&["default"]).concurrency(8).start()];
    env.wait_for("every job to run twice", || {
        let spans = ledger.spans();
        spans.len() >= 2 * JOBS && spans.iter().all(|s| s.end.is_some())
    })
    .await;
    for worker in workers {
        worker.shutdown().await.unwrap();
    }
    let (most, _) = ledger.max_overlap(|s| s.account == 3);
    assert_eq!(most, 1, "runs of one key overlapped under a limit of 1");
    for n in 0..JOBS {
        let runs: Vec<u32> = ledger.runs_of(&format!("retry-{n}")).iter().map(|s| s.executions).collect();
        assert_eq!(runs, [1, 2], "retry-{n}");
    }
}

/// With `on_conflict = discard`, a job claimed while every slot of its key is taken never runs
/// and is done; the key's next job runs once the slot is free.
pub async fn discard_on_conflict(fixture: Fixture) {
    let (env, ledger) = flow_env(fixture);
    env.enqueue("default", Discarding { hold: true, ..Discarding::new("holder", 5) }).await;
    let worker = env.worker(&["default"]).concurrency(4).start();
    env.wait_for("the holder to start", || ledger.runs_of("holder").len() == 1).await;
    let mut extras = Vec::new();
    for n in 0..3 {
        extras.push(env.enqueue("default", Discarding::new(format!("extra-{n}"), 5)).await);
    }
    for id in &extras {
        env.wait_for_state(id, JobState::Completed).await;
    }
    assert!(ledger.spans().iter().all(|s| s.name == "holder"), "a discarded job ran: {:?}", ledger.spans());
    ledger.open();
    env.wait_for("the holder to end", || ledger.runs_of("holder").iter().all(|s| s.end.is_some())).await;
    let after = env.enqueue("default", Discarding::new("after", 5)).await;
    env.wait_for_state(&after, JobState::Completed).await;
    worker.shutdown().await.unwrap();
    assert_eq!(ledger.runs_of("after").len(), 1, "the key's next job ran");
}
