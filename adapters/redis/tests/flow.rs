//! Concurrency slots and throttle counts on Redis, where they are the adapter's own: the keys
//! added beside Sidekiq's, blocked jobs in the operations API, four processes draining under a
//! limit, and a process killed while holding slots.

mod support;

use std::time::Duration;

use jobs_core::adapter::{Adapter, Backend, FlowStore, NewJob, SlotOutcome};
use jobs_core::{Inspect, JobAction, JobData, JobFilter, JobState, ListParams, Target};
use jobs_redis::RedisAdapter;
use jobs_redis::redis::AsyncCommands;
use support::flow::{acquire, claim, job_id, limited};

#[tokio::test]
async fn a_blocked_job_waits_outside_sidekiqs_keys_and_tools_see_it() {
    let Some((redis, _cleanup)) = support::adapter("a_blocked_job_waits_outside_sidekiqs_keys_and_tools_see_it").await
    else {
        return;
    };
    let jobs = [limited("a", None, "acct-1"), limited("b", None, "acct-1")];
    let ids: Vec<String> = redis.enqueue_all(&jobs).await.unwrap().into_iter().map(Option::unwrap).collect();
    let claimed = claim(&redis, 2, Duration::from_secs(60)).await;
    let lease = Duration::from_secs(60);
    assert_eq!(acquire(&redis, &claimed[0], "acct-1", 1, lease).await, SlotOutcome::Acquired);
    assert_eq!(acquire(&redis, &claimed[1], "acct-1", 1, lease).await, SlotOutcome::Blocked);
    let blocked = &claimed[1].ticket;

    // Only jobs' own keys hold it: no queue, working hash, schedule or retry set of Sidekiq's.
    let mut conn = redis.connection();
    let key = |name: &str| format!("{}{name}", redis.prefix());
    let list: Vec<String> = conn.lrange(key("jobs:blocked:acct-1"), 0, -1).await.unwrap();
    assert_eq!(list.len(), 1);
    assert!(list[0].contains(&format!("\"jid\":\"{}\"", blocked.id)), "{}", list[0]);
    assert_eq!(conn.llen::<_, usize>(key("queue:flow")).await.unwrap(), 0);
    let retry: usize = conn.zcard(key("retry")).await.unwrap();
    assert_eq!(retry, 0);
    let holders: Vec<String> = conn.zrange(key("jobs:slots:acct-1"), 0, -1).await.unwrap();
    assert_eq!(holders, [claimed[0].ticket.id.clone()]);
    let claims: Vec<(String, i64)> = conn.hgetall(key("jobs:slot-claims:acct-1")).await.unwrap();
    assert_eq!(claims, [(claimed[0].ticket.id.clone(), claimed[0].ticket.token)], "the slot's claim is kept");

    // The claim is over: the stale ticket can neither complete nor fail the blocked job.
    assert_eq!(redis.complete(std::slice::from_ref(blocked)).await.unwrap(), 0);
    assert_eq!(redis.rescue_expired().await.unwrap(), 0, "a blocked job holds no lease");

    let counts = redis.counts().await.unwrap();
    assert_eq!((counts.get("flow", JobState::Blocked), counts.get("flow", JobState::Ready)), (1, 0));
    let stats = redis.queues().await.unwrap();
    assert_eq!(stats[0].counts.get(&JobState::Blocked), Some(&1));
    assert_eq!(stats[0].counts.get(&JobState::Ready), None, "a blocked job is not ready");
    let info = redis.find(&ids[1]).await.unwrap().unwrap();
    assert_eq!((info.state, info.attempts, info.queue.as_str()), (JobState::Blocked, 0, "flow"));
    assert_eq!(redis.find("b").await.unwrap().unwrap().id, ids[1], "found by Active Job id too");
    let page = redis.list(&ListParams::new().state(JobState::Blocked)).await.unwrap();
    assert_eq!(page.jobs.iter().map(|j| j.id.as_str()).collect::<Vec<_>>(), [ids[1].as_str()]);

    // Nothing claims it until the slot is released, which makes it ready, to run next.
    assert!(claim(&redis, 10, lease).await.is_empty());
    assert!(redis.release_slot("acct-1", &claimed[0].ticket).await.unwrap());
    assert!(!redis.release_slot("acct-1", &claimed[0].ticket).await.unwrap(), "released once");
    let claims_left: bool = conn.exists(key("jobs:slot-claims:acct-1")).await.unwrap();
    assert!(!claims_left, "a released slot's claim goes with it");
    assert_eq!(redis.find(&ids[1]).await.unwrap().unwrap().state, JobState::Ready);
    let again = claim(&redis, 10, lease).await;
    assert_eq!((again.len(), again[0].attempt), (1, 1), "blocking did not count an attempt");
    assert_eq!(acquire(&redis, &again[0], "acct-1", 1, lease).await, SlotOutcome::Acquired);
    let list_exists: bool = conn.exists(key("jobs:blocked:acct-1")).await.unwrap();
    let listed: bool = conn.sismember(key("jobs:blocked-keys"), "acct-1").await.unwrap();
    assert!(!list_exists && !listed, "an empty blocked list leaves no key behind");
}

