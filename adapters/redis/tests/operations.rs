//! The operations API on Redis, beyond what the conformance suite can see: cursors over queue
//! lists that move between pages, Sidekiq's fields on acted-on jobs, the process entries in
//! Sidekiq's layout, signals, and the history's keys.

mod support;

use std::collections::HashSet;
use std::time::Duration;

use chrono::Utc;
use jobs::adapter::{Backend, ClaimParams, ClaimedJob, ErrorRecord, Failure};
use jobs::prelude::*;
use jobs::{Inspect, JobState, ListParams, Registry};
use jobs_core::{HistoryPoint, JobAction, JobFilter, ProcessCommand, ProcessInfo, ProcessState, Target};
use jobs_redis::RedisAdapter;
use jobs_redis::redis::AsyncCommands;
use serde_json::Value;

#[job(queue = "mailers", name = "WelcomeJob")]
async fn welcome(address: String) {
    let _ = address;
}

#[job(queue = "mailers", name = "InvoiceJob")]
async fn invoice(number: i64) {
    let _ = number;
}

fn runtime(redis: &RedisAdapter) -> Runtime {
    let mut registry = Registry::new();
    registry.register::<Welcome>().unwrap();
    registry.register::<Invoice>().unwrap();
    Runtime::builder().adapter(redis.clone()).registry(registry).build().unwrap()
}

async fn claim(redis: &RedisAdapter, queue: &str, limit: usize, worker: &str) -> Vec<ClaimedJob> {
    let queues = [queue.to_owned()];
    let params = ClaimParams { queues: &queues, limit, lease: Duration::from_secs(60), worker_id: worker };
    redis.claim(params).await.unwrap()
}

async fn kill(redis: &RedisAdapter, job: &ClaimedJob) {
    let error = ErrorRecord { class: "Boom".into(), message: "no".into(), attempt: job.attempt, at: Utc::now() };
    let failure = Failure { ticket: job.ticket.clone(), error, retry_in: None, payload: None };
    assert_eq!(redis.fail(&[failure]).await.unwrap(), 1);
}

/// Every page of `params`, following the cursors; `between` runs after each page.
async fn walk(redis: &RedisAdapter, params: ListParams, mut between: impl AsyncFnMut(usize)) -> Vec<String> {
    let mut ids = Vec::new();
    let mut params = params;
    for page in 0.. {
        let got = redis.list(&params).await.unwrap();
        assert!(got.jobs.len() <= params.limit);
        ids.extend(got.jobs.iter().map(|j| j.id.clone()));
        match got.next {
            Some(next) => params = params.after(next),
            None => break,
        }
        between(page).await;
    }
    ids
}

fn assert_once(ids: &[String], expected: &[String]) {
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "a job was listed twice: {ids:?}");
    for id in expected {
        assert!(unique.contains(id), "{id} was never listed");
    }
}

