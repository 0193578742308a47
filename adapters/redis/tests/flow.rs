//! Flow control on Redis, where it is the adapter's own: the keys it adds beside Sidekiq's, unique
//! enqueues racing on many connections, blocked jobs in the operations API, and a process killed
//! while holding slots.

mod support;

use std::time::Duration;

use jobs_core::adapter::{
    Adapter, Backend, ClaimParams, ClaimedJob, FlowStore, NewJob, SlotOutcome, SlotParams, UniqueOutcome, Uniqueness,
};
use jobs_core::{FlowKeys, Inspect, JobAction, JobData, JobFilter, JobState, ListParams, Target};
use jobs_redis::RedisAdapter;
use jobs_redis::redis::AsyncCommands;

/// A job of class `FlowJob` on queue `flow` with the given flow keys.
fn job(job_id: &str, priority: Option<i32>, flow: FlowKeys) -> NewJob {
    let mut data = JobData::from_json(&format!(
        r#"{{"job_class":"FlowJob","job_id":"{job_id}","queue_name":"flow","arguments":["{job_id}"]}}"#
    ))
    .unwrap();
    data.priority = priority;
    data.flow = Some(flow);
    NewJob::new(data).unwrap()
}

fn limited(job_id: &str, priority: Option<i32>, key: &str) -> NewJob {
    job(job_id, priority, FlowKeys { concurrency: Some(key.into()), ..FlowKeys::default() })
}

fn unique(key: &str) -> Option<Uniqueness> {
    let states = vec![JobState::Scheduled, JobState::Ready, JobState::Running, JobState::Retrying];
    Some(Uniqueness { key: key.into(), states, until: None })
}

async fn claim(redis: &RedisAdapter, limit: usize, lease: Duration) -> Vec<ClaimedJob> {
    let queues = ["flow".to_owned()];
    redis.claim(ClaimParams { queues: &queues, limit, lease, worker_id: "flow-test" }).await.unwrap()
}

async fn acquire(redis: &RedisAdapter, job: &ClaimedJob, key: &str, limit: u32, hold: Duration) -> SlotOutcome {
    let params = SlotParams { ticket: &job.ticket, key, limit, hold, block: true };
    redis.acquire_slot(params).await.unwrap()
}

fn job_id(job: &ClaimedJob) -> String {
    JobData::from_json(&job.payload).unwrap().job_id
}

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
    assert!(redis.release_slot("acct-1", &claimed[0].ticket.id).await.unwrap());
    assert!(!redis.release_slot("acct-1", &claimed[0].ticket.id).await.unwrap(), "released once");
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
async fn fifty_connections_enqueueing_one_unique_job_store_it_once() {
    let Some((redis, _cleanup)) = support::adapter("fifty_connections_enqueueing_one_unique_job_store_it_once").await
    else {
        return;
    };
    let mut tasks = Vec::new();
    for i in 0..50 {
        let prefix = redis.prefix().to_owned();
        tasks.push(tokio::spawn(async move {
            let own = RedisAdapter::builder().url(support::url()).prefix(prefix).connect().await.unwrap();
            let keys = FlowKeys { unique: Some("report-7".into()), ..FlowKeys::default() };
            let outcome = own.enqueue_unique(&[job(&format!("try-{i}"), None, keys)], &[unique("report-7")]).await;
            own.close().await.unwrap();
            outcome.unwrap().remove(0)
        }));
    }
    let mut stored = Vec::new();
    let mut duplicates = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            UniqueOutcome::Stored(id) => stored.push(id.unwrap()),
            UniqueOutcome::Duplicate { job_id, provider_job_id } => duplicates.push((job_id, provider_job_id.unwrap())),
        }
    }
    assert_eq!((stored.len(), duplicates.len()), (1, 49));
    let holder = redis.find(&stored[0]).await.unwrap().unwrap();
    assert!(duplicates.iter().all(|(job_id, id)| *id == stored[0] && Some(job_id) == holder.job_id.as_ref()));
    assert_eq!(redis.counts().await.unwrap().get("flow", JobState::Ready), 1);

    // Held while it runs; free once it completed (nothing was written when it did).
    let keys = || FlowKeys { unique: Some("report-7".into()), ..FlowKeys::default() };
    let running = claim(&redis, 1, Duration::from_secs(60)).await.remove(0);
    let again = redis.enqueue_unique(&[job("late", None, keys())], &[unique("report-7")]).await.unwrap();
    assert!(matches!(&again[0], UniqueOutcome::Duplicate { provider_job_id: Some(id), .. } if *id == stored[0]));
    redis.complete(&[running.ticket]).await.unwrap();
    let after = redis.enqueue_unique(&[job("after", None, keys())], &[unique("report-7")]).await.unwrap();
    assert!(matches!(after[0], UniqueOutcome::Stored(Some(_))), "{after:?}");
}