#[tokio::test]
async fn blocked_jobs_page_by_key_and_operators_act_on_them() {
    let Some((redis, _cleanup)) = support::adapter("blocked_jobs_page_by_key_and_operators_act_on_them").await else {
        return;
    };
    let lease = Duration::from_secs(60);
    let mut jobs = vec![limited("holder-x", None, "x"), limited("holder-y", None, "y")];
    jobs.extend((0..5).map(|i| limited(&format!("x{i}"), None, "x")));
    jobs.extend((0..3).map(|i| limited(&format!("y{i}"), None, "y")));
    redis.enqueue_all(&jobs).await.unwrap();
    for job in claim(&redis, 10, lease).await {
        let key = if job_id(&job).starts_with('x') || job_id(&job) == "holder-x" { "x" } else { "y" };
        acquire(&redis, &job, key, 1, lease).await;
    }
    let counts = redis.counts().await.unwrap();
    assert_eq!((counts.get("flow", JobState::Blocked), counts.get("flow", JobState::Running)), (8, 2));

    let mut seen = Vec::new();
    let mut params = ListParams::new().state(JobState::Blocked).limit(3);
    loop {
        let page = redis.list(&params).await.unwrap();
        assert!(page.jobs.iter().all(|j| j.state == JobState::Blocked));
        seen.extend(page.jobs.iter().map(|j| j.job_id.clone().unwrap()));
        match page.next {
            Some(next) => params = params.after(next),
            None => break,
        }
    }
    // Key by key, each in the order its jobs become ready (oldest first).
    assert_eq!(seen, ["x0", "x1", "x2", "x3", "x4", "y0", "y1", "y2"]);
    let newest: Vec<String> = redis
        .list(&ListParams::new().state(JobState::Blocked).newest_first())
        .await
        .unwrap()
        .jobs
        .into_iter()
        .map(|j| j.job_id.unwrap())
        .collect();
    assert_eq!(newest, ["y2", "y1", "y0", "x4", "x3", "x2", "x1", "x0"]);

    // Delete applies to blocked jobs; the key's blocked list goes with its last job.
    let mut ys = Vec::new();
    for i in 0..3 {
        ys.push(redis.find(&format!("y{i}")).await.unwrap().unwrap().id);
    }
    assert_eq!(redis.apply(JobAction::Delete, &Target::Ids(ys)).await.unwrap(), 3);
    let mut conn = redis.connection();
    let keys: Vec<String> = conn.smembers(format!("{}jobs:blocked-keys", redis.prefix())).await.unwrap();
    assert_eq!(keys, ["x"]);
    // Every other action does what `applies_to` says for a blocked job.
    let blocked = Target::Filter(JobFilter::new().state(JobState::Blocked));
    for action in [JobAction::Retry, JobAction::RunNow, JobAction::Discard] {
        let changed = redis.apply(action, &blocked).await.unwrap();
        let left = redis.counts().await.unwrap().get("flow", JobState::Blocked);
        if action.applies_to(JobState::Blocked) {
            assert_eq!((changed, left), (5, 0), "{action:?}");
            break;
        }
        assert_eq!((changed, left), (0, 5), "{action:?}");
    }
}

