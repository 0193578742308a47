//! Snooze and cancel: a job's own word that it runs again later, or never again.

use std::time::Duration;

use crate::Fixture;
use crate::env::{Env, Start, provider_id};
use crate::jobs::{Record, Snoozy};
use jobs_core::JobState;

/// How many jobs each case runs, over two workers.
const JOBS: usize = 6;

/// A job that snoozes is stored again under its job id, due no sooner than its wait after the
/// run, with the `executions` it was claimed with and no error; the run it snoozed completes.
/// It runs again once due, as the same attempt, and with two workers draining the queue each job
/// runs exactly twice.
pub async fn snooze_runs_again_later_without_spending_an_attempt(fixture: Fixture) {
    let env = Env::new(fixture);
    let wait = if env.manual().is_some() { Duration::from_secs(3600) } else { Duration::from_secs(1) };
    let mut jobs = Vec::new();
    for n in 0..JOBS {
        let key = format!("snooze-{n}");
        let enqueued = env.set::<Snoozy>().queue("snooze").enqueue(Snoozy::snoozing(&key, 1, wait)).await.unwrap();
        jobs.push((key, enqueued.job_id.clone(), provider_id(&enqueued)));
    }
    let workers = [env.worker(&["snooze"]).concurrency(2).start(), env.worker(&["snooze"]).concurrency(2).start()];

    for (key, job_id, first) in &jobs {
        let snoozed = env.wait_for_job(job_id, "stored again", |info| info.id != *first).await;
        let ran_at = env.probe.runs_of(key)[0].at;
        let data = snoozed.data().unwrap();
        let due = data.scheduled_at.expect("a snoozed job is scheduled");
        assert!(due >= ran_at + chrono::Duration::from_std(wait).unwrap(), "due at {due}, ran at {ran_at}");
        assert_eq!((data.executions, snoozed.errors.len()), (0, 0), "a snooze spends no attempt: {snoozed:?}");
        assert!(data.exception_executions.is_empty(), "{snoozed:?}");
        let done = env.wait_for_state(first, JobState::Completed).await;
        assert!(done.errors.is_empty(), "the snoozed run records no error: {done:?}");
        if env.manual().is_some() {
            assert_eq!((snoozed.state, snoozed.attempts), (JobState::Scheduled, 0), "{snoozed:?}");
        }
    }
    if let Some(clock) = env.manual() {
        assert!(jobs.iter().all(|(key, ..)| env.probe.count(key) == 1), "a snoozed job ran before its time");
        clock.advance(wait + Duration::from_secs(1));
    }
    env.wait_for("every job to run again", || jobs.iter().all(|(key, ..)| env.probe.count(key) >= 2)).await;
    for (key, job_id, _) in &jobs {
        env.wait_for_job(job_id, "completed", |info| info.state == JobState::Completed).await;
        let runs = env.probe.runs_of(key);
        assert_eq!(runs.iter().map(|r| r.executions).collect::<Vec<_>>(), [1, 1], "{key}: the same attempt twice");
        assert_eq!(runs[0].job_id, runs[1].job_id, "a snoozed job keeps its job id");
        let between = runs[1].at - runs[0].at;
        assert!(between >= chrono::Duration::from_std(wait).unwrap(), "{key} ran again {between} after");
    }
    for worker in workers {
        worker.shutdown().await.unwrap();
    }
    assert_eq!(env.probe.runs().len(), 2 * JOBS, "each job ran twice, once snoozed");
    let counts = env.inspector().counts().await.unwrap();
    assert_eq!((counts.total(JobState::Dead), counts.total(JobState::Retrying)), (0, 0), "{counts:?}");
}

/// A job that cancels itself ends there: completed, with no error, no retry and nothing in the
/// dead set, though the worker's policy would retry a failure at once; the queue flows on.
pub async fn cancel_ends_the_job_without_a_retry(fixture: Fixture) {
    let env = Env::new(fixture);
    let mut jobs = Vec::new();
    for n in 0..JOBS {
        let key = format!("cancel-{n}");
        jobs.push((key.clone(), env.enqueue("cancel", Snoozy::cancelling(key)).await));
    }
    let workers = [env.worker(&["cancel"]).start(), env.worker(&["cancel"]).start()];
    for (_, id) in &jobs {
        let done = env.wait_for_state(id, JobState::Completed).await;
        assert!(done.errors.is_empty(), "a cancel is no failure: {done:?}");
        let data = done.data().unwrap();
        assert_eq!(env.find(&data.job_id).await.id, *id, "a cancelled job is not stored again");
    }
    env.enqueue("cancel", Record::new("after")).await;
    env.wait_for("a later job on the queue to run", || env.probe.count("after") == 1).await;
    for worker in workers {
        worker.shutdown().await.unwrap();
    }
    for (key, _) in &jobs {
        assert_eq!(env.probe.count(key), 1, "{key} ran again after it cancelled itself");
    }
    let counts = env.inspector().counts().await.unwrap();
    assert_eq!(counts.get("cancel", JobState::Completed), JOBS as u64 + 1, "{counts:?}");
    assert_eq!(counts.pending() + counts.total(JobState::Dead), 0, "{counts:?}");
}
