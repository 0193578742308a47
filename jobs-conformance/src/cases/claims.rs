//! Claiming: queues, schedules, priorities, concurrency.

use std::time::Duration;

use crate::Fixture;
use crate::env::{Env, Start, key_of, provider_id};
use crate::jobs::Record;
use jobs_core::{JobState, PendingJob};

/// A worker never runs jobs of a queue it does not listen to; `*` listens to every queue.
pub async fn queue_isolation(fixture: Fixture) {
    let env = Env::new(fixture);
    let other = env.enqueue("isolation-b", Record::new("b")).await;
    env.enqueue("isolation-a", Record::new("a")).await;

    let worker = env.worker(&["isolation-a"]).start();
    env.wait_for("the job of the worker's queue to run", || env.probe.count("a") == 1).await;
    env.enqueue("isolation-a", Record::new("a2")).await;
    env.wait_for("a later job of the worker's queue to run", || env.probe.count("a2") == 1).await;
    worker.shutdown().await.unwrap();

    assert_eq!(env.probe.count("b"), 0, "a worker of queue isolation-a ran a job of isolation-b");
    let waiting = env.find(&other).await;
    assert_eq!((waiting.state, waiting.attempts), (JobState::Ready, 0), "the other queue's job was never claimed");

    let everything = env.worker(&["*"]).start();
    env.wait_for("a worker of every queue to run the other job", || env.probe.count("b") == 1).await;
    everything.shutdown().await.unwrap();
    assert_eq!(env.probe.runs().len(), 3);
}

/// A scheduled job is not claimed before its time, and is performed once it is due.
///
/// With a manual clock the case moves time; with the store's clock it schedules two seconds ahead
/// and checks the time the job started.
pub async fn scheduled_job_waits_until_due(fixture: Fixture) {
    let env = Env::new(fixture);
    let wait = if env.manual().is_some() { Duration::from_secs(3600) } else { Duration::from_secs(2) };
    let later = env.set::<Record>().queue("schedule").wait(wait).enqueue(Record::new("later")).await.unwrap();
    let due = later.scheduled_at.expect("a scheduled job has a time");
    let id = provider_id(&later);
    env.enqueue("schedule", Record::new("now")).await;

    let worker = env.worker(&["schedule"]).start();
    env.wait_for("the job enqueued after the scheduled one to run", || env.probe.count("now") == 1).await;
    if let Some(clock) = env.manual() {
        assert_eq!(env.probe.count("later"), 0, "the scheduled job ran before its time");
        let info = env.find(&id).await;
        assert_eq!((info.state, info.attempts), (JobState::Scheduled, 0));
        let counts = env.inspector().counts().await.unwrap();
        assert_eq!(counts.get("schedule", JobState::Scheduled), 1, "{counts:?}");

        clock.advance(Duration::from_secs(3540));
        env.enqueue("schedule", Record::new("almost")).await;
        env.wait_for("a job enqueued a minute before the due time to run", || env.probe.count("almost") == 1).await;
        assert_eq!(env.probe.count("later"), 0, "the scheduled job ran a minute early");
        clock.advance(Duration::from_secs(61));
    }
    env.wait_for("the scheduled job to run once due", || env.probe.count("later") == 1).await;
    worker.shutdown().await.unwrap();

    let run = &env.probe.runs_of("later")[0];
    assert!(run.at >= due, "the scheduled job started at {} before its time {due}", run.at);
    assert_eq!(run.scheduled_at, Some(due));
    assert_eq!(env.find(&id).await.state, JobState::Completed);
}

/// An idle worker at the default poll interval (1 s) starts scheduled jobs on time: it wakes
/// when the next one is due rather than at its next poll, and never before.
///
/// Three jobs are due 1.2 s, 1.5 s and 1.8 s after they are enqueued; a worker polling once a
/// second starts at least one of them 0.6 s late or more, whatever the phase of its polls. The
/// bound checked is 0.5 s, to leave room on a loaded machine (the bench measures the real
/// delay). Runs on the store's clock only: with a manual clock no time passes by itself.
pub async fn scheduled_jobs_start_on_time(fixture: Fixture) {
    let env = Env::new(fixture);
    if env.manual().is_some() {
        return;
    }
    let worker = env.worker(&["on-time"]).poll_interval(Duration::from_secs(1)).start();
    env.enqueue("on-time", Record::new("warm-up")).await;
    env.wait_for("the worker to run a first job and go idle", || env.probe.count("warm-up") == 1).await;

    let mut dues = Vec::new();
    for (key, wait) in [("at-1200", 1200), ("at-1500", 1500), ("at-1800", 1800)] {
        let job = env.set::<Record>().queue("on-time").wait(Duration::from_millis(wait));
        let enqueued = job.enqueue(Record::new(key)).await.unwrap();
        dues.push((key, enqueued.scheduled_at.expect("a scheduled job has a time")));
    }
    env.wait_for("the scheduled jobs to run", || dues.iter().all(|(key, _)| env.probe.count(key) == 1)).await;
    worker.shutdown().await.unwrap();

    for (key, due) in dues {
        let started = env.probe.runs_of(key)[0].at;
        assert!(started >= due, "{key} started at {started}, before its time {due}");
        let late = started - due;
        assert!(late < chrono::Duration::milliseconds(500), "{key} started {late} after its time {due}");
    }
}