#[tokio::test]
async fn a_killed_process_slots_expire_and_its_blocked_jobs_run() {
    let Some((killed, _cleanup)) = support::adapter("a_killed_process_slots_expire_and_its_blocked_jobs_run").await
    else {
        return;
    };
    let other = RedisAdapter::builder().url(support::url()).prefix(killed.prefix()).connect().await.unwrap();
    let jobs = [limited("held", None, "k"), limited("low", Some(5), "k"), limited("high", Some(1), "k")];
    killed.enqueue_all(&jobs).await.unwrap();
    let hold = Duration::from_secs(1);
    let lease = Duration::from_millis(500);
    let held = claim(&killed, 1, lease).await.remove(0);
    assert_eq!(acquire(&killed, &held, "k", 1, hold).await, SlotOutcome::Acquired);
    for waiting in claim(&other, 2, Duration::from_secs(60)).await {
        assert_eq!(acquire(&other, &waiting, "k", 1, hold).await, SlotOutcome::Blocked);
    }
    // The process holding the slot dies: nothing releases its slot.
    killed.close().await.unwrap();
    assert_eq!(other.expire_slots().await.unwrap(), 0, "the slot is held for `hold`");
    tokio::time::sleep(hold + Duration::from_millis(100)).await;

    // The slot expires, its claim with it, and the blocked job of the lower priority number is
    // made ready.
    assert_eq!(other.expire_slots().await.unwrap(), 1);
    let claims: Vec<String> = other.connection().hkeys(format!("{}jobs:slot-claims:k", other.prefix())).await.unwrap();
    assert!(claims.is_empty(), "an expired slot's claim is gone: {claims:?}");
    let next = claim(&other, 10, Duration::from_secs(60)).await;
    assert_eq!(next.iter().map(job_id).collect::<Vec<_>>(), ["high"]);
    assert_eq!(acquire(&other, &next[0], "k", 1, hold).await, SlotOutcome::Acquired);
    assert_eq!(other.expire_slots().await.unwrap(), 0, "the key's one slot is taken again");
    // The killed process's own job is rescued as always; run again, it waits for the slot.
    assert_eq!(other.rescue_expired().await.unwrap(), 1);
    let rescued = claim(&other, 10, Duration::from_secs(60)).await;
    assert_eq!((rescued.len(), job_id(&rescued[0]).as_str(), rescued[0].attempt), (1, "held", 2));
    assert_eq!(acquire(&other, &rescued[0], "k", 1, hold).await, SlotOutcome::Blocked);
    assert_eq!(other.counts().await.unwrap().get("flow", JobState::Blocked), 2);
    // Released, the slot goes to the blocked job of the lower priority number: "held" (none, 0)
    // though "low" (5) waited longer.
    assert!(other.release_slot("k", &next[0].ticket).await.unwrap());
    let last = claim(&other, 10, Duration::from_secs(60)).await;
    assert_eq!(last.iter().map(job_id).collect::<Vec<_>>(), ["held"]);
    other.close().await.unwrap();
}

#[tokio::test]
async fn throttle_counts_are_distinct_under_concurrency_and_expire() {
    let Some((redis, _cleanup)) = support::adapter("throttle_counts_are_distinct_under_concurrency").await else {
        return;
    };
    let calls = (0..20).map(|_| {
        let redis = redis.clone();
        tokio::spawn(async move { redis.count_start("api", 42, Duration::from_millis(300)).await.unwrap() })
    });
    let mut counts = Vec::new();
    for call in calls.collect::<Vec<_>>() {
        counts.push(call.await.unwrap());
    }
    counts.sort();
    assert_eq!(counts, (1..=20).collect::<Vec<u64>>());
    assert_eq!(redis.count_start("api", 43, Duration::from_millis(300)).await.unwrap(), 1, "a window of its own");
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(redis.count_start("api", 42, Duration::from_millis(300)).await.unwrap(), 1, "forgotten after ttl");
}

/// What the workers of the drain test saw: how many held a slot of each key at once, at most.
#[derive(Default)]
struct Ledger {
    running: std::collections::HashMap<String, u32>,
    most: u32,
    done: usize,
    blocked: usize,
}