#[tokio::test]
async fn pages_of_a_queue_list_stay_valid_while_it_moves() {
    let Some((redis, _cleanup)) = support::adapter("pages_of_a_queue_list_stay_valid_while_it_moves").await else {
        return;
    };
    let runtime = runtime(&redis);
    let mut first = Vec::new();
    for n in 0..30 {
        first.push(runtime.perform_later(Invoice { number: n }).await.unwrap().provider_job_id.unwrap());
    }
    // Oldest first, while jobs are pushed at the newest end and inserted by priority.
    // (A job with a lower priority number goes behind the walk, to the oldest end: it runs next.)
    let ids = walk(&redis, ListParams::new().queue("mailers").limit(4), async |page| {
        let job = Invoice::set().runtime(&runtime).priority(-(page as i32));
        job.enqueue(Invoice { number: 100 }).await.unwrap();
        runtime.perform_later(Invoice { number: 200 }).await.unwrap();
    })
    .await;
    assert_once(&ids, &first);
    assert_eq!(&ids[..4], &first[..4], "oldest first");

    // Newest first, while jobs are pushed in front of the walk and claimed behind it.
    let before: Vec<String> = walk(&redis, ListParams::new().queue("mailers").limit(1000), async |_| {}).await;
    let ids = walk(&redis, ListParams::new().queue("mailers").newest_first().limit(5), async |page| {
        // More than the cursor's search window, in one push as Sidekiq's bulk client does.
        let jobs: Vec<String> = (0..300)
            .map(|n| format!(r#"{{"queue":"mailers","class":"HardWorker","args":[{n}],"jid":"bulk{page:03}{n:04}"}}"#))
            .collect();
        let _: () = redis.connection().lpush(format!("{}queue:mailers", redis.prefix()), jobs).await.unwrap();
    })
    .await;
    assert_once(&ids, &before);
    assert_eq!(ids.first(), before.last(), "newest first");

    // Claims take the oldest jobs between pages: the walk goes on with what is left (a job
    // that moved to another state may be listed again there, so only ready ones are walked).
    let ready = ListParams::new().queue("mailers").state(JobState::Ready).limit(50);
    let ids = walk(&redis, ready, async |_| {
        claim(&redis, "mailers", 120, "w").await;
    })
    .await;
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "a job was listed twice: {ids:?}");

    let bad = redis.list(&ListParams::new().after("not a cursor")).await.unwrap_err();
    assert!(bad.to_string().contains("cursor"), "{bad}");
    let page = redis.list(&ListParams::new().limit(1)).await.unwrap();
    let other_order = redis.list(&ListParams::new().newest_first().after(page.next.unwrap())).await;
    assert!(other_order.is_err(), "a cursor of the other order is refused");
}

#[tokio::test]
async fn filters_agree_with_the_reference_meaning() {
    let Some((redis, _cleanup)) = support::adapter("filters_agree_with_the_reference_meaning").await else {
        return;
    };
    let runtime = runtime(&redis);
    let t0 = Utc::now();
    for n in 0..5 {
        runtime.perform_later(Invoice { number: 4_000 + n }).await.unwrap();
        runtime.perform_later(Welcome { address: format!("user{n}@example.com") }).await.unwrap();
    }
    let later = Invoice::set().runtime(&runtime).wait(Duration::from_secs(600));
    later.enqueue(Invoice { number: 7 }).await.unwrap();
    let running = claim(&redis, "mailers", 3, "worker-1").await;
    kill(&redis, &running[0]).await;
    let completed = [running[1].ticket.clone()];
    assert_eq!(redis.complete(&completed).await.unwrap(), 1);

    let all = redis.list(&ListParams::new().limit(1000)).await.unwrap().jobs;
    assert_eq!(all.len(), 11);
    let soon = Utc::now() + chrono::Duration::seconds(60);
    let filters = [
        JobFilter::new().class("InvoiceJob"),
        JobFilter::new().class("WelcomeJob").state(JobState::Ready),
        JobFilter::new().text("user3@"),
        JobFilter::new().text("\"user3@example.com\""),
        JobFilter::new().state(JobState::Scheduled).run_at(Some(soon), None),
        JobFilter::new().run_at(None, Some(soon)),
        JobFilter::new().enqueued(Some(t0), None).state(JobState::Dead),
        JobFilter::new().finished_before(soon),
        JobFilter::new().state(JobState::Running),
        JobFilter::new().state(JobState::Completed).queue("mailers"),
        JobFilter::new().queue("other"),
    ];
    for filter in filters {
        let expected: Vec<&String> = all.iter().filter(|j| filter.matches(j)).map(|j| &j.id).collect();
        let params = ListParams::new().filter(filter.clone()).limit(2);
        let got = walk(&redis, params, async |_| {}).await;
        assert_eq!(got.iter().collect::<Vec<_>>(), expected, "{filter:?}");
    }
    let run = redis.find(&running[2].ticket.id).await.unwrap().unwrap();
    assert_eq!((run.state, run.worker_id.as_deref()), (JobState::Running, Some("worker-1")));
    assert!(run.started_at.is_some_and(|at| at >= t0 - chrono::Duration::seconds(1)), "{run:?}");
    assert_eq!((run.class.as_str(), run.job_id.is_some()), ("InvoiceJob", true));
    let dead = redis.find(&running[0].ticket.id).await.unwrap().unwrap();
    assert!(dead.finished_at.is_some() && dead.enqueued_at.is_some(), "{dead:?}");
}

#[tokio::test]
async fn actions_move_jobs_as_sidekiqs_api_does() {
    let Some((redis, _cleanup)) = support::adapter("actions_move_jobs_as_sidekiqs_api_does").await else {
        return;
    };
    let runtime = runtime(&redis);
    let mut conn = redis.connection();
    let key = |name: &str| format!("{}{name}", redis.prefix());
    let later = Invoice::set().runtime(&runtime).wait(Duration::from_secs(600));
    let scheduled = later.enqueue(Invoice { number: 1 }).await.unwrap().provider_job_id.unwrap();
    let ready = runtime.perform_later(Invoice { number: 2 }).await.unwrap().provider_job_id.unwrap();
    let held = runtime.perform_later(Invoice { number: 3 }).await.unwrap().provider_job_id.unwrap();
    let running = claim(&redis, "mailers", 2, "w").await;
    assert_eq!(running.len(), 2);
    let running_id = running.iter().find(|j| j.ticket.id == held).map(|_| held.clone());
    let _ = running_id;

    // Run now: schedule -> queue, stamped as enqueued now.
    let ids = |ids: &[&String]| Target::Ids(ids.iter().map(|s| (*s).clone()).collect());
    assert_eq!(redis.apply(JobAction::RunNow, &ids(&[&scheduled, &ready])).await.unwrap(), 1, "only the scheduled one");
    let queued: Vec<String> = conn.lrange(key("queue:mailers"), 0, -1).await.unwrap();
    let job: Value = serde_json::from_str(&queued[0]).unwrap();
    assert_eq!(job["jid"].as_str(), Some(scheduled.as_str()));
    assert!(job["enqueued_at"].as_f64().unwrap() >= Utc::now().timestamp() as f64 - 5.0, "{job}");

    // Discard: ready -> dead, with the operator's error in Sidekiq's fields.
    assert_eq!(redis.apply(JobAction::Discard, &ids(&[&scheduled])).await.unwrap(), 1);
    let dead: Vec<String> = conn.zrange(key("dead"), 0, -1).await.unwrap();
    let job: Value = serde_json::from_str(&dead[0]).unwrap();
    assert_eq!(
        (job["error_class"].as_str(), job["error_message"].as_str()),
        (Some(JobAction::DISCARDED), Some(JobAction::DISCARDED_MESSAGE))
    );
    assert!(job["failed_at"].is_f64(), "{job}");
    let info = redis.find(&scheduled).await.unwrap().unwrap();
    assert_eq!(
        (info.state, info.errors.last().map(|e| e.class.as_str())),
        (JobState::Dead, Some(JobAction::DISCARDED))
    );

    // Retry: dead -> queue, keeping its errors; running jobs are never touched.
    let every = Target::Filter(JobFilter::new());
    assert_eq!(redis.apply(JobAction::Retry, &every).await.unwrap(), 1);
    let info = redis.find(&scheduled).await.unwrap().unwrap();
    assert_eq!((info.state, info.errors.len()), (JobState::Ready, 1));
    assert_eq!(redis.apply(JobAction::Discard, &every).await.unwrap(), 1, "the running ones stay");
    assert_eq!(
        redis.apply(JobAction::Delete, &Target::Filter(JobFilter::new().state(JobState::Dead))).await.unwrap(),
        1
    );
    assert!(redis.find(&scheduled).await.unwrap().is_none());
    let counts = redis.counts().await.unwrap();
    assert_eq!((counts.get("mailers", JobState::Running), counts.pending()), (2, 2));
    assert_eq!(redis.apply(JobAction::Delete, &every).await.unwrap(), 0, "running jobs are not deleted");
    assert_eq!(redis.apply(JobAction::Delete, &Target::Ids(vec![])).await.unwrap(), 0);

    // Bulk over more than a batch.
    for n in 0..450 {
        Invoice::set().runtime(&runtime).wait(Duration::from_secs(600)).enqueue(Invoice { number: n }).await.unwrap();
    }
    let scheduled = Target::Filter(JobFilter::new().state(JobState::Scheduled));
    assert_eq!(redis.apply(JobAction::Discard, &scheduled).await.unwrap(), 450);
    assert_eq!(redis.apply(JobAction::Retry, &every).await.unwrap(), 450);
    assert_eq!(redis.counts().await.unwrap().get("mailers", JobState::Ready), 450);
    assert_eq!(redis.apply(JobAction::Delete, &Target::Filter(JobFilter::new().queue("mailers"))).await.unwrap(), 450);
}

#[tokio::test]
async fn queue_stats_are_sidekiqs_sizes_and_latency() {
    let Some((redis, _cleanup)) = support::adapter("queue_stats_are_sidekiqs_sizes_and_latency").await else {
        return;
    };
    let runtime = runtime(&redis);
    runtime.perform_later(Invoice { number: 1 }).await.unwrap();
    runtime.perform_later(Invoice { number: 2 }).await.unwrap();
    redis.pause("idle").await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let queues = redis.queues().await.unwrap();
    let names: Vec<&str> = queues.iter().map(|q| q.queue.as_str()).collect();
    assert_eq!(names, ["idle", "mailers"], "a paused empty queue is listed");
    assert!(queues[0].paused && queues[0].size() == 0);
    assert_eq!(queues[1].count(JobState::Ready), 2);
    assert!(
        queues[1].latency >= Duration::from_millis(250) && queues[1].latency < Duration::from_secs(60),
        "{:?}",
        queues[1]
    );
}

#[tokio::test]
async fn history_is_kept_per_minute_in_hashes_that_expire() {
    let Some((redis, _cleanup)) = support::adapter("history_is_kept_per_minute_in_hashes_that_expire").await else {
        return;
    };
    let minute = Utc::now().with_timezone(&Utc);
    let minute = minute
        - chrono::Duration::seconds(minute.timestamp() % 60)
        - chrono::Duration::nanoseconds(minute.timestamp_subsec_nanos() as i64);
    let point = |queue: &str, processed, failed| HistoryPoint {
        minute,
        queue: queue.into(),
        class: "InvoiceJob".into(),
        processed,
        failed,
    };
    redis.record_history(&[point("a", 3, 1), point("b", 1, 0)]).await.unwrap();
    redis.record_history(&[point("a", 2, 2)]).await.unwrap();
    let history = redis.history(minute - chrono::Duration::hours(1)).await.unwrap();
    assert_eq!(history, [point("a", 5, 3), point("b", 1, 0)]);
    assert!(redis.history(minute + chrono::Duration::minutes(1)).await.unwrap().is_empty());
    let mut conn = redis.connection();
    let ttl: i64 = conn.ttl(format!("{}jobs:history:{}", redis.prefix(), minute.timestamp())).await.unwrap();
    assert!(ttl > 24 * 3600 && ttl <= 25 * 3600, "{ttl}");
}

fn process(id: &str, state: ProcessState) -> ProcessInfo {
    ProcessInfo {
        id: id.into(),
        hostname: "box".into(),
        pid: 42,
        version: "jobs 0.1.0".into(),
        queues: vec!["mailers".into()],
        concurrency: 5,
        busy: 1,
        started_at: "2026-01-02T03:04:05.123456789Z".parse().unwrap(),
        last_heartbeat: Utc::now(),
        state,
    }
}

#[tokio::test]
async fn workers_are_sidekiq_processes_and_take_its_signals() {
    let Some((redis, _cleanup)) = support::adapter("workers_are_sidekiq_processes_and_take_its_signals").await else {
        return;
    };
    let runtime = runtime(&redis);
    let jid = runtime.perform_later(Invoice { number: 1 }).await.unwrap().provider_job_id.unwrap();
    let (one, two) = ("box:42:aaa", "box:42:bbb");
    claim(&redis, "mailers", 1, one).await;
    let ttl = Duration::from_secs(30);
    assert_eq!(redis.beat_process(&process(one, ProcessState::Running), ttl).await.unwrap(), None);
    assert_eq!(redis.beat_process(&process(two, ProcessState::Quiet), ttl).await.unwrap(), None);

    let mut conn = redis.connection();
    let key = |name: &str| format!("{}{name}", redis.prefix());
    let members: HashSet<String> = conn.smembers(key("processes")).await.unwrap();
    assert_eq!(members, HashSet::from([one.to_owned(), two.to_owned()]));
    let (info, busy, quiet): (String, String, String) = jobs_redis::redis::cmd("HMGET")
        .arg(key(one))
        .arg(&["info", "busy", "quiet"])
        .query_async(&mut conn)
        .await
        .map(|v: Vec<String>| (v[0].clone(), v[1].clone(), v[2].clone()))
        .unwrap();
    let info: Value = serde_json::from_str(&info).unwrap();
    assert_eq!(
        (info["identity"].as_str(), info["concurrency"].as_u64(), busy.as_str(), quiet.as_str()),
        (Some(one), Some(5), "1", "false")
    );
    let work: Vec<String> = conn.hvals(key(&format!("{one}:work"))).await.unwrap();
    let work: Value = serde_json::from_str(&work[0]).unwrap();
    assert_eq!(work["queue"].as_str(), Some("mailers"));
    let payload: Value = serde_json::from_str(work["payload"].as_str().unwrap()).unwrap();
    assert_eq!(payload["jid"].as_str(), Some(jid.as_str()));
    assert!(work["run_at"].as_i64().unwrap() > 0);
    let none: Vec<String> = conn.hvals(key(&format!("{two}:work"))).await.unwrap();
    assert!(none.is_empty(), "the other worker runs nothing");

    let listed = redis.processes().await.unwrap();
    assert_eq!(
        listed.iter().map(|p| (p.id.as_str(), p.state)).collect::<Vec<_>>(),
        [(one, ProcessState::Running), (two, ProcessState::Quiet)]
    );
    let sent = process(one, ProcessState::Running);
    let beat = listed[0].last_heartbeat;
    assert!((Utc::now() - beat).num_seconds().abs() < 60, "the server's time of the beat: {beat}");
    assert_eq!(ProcessInfo { last_heartbeat: sent.last_heartbeat, ..listed[0].clone() }, sent, "what the worker wrote");

    assert!(redis.signal(one, ProcessCommand::Quiet).await.unwrap());
    assert!(!redis.signal("box:42:gone", ProcessCommand::Stop).await.unwrap());
    let signals: Vec<String> = conn.lrange(key(&format!("{one}-signals")), 0, -1).await.unwrap();
    assert_eq!(signals, ["TSTP"], "as Sidekiq's Web UI signals");
    let (running, quiet) = (process(one, ProcessState::Running), process(one, ProcessState::Quiet));
    assert_eq!(redis.beat_process(&running, ttl).await.unwrap(), Some(ProcessCommand::Quiet));
    assert_eq!(redis.beat_process(&quiet, ttl).await.unwrap(), None, "a command is taken once");
    redis.signal(one, ProcessCommand::Quiet).await.unwrap();
    redis.signal(one, ProcessCommand::Stop).await.unwrap();
    assert_eq!(redis.beat_process(&quiet, ttl).await.unwrap(), Some(ProcessCommand::Stop), "stop wins");

    redis.worker_stopped(two).await.unwrap();
    assert_eq!(redis.processes().await.unwrap().len(), 1);
    assert!(!conn.exists::<_, bool>(key(two)).await.unwrap());

    // An entry whose time to live ran out is gone, and leaves the set as Sidekiq's cleanup does.
    let short = process("box:42:ccc", ProcessState::Running);
    redis.beat_process(&short, Duration::from_millis(50)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(120)).await;
    assert_eq!(redis.processes().await.unwrap().iter().map(|p| p.id.as_str()).collect::<Vec<_>>(), [one]);
    assert!(!conn.sismember::<_, _, bool>(key("processes"), "box:42:ccc").await.unwrap());
}