/// Within a queue, lower priorities are claimed first, and equal priorities in the order they
/// were enqueued (no priority counts as 0), within one claim and across claims.
pub async fn priority_order(fixture: Fixture) {
    let env = Env::new(fixture);
    let jobs = [
        ("p5", Some(5)),
        ("p1-first", Some(1)),
        ("none", None),
        ("p1-second", Some(1)),
        ("p10", Some(10)),
        ("neg", Some(-2)),
    ];
    let pending: Vec<PendingJob> = jobs
        .iter()
        .map(|(key, priority)| {
            let job = env.set::<Record>().queue("priority");
            match priority {
                Some(p) => job.priority(*p).build(Record::new(*key)),
                None => job.build(Record::new(*key)),
            }
        })
        .collect();
    env.runtime.perform_all_later(pending).await.unwrap();

    let mut order = Vec::new();
    let mut tickets = Vec::new();
    for _ in 0..3 {
        for job in env.claim("priority", 2, Duration::from_secs(600)).await {
            order.push(key_of(&job));
            tickets.push(job.ticket);
        }
    }
    assert_eq!(order, ["neg", "none", "p1-first", "p1-second", "p5", "p10"]);
    assert!(env.claim("priority", 2, Duration::from_secs(600)).await.is_empty(), "every job was claimed once");
    assert_eq!(env.backend().complete(&tickets).await.unwrap(), 6);
}

/// Jobs scheduled for later, at priorities before and between the due ones, neither get claimed
/// nor change the order of the due jobs: a claim by queue and one over every queue (`*`) take
/// the due jobs in priority order, and the next due time is the earliest scheduled job's.
pub async fn priority_order_past_scheduled_jobs(fixture: Fixture) {
    let env = Env::new(fixture);
    let later = Duration::from_secs(3600);
    let mut pending = Vec::new();
    for (key, priority) in [("later-0", 0), ("later-neg", -5), ("later-7", 7), ("later-20", 20)] {
        pending.push(env.set::<Record>().queue("levels").priority(priority).wait(later).build(Record::new(key)));
    }
    for (key, priority) in [("due-10", 10), ("due-0", 0), ("due-7-first", 7), ("due-7-second", 7)] {
        pending.push(env.set::<Record>().queue("levels").priority(priority).build(Record::new(key)));
    }
    env.runtime.perform_all_later(pending).await.unwrap();

    let first: Vec<String> = env.claim("levels", 2, Duration::from_secs(600)).await.iter().map(key_of).collect();
    assert_eq!(first, ["due-0", "due-7-first"]);
    let rest: Vec<String> = env.claim("*", 10, Duration::from_secs(600)).await.iter().map(key_of).collect();
    assert_eq!(rest, ["due-7-second", "due-10"], "only due jobs, in priority order");
    assert!(env.claim("levels", 10, Duration::from_secs(600)).await.is_empty(), "scheduled jobs wait");
    for queues in [["levels".to_owned()], ["*".to_owned()]] {
        if let Some(due) = env.backend().next_due(&queues).await.unwrap() {
            assert!(due > Duration::from_secs(3000) && due <= later, "next due in {due:?}, on {queues:?}");
        }
    }
}

/// N jobs drained by M concurrent workers run exactly N times in all, each job once.
pub async fn concurrent_workers_run_each_job_once(fixture: Fixture) {
    const JOBS: usize = 120;
    let env = Env::new(fixture);
    let first_half: Vec<PendingJob> =
        (0..JOBS / 2).map(|n| env.set::<Record>().queue("concurrent").build(Record::new(format!("c-{n}")))).collect();
    env.runtime.perform_all_later(first_half).await.unwrap();

    let workers: Vec<_> = (0..3).map(|_| env.worker(&["concurrent"]).concurrency(4).start()).collect();
    for n in JOBS / 2..JOBS {
        env.enqueue("concurrent", Record::new(format!("c-{n}"))).await;
    }
    env.wait_for("every job to run", || env.probe.runs().len() >= JOBS).await;
    for worker in workers {
        worker.shutdown().await.unwrap();
    }

    let runs = env.probe.runs();
    for n in 0..JOBS {
        assert_eq!(env.probe.count(&format!("c-{n}")), 1, "job c-{n} ran a number of times other than once");
    }
    assert_eq!(runs.len(), JOBS, "{} runs for {JOBS} jobs", runs.len());
    let counts = env.inspector().counts().await.unwrap();
    assert_eq!(counts.get("concurrent", JobState::Completed), JOBS as u64, "{counts:?}");
    assert_eq!(counts.pending(), 0, "{counts:?}");
}