#[tokio::test]
async fn four_processes_draining_ten_keys_never_run_more_than_the_limit() {
    let Some((redis, _cleanup)) = support::adapter("four_processes_draining_ten_keys").await else { return };
    const JOBS: usize = 300;
    // Runs of thirty jobs of one key, so that the claims of twenty workers crowd few keys.
    let jobs: Vec<NewJob> = (0..JOBS).map(|i| limited(&format!("job-{i}"), None, &format!("key-{}", i / 30))).collect();
    redis.enqueue_all(&jobs).await.unwrap();
    let ledger = std::sync::Arc::new(std::sync::Mutex::new(Ledger::default()));
    let (mut processes, mut adapters) = (Vec::new(), Vec::new());
    for _ in 0..4 {
        let process = RedisAdapter::builder().url(support::url()).prefix(redis.prefix()).connect().await.unwrap();
        adapters.push(process.clone());
        for _ in 0..5 {
            let (process, ledger) = (process.clone(), ledger.clone());
            processes.push(tokio::spawn(async move {
                let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
                while ledger.lock().unwrap().done < JOBS && tokio::time::Instant::now() < deadline {
                    process.expire_slots().await.unwrap();
                    let Some(job) = claim(&process, 1, Duration::from_secs(60)).await.pop() else {
                        tokio::time::sleep(Duration::from_millis(5)).await;
                        continue;
                    };
                    let key = JobData::from_json(&job.payload).unwrap().flow.unwrap().concurrency.unwrap();
                    match acquire(&process, &job, &key, 2, Duration::from_secs(60)).await {
                        SlotOutcome::Acquired => {}
                        outcome => {
                            assert_eq!(outcome, SlotOutcome::Blocked);
                            ledger.lock().unwrap().blocked += 1;
                            continue;
                        }
                    }
                    {
                        let mut ledger = ledger.lock().unwrap();
                        let running = ledger.running.entry(key.clone()).or_default();
                        *running += 1;
                        let running = *running;
                        ledger.most = ledger.most.max(running);
                    }
                    tokio::time::sleep(Duration::from_millis(2)).await;
                    *ledger.lock().unwrap().running.get_mut(&key).unwrap() -= 1;
                    assert!(process.release_slot(&key, &job.ticket).await.unwrap());
                    assert_eq!(process.complete(&[job.ticket]).await.unwrap(), 1);
                    ledger.lock().unwrap().done += 1;
                }
            }));
        }
    }
    for process in processes {
        process.await.unwrap();
    }
    for adapter in adapters {
        adapter.close().await.unwrap();
    }
    let (done, blocked, most) = {
        let ledger = ledger.lock().unwrap();
        (ledger.done, ledger.blocked, ledger.most)
    };
    assert_eq!(done, JOBS, "every job ran");
    assert!(blocked > 0, "jobs blocked on full keys on the way");
    assert_eq!(most, 2, "never more than two of a key at once, and two at times");
    let counts = redis.counts().await.unwrap();
    assert_eq!((counts.get("flow", JobState::Blocked), counts.get("flow", JobState::Ready)), (0, 0));
    let mut conn = redis.connection();
    let left: Vec<String> = conn.keys(format!("{}jobs:slot*", redis.prefix())).await.unwrap();
    assert!(left.is_empty(), "no slot key is left once every job released: {left:?}");
}

#[tokio::test]
async fn blocked_jobs_are_counted_in_batches_across_keys() {
    let Some((redis, _cleanup)) = support::adapter("blocked_jobs_are_counted_in_batches_across_keys").await else {
        return;
    };
    // More than one batch of the count script (a thousand jobs), over keys of different sizes.
    let keys = |i: usize| ["a", "b", "b", "c", "c", "c"][i % 6];
    let jobs: Vec<NewJob> = (0..2_400).map(|i| limited(&format!("j{i}"), None, keys(i))).collect();
    redis.enqueue_all(&jobs).await.unwrap();
    let lease = Duration::from_secs(60);
    let mut outcomes = Vec::new();
    loop {
        let batch = claim(&redis, 500, lease).await;
        if batch.is_empty() {
            break;
        }
        for job in &batch {
            let key = JobData::from_json(&job.payload).unwrap().flow.unwrap().concurrency.unwrap();
            outcomes.push(acquire(&redis, job, &key, 1, lease).await);
        }
    }
    assert_eq!(outcomes.iter().filter(|o| **o == SlotOutcome::Acquired).count(), 3, "one holder per key");
    let counts = redis.counts().await.unwrap();
    assert_eq!((counts.get("flow", JobState::Blocked), counts.get("flow", JobState::Running)), (2_397, 3));
}
