//! Queue stats: sizes per state, latency, paused.

use std::time::Duration;

use crate::Fixture;
use crate::env::Env;
use crate::jobs::Record;
use jobs_core::{JobState, QueueStats};

const LEASE: Duration = Duration::from_secs(600);
const HOUR: Duration = Duration::from_secs(3600);

/// `queues` lists every queue that holds jobs or is paused, by name, with counts that agree with
/// `counts`, and whether it is paused — a paused queue without jobs included.
pub async fn queue_stats_agree_with_counts(fixture: Fixture) {
    let env = Env::new(fixture);
    let (backend, inspector) = (env.backend(), env.inspector());
    let pausing = env.adapter.capabilities().pause;

    env.enqueue("stats-a", Record::new("a-1")).await;
    env.enqueue("stats-a", Record::new("a-2")).await;
    env.set::<Record>().queue("stats-a").wait(HOUR).enqueue(Record::new("a-later")).await.unwrap();
    env.enqueue("stats-b", Record::new("b-running")).await;
    env.claim_one("stats-b", LEASE).await;
    env.enqueue("stats-b", Record::new("b-done")).await;
    let claim = env.claim_one("stats-b", LEASE).await;
    assert_eq!(backend.complete(std::slice::from_ref(&claim.ticket)).await.unwrap(), 1);
    env.enqueue("stats-b", Record::new("b-dead")).await;
    let claim = env.claim_one("stats-b", LEASE).await;
    assert_eq!(backend.fail(&[env.failure(&claim.ticket, 1, "gave up", None)]).await.unwrap(), 1);
    if pausing {
        inspector.pause("stats-a").await.unwrap();
        inspector.pause("stats-idle").await.unwrap();
    }

    let queues = inspector.queues().await.unwrap();
    let counts = inspector.counts().await.unwrap();
    let names: Vec<&str> = queues.iter().map(|q| q.queue.as_str()).collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(names, sorted, "queues come by name, once each");
    for (queue, _, _) in counts.iter() {
        assert!(names.contains(&queue), "queue {queue} holds jobs but is not listed: {names:?}");
    }
    for stats in &queues {
        for state in JobState::ALL {
            assert_eq!(stats.count(state), counts.get(&stats.queue, state), "{}/{state}: {counts:?}", stats.queue);
        }
    }

    let a = stats_of(&queues, "stats-a");
    assert_eq!((a.count(JobState::Ready), a.count(JobState::Scheduled), a.size()), (2, 1, 3), "{a:?}");
    assert_eq!(a.paused, pausing);
    let b = stats_of(&queues, "stats-b");
    let states = [JobState::Running, JobState::Completed, JobState::Dead];
    assert_eq!(states.map(|s| b.count(s)), [1, 1, 1], "{b:?}");
    assert_eq!((b.size(), b.latency, b.paused), (1, Duration::ZERO, false), "no ready job: no latency");
    if pausing {
        let idle = stats_of(&queues, "stats-idle");
        assert!(idle.paused && idle.size() == 0 && idle.latency == Duration::ZERO, "{idle:?}");
        assert!(JobState::ALL.iter().all(|s| idle.count(*s) == 0), "{idle:?}");
        inspector.resume("stats-a").await.unwrap();
        inspector.resume("stats-idle").await.unwrap();
        let queues = inspector.queues().await.unwrap();
        assert!(!stats_of(&queues, "stats-a").paused, "a resumed queue is not paused");
        assert!(queues.iter().all(|q| !q.paused), "no queue is paused any more: {queues:?}");
    }
}

/// A queue's latency is how long its oldest ready job has been waiting (zero with none ready).
pub async fn queue_latency_is_the_oldest_wait(fixture: Fixture) {
    let env = Env::new(fixture);
    let before = env.runtime.now();
    env.enqueue("latency", Record::new("oldest")).await;
    let waited = if env.manual().is_some() { Duration::from_secs(90) } else { Duration::from_secs(1) };
    env.pass(waited).await;
    env.enqueue("latency", Record::new("newer")).await;
    env.set::<Record>().queue("latency-later").wait(HOUR).enqueue(Record::new("later")).await.unwrap();

    let queues = env.inspector().queues().await.unwrap();
    let since_start = (env.runtime.now() - before).to_std().unwrap();
    let latency = stats_of(&queues, "latency").latency;
    // Stores differ in the precision of their times; a quarter second covers it.
    let precision = if env.manual().is_some() { Duration::ZERO } else { Duration::from_millis(250) };
    let slack = env.slack().to_std().unwrap();
    assert!(latency + precision >= waited, "latency {latency:?}: the oldest job waited {waited:?}");
    assert!(latency <= since_start + slack, "latency {latency:?}: the oldest job is {since_start:?} old at most");
    assert_eq!(stats_of(&queues, "latency-later").latency, Duration::ZERO, "a scheduled job is not waiting yet");

    let claimed = env.claim("latency", 2, LEASE).await;
    assert_eq!(claimed.len(), 2);
    let queues = env.inspector().queues().await.unwrap();
    assert_eq!(stats_of(&queues, "latency").latency, Duration::ZERO, "no ready job: no latency");
}

fn stats_of<'a>(queues: &'a [QueueStats], queue: &str) -> &'a QueueStats {
    queues.iter().find(|q| q.queue == queue).unwrap_or_else(|| panic!("queue {queue} is not listed: {queues:?}"))
}