#[tokio::test]
async fn a_unique_key_is_held_until_its_time_and_taken_over_by_its_own_job_id() {
    let Some((redis, _cleanup)) = support::adapter("a_unique_key_is_held_until_its_time").await else { return };
    let keys = || FlowKeys { unique: Some("k".into()), ..FlowKeys::default() };
    let until = chrono::Utc::now() + chrono::Duration::milliseconds(800);
    let rule = Some(Uniqueness { key: "k".into(), states: vec![JobState::Ready], until: Some(until) });
    let first = redis.enqueue_unique(&[job("one", None, keys())], std::slice::from_ref(&rule)).await.unwrap();
    let batch = [job("two", None, keys()), job("one", None, keys())];
    let second = redis.enqueue_unique(&batch, &[rule.clone(), rule.clone()]).await.unwrap();
    let UniqueOutcome::Stored(Some(one)) = &first[0] else { panic!("{first:?}") };
    assert_eq!(second[0], UniqueOutcome::Duplicate { job_id: "one".into(), provider_job_id: Some(one.clone()) });
    let UniqueOutcome::Stored(Some(retry)) = &second[1] else { panic!("the same job id takes the key: {second:?}") };

    // The hash expires with the key's time: the next enqueue is stored though "one" still waits.
    let mut conn = redis.connection();
    let ttl: i64 = conn.pttl(format!("{}jobs:unique:k", redis.prefix())).await.unwrap();
    assert!(ttl > 0 && ttl <= 800, "{ttl}");
    tokio::time::sleep(Duration::from_millis(900)).await;
    let third = redis.enqueue_unique(&[job("three", None, keys())], std::slice::from_ref(&rule)).await.unwrap();
    assert!(matches!(third[0], UniqueOutcome::Stored(Some(_))), "{third:?}");
    assert_eq!(redis.counts().await.unwrap().get("flow", JobState::Ready), 3, "{one} {retry}");
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

    // The slot expires and the blocked job of the lower priority number is made ready.
    assert_eq!(other.expire_slots().await.unwrap(), 1);
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
    assert!(other.release_slot("k", &next[0].ticket.id).await.unwrap());
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
                    assert!(process.release_slot(&key, &job.ticket.id).await.unwrap());
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
async fn a_blocked_holder_holds_its_unique_key_while_blocked_is_named() {
    let Some((redis, _cleanup)) = support::adapter("a_blocked_holder_holds_its_unique_key").await else { return };
    let keys = || FlowKeys { concurrency: Some("acct".into()), unique: Some("u".into()), ..FlowKeys::default() };
    let blocking = Some(Uniqueness { key: "u".into(), states: vec![JobState::Blocked], until: None });
    let ready_only = Some(Uniqueness { key: "u".into(), states: vec![JobState::Ready], until: None });
    redis.enqueue_all(&[limited("first", None, "acct")]).await.unwrap();
    let stored = redis.enqueue_unique(&[job("holder", None, keys())], std::slice::from_ref(&blocking)).await.unwrap();
    let UniqueOutcome::Stored(Some(holder)) = &stored[0] else { panic!("{stored:?}") };
    let claimed = claim(&redis, 2, Duration::from_secs(60)).await;
    assert_eq!(acquire(&redis, &claimed[0], "acct", 1, Duration::from_secs(60)).await, SlotOutcome::Acquired);
    assert_eq!(acquire(&redis, &claimed[1], "acct", 1, Duration::from_secs(60)).await, SlotOutcome::Blocked);
    assert_eq!(&claimed[1].ticket.id, holder);

    let outcome = redis.enqueue_unique(&[job("ready?", None, keys())], std::slice::from_ref(&ready_only)).await;
    assert!(matches!(outcome.unwrap()[0], UniqueOutcome::Stored(_)), "a blocked holder is not ready");
    // The key went to the job just stored (ready): a rule naming only blocked finds it free again.
    let outcome = redis.enqueue_unique(&[job("blocked?", None, keys())], std::slice::from_ref(&blocking)).await;
    assert!(matches!(outcome.unwrap()[0], UniqueOutcome::Stored(_)), "the ready holder is not blocked");
    // Now blocked in turn, the latest holder makes a job naming blocked a duplicate.
    let both = claim(&redis, 2, Duration::from_secs(60)).await;
    assert_eq!(both.iter().map(job_id).collect::<Vec<_>>(), ["ready?", "blocked?"]);
    for job in &both {
        assert_eq!(acquire(&redis, job, "acct", 1, Duration::from_secs(60)).await, SlotOutcome::Blocked);
    }
    let outcome = redis.enqueue_unique(&[job("dup", None, keys())], std::slice::from_ref(&blocking)).await.unwrap();
    assert!(matches!(&outcome[0], UniqueOutcome::Duplicate { job_id, .. } if job_id == "blocked?"), "{outcome:?}");
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
