//! What the Redis store looks like to Sidekiq and to other processes: the job hash, the keys,
//! the retry fields, and a dead process's jobs.

mod support;

use std::time::Duration;

use jobs::adapter::{Backend, ClaimParams, ErrorRecord, Failure};
use jobs::prelude::*;
use jobs::{Inspect, JobData, JobState, Registry};
use jobs_redis::redis::AsyncCommands;
use jobs_redis::{JOB_WRAPPER, RedisAdapter};
use serde_json::Value;

#[job(queue = "mailers", name = "WelcomeJob")]
async fn welcome(address: String) {
    let _ = address;
}

fn runtime(redis: &RedisAdapter) -> Runtime {
    let mut registry = Registry::new();
    registry.register::<Welcome>().unwrap();
    Runtime::builder().adapter(redis.clone()).registry(registry).build().unwrap()
}

async fn claim(redis: &RedisAdapter, queue: &str, limit: usize, lease: Duration) -> Vec<jobs::adapter::ClaimedJob> {
    let queues = [queue.to_owned()];
    redis.claim(ClaimParams { queues: &queues, limit, lease, worker_id: "test" }).await.unwrap()
}

fn failure(ticket: &jobs::adapter::Ticket, attempt: u32, retry_in: Option<Duration>) -> Failure {
    let error = ErrorRecord {
        class: "Net::SMTPServerBusy".into(),
        message: "try later".into(),
        attempt,
        at: chrono::Utc::now(),
    };
    Failure { ticket: ticket.clone(), error, retry_in, payload: None }
}

#[tokio::test]
async fn jobs_are_stored_as_active_jobs_sidekiq_adapter_pushes_them() {
    let Some((redis, _cleanup)) = support::adapter("jobs_are_stored_as_active_jobs_sidekiq_adapter_pushes_them").await
    else {
        return;
    };
    let runtime = runtime(&redis);
    let now = runtime.perform_later(Welcome { address: "ada@example.com".into() }).await.unwrap();
    let later = Welcome::set().runtime(&runtime).wait(Duration::from_secs(600));
    let later = later.enqueue(Welcome { address: "bob@example.com".into() }).await.unwrap();
    let mut conn = redis.connection();
    let key = |name: &str| format!("{}{name}", redis.prefix());

    let queues: Vec<String> = conn.smembers(key("queues")).await.unwrap();
    assert_eq!(queues, ["mailers"]);
    let queued: Vec<String> = conn.lrange(key("queue:mailers"), 0, -1).await.unwrap();
    assert_eq!(queued.len(), 1);
    let job: Value = serde_json::from_str(&queued[0]).unwrap();
    assert_eq!((job["class"].as_str(), job["wrapped"].as_str()), (Some(JOB_WRAPPER), Some("WelcomeJob")));
    assert_eq!((job["queue"].as_str(), job["retry"].as_bool()), (Some("mailers"), Some(true)));
    assert_eq!(job["jid"].as_str(), now.provider_job_id.as_deref());
    assert!(job["created_at"].is_f64() && job["enqueued_at"].is_f64(), "{job}");
    let payload = JobData::from_json(&job["args"][0].to_string()).unwrap();
    assert_eq!((payload.job_class.as_str(), payload.job_id.as_str()), ("WelcomeJob", now.job_id.as_str()));
    assert_eq!(payload.arguments, [Value::from("ada@example.com")]);
    assert_eq!(job["args"].as_array().unwrap().len(), 1, "args holds only the Active Job payload");

    let scheduled: Vec<(String, f64)> = conn.zrange_withscores(key("schedule"), 0, -1).await.unwrap();
    let job: Value = serde_json::from_str(&scheduled[0].0).unwrap();
    assert_eq!(job["jid"].as_str(), later.provider_job_id.as_deref());
    assert!(job.get("enqueued_at").is_none(), "a scheduled job is enqueued when due, as with Sidekiq");
    let due = later.scheduled_at.unwrap().timestamp_micros() as f64 / 1e6;
    assert!((scheduled[0].1 - due).abs() < 1e-5 && scheduled[0].1 >= due - 1e-6, "score {} for {due}", scheduled[0].1);

    let keys: Vec<String> = conn.keys(format!("*{}*", redis.prefix())).await.unwrap();
    let ours: Vec<&String> = keys.iter().filter(|k| k.contains(redis.prefix())).collect();
    assert!(ours.iter().all(|k| k.starts_with(redis.prefix())), "every key starts with the prefix: {ours:?}");
}

#[tokio::test]
async fn failures_fill_in_sidekiqs_retry_fields() {
    let Some((redis, _cleanup)) = support::adapter("failures_fill_in_sidekiqs_retry_fields").await else { return };
    let enqueued = runtime(&redis).perform_later(Welcome { address: "ada@example.com".into() }).await.unwrap();
    let jid = enqueued.provider_job_id.unwrap();
    let key = format!("{}retry", redis.prefix());
    let mut conn = redis.connection();

    let first = claim(&redis, "mailers", 10, Duration::from_secs(60)).await.remove(0);
    assert_eq!((first.ticket.id.as_str(), first.attempt), (jid.as_str(), 1));
    assert_eq!(redis.fail(&[failure(&first.ticket, 1, Some(Duration::ZERO))]).await.unwrap(), 1);
    let retries: Vec<String> = conn.zrange(&key, 0, -1).await.unwrap();
    let job: Value = serde_json::from_str(&retries[0]).unwrap();
    assert_eq!(
        (job["error_class"].as_str(), job["error_message"].as_str()),
        (Some("Net::SMTPServerBusy"), Some("try later"))
    );
    assert_eq!((job["retry_count"].as_u64(), job["attempts"].as_u64()), (Some(0), Some(1)));
    assert!(job["failed_at"].is_f64() && job.get("retried_at").is_none(), "{job}");
    assert_eq!(job["error_history"].as_array().map(Vec::len), Some(1));

    // Due at once: a claim promotes it (claims look at most every 50 ms) and runs it again.
    tokio::time::sleep(Duration::from_millis(60)).await;
    let second = claim(&redis, "mailers", 10, Duration::from_secs(60)).await.remove(0);
    assert_eq!((second.ticket.id.as_str(), second.attempt), (jid.as_str(), 2));
    assert_eq!(redis.fail(&[failure(&second.ticket, 2, None)]).await.unwrap(), 1);
    let dead: Vec<String> = conn.zrange(format!("{}dead", redis.prefix()), 0, -1).await.unwrap();
    let job: Value = serde_json::from_str(&dead[0]).unwrap();
    assert_eq!((job["retry_count"].as_u64(), job["attempts"].as_u64()), (Some(1), Some(2)));
    assert!(job["retried_at"].is_f64() && job["enqueued_at"].is_f64(), "{job}");
    redis.close().await.unwrap();
    let stats: (u64, u64) = (
        conn.get(format!("{}stat:processed", redis.prefix())).await.unwrap(),
        conn.get(format!("{}stat:failed", redis.prefix())).await.unwrap(),
    );
    assert_eq!(stats, (2, 2), "Sidekiq's counters count every run and every failure (added by heartbeats)");
}

#[tokio::test]
async fn a_dead_process_jobs_are_handed_back_by_another() {
    let Some((gone, _cleanup)) = support::adapter("a_dead_process_jobs_are_handed_back_by_another").await else {
        return;
    };
    let other = RedisAdapter::builder().url(support::url()).prefix(gone.prefix()).connect().await.unwrap();
    assert_ne!(gone.identity(), other.identity());
    let runtime = runtime(&gone);
    for address in ["a@x", "b@x", "c@x"] {
        runtime.perform_later(Welcome { address: address.into() }).await.unwrap();
    }
    let held = claim(&gone, "mailers", 2, Duration::from_secs(3600)).await;
    assert_eq!(held.len(), 2);
    assert_eq!(other.rescue_expired().await.unwrap(), 0, "a live process keeps its jobs, leases unexpired");

    // The process vanishes: its heartbeat stops and its entry is gone, as when its TTL runs out.
    // `close` does both; deleting the entry by hand would race with the heartbeat task of `gone`,
    // which may write it again at any time (its first beat may still be in flight).
    gone.close().await.unwrap();
    assert_eq!(other.rescue_expired().await.unwrap(), 2, "another process hands back every job it held");
    let counts = other.counts().await.unwrap();
    assert_eq!((counts.get("mailers", JobState::Ready), counts.get("mailers", JobState::Running)), (3, 0));
    for job in &held {
        let info = other.find(&job.ticket.id).await.unwrap().unwrap();
        assert_eq!((info.state, info.attempts), (JobState::Ready, 1), "the vanished claim's attempt counts");
    }
    let tickets: Vec<_> = held.iter().map(|j| j.ticket.clone()).collect();
    assert_eq!(gone.complete(&tickets).await.unwrap(), 0, "the vanished claims cannot complete");

    // Handed back to the front of the queue: they run next, before the job that never ran.
    let next = claim(&other, "mailers", 3, Duration::from_secs(60)).await;
    let ids: Vec<&str> = next.iter().map(|j| j.ticket.id.as_str()).collect();
    assert!(held.iter().all(|j| ids[..2].contains(&j.ticket.id.as_str())), "{ids:?}");
    other.close().await.unwrap();
}

/// Whether Sidekiq's Web UI lists the worker `id` (the `processes` set, or its entry).
async fn listed(redis: &RedisAdapter, id: &str) -> bool {
    let mut conn = redis.connection();
    let member: bool = conn.sismember(format!("{}processes", redis.prefix()), id).await.unwrap();
    let entry: bool = conn.exists(format!("{}{id}", redis.prefix())).await.unwrap();
    member || entry
}

fn process(id: &str) -> jobs_core::ProcessInfo {
    jobs_core::ProcessInfo {
        id: id.into(),
        hostname: "box".into(),
        pid: 1,
        version: "jobs".into(),
        queues: vec!["mailers".into()],
        concurrency: 1,
        busy: 0,
        started_at: chrono::Utc::now(),
        last_heartbeat: chrono::Utc::now(),
        state: jobs_core::ProcessState::Running,
    }
}

#[tokio::test]
async fn each_worker_leaves_sidekiqs_process_list_when_it_stops() {
    let Some((redis, _cleanup)) = support::adapter("each_worker_leaves_sidekiqs_process_list_when_it_stops").await
    else {
        return;
    };
    let ttl = Duration::from_secs(30);
    let (first, second) = (process("box:1:first"), process("box:1:second"));
    redis.beat_process(&first, ttl).await.unwrap();
    redis.beat_process(&second, ttl).await.unwrap();
    claim(&redis, "mailers", 1, Duration::from_secs(60)).await;
    let mut conn = redis.connection();
    let alive = format!("{}{}", redis.prefix(), redis.identity());
    assert!(listed(&redis, &first.id).await && listed(&redis, &second.id).await);
    assert!(conn.exists::<_, bool>(&alive).await.unwrap(), "the adapter's working set is protected");

    redis.worker_stopped(&first.id).await.unwrap();
    assert!(!listed(&redis, &first.id).await, "a stopped worker stays on Sidekiq's Busy page as a ghost");
    assert!(listed(&redis, &second.id).await, "the other worker stays listed");
    // A beat that lost the race with the stop lists it no more.
    redis.beat_process(&first, ttl).await.unwrap();
    assert!(!listed(&redis, &first.id).await, "a late beat listed the stopped worker again");
    assert!(conn.exists::<_, bool>(&alive).await.unwrap(), "a worker of the adapter still runs");

    // "test" claimed through this adapter as well: once it and the second stop, nothing is left.
    redis.worker_stopped("test").await.unwrap();
    redis.worker_stopped(&second.id).await.unwrap();
    assert!(!listed(&redis, &second.id).await);
    assert!(!conn.exists::<_, bool>(&alive).await.unwrap(), "the last stop drops the adapter's liveness");
}

#[tokio::test]
async fn no_prefix_by_default() {
    let redis = match RedisAdapter::connect(&support::url()).await {
        Ok(redis) => redis,
        Err(error) => {
            return jobs_conformance::unavailable::<()>("Redis", "no_prefix_by_default", error).unwrap_or(());
        }
    };
    assert_eq!(redis.prefix(), "", "keys are Sidekiq's own unless a prefix is given");
    assert!(redis.clear().await.is_err(), "clear refuses to empty a whole database");
}

#[tokio::test]
async fn an_unreachable_server_is_a_clear_error_that_hides_the_password() {
    let error = RedisAdapter::connect("redis://app:hunter2@127.0.0.1:1/0").await.unwrap_err().to_string();
    assert!(!error.contains("hunter2"), "{error}");
    assert!(error.contains("Redis"), "{error}");
    if cfg!(feature = "tls") {
        let error = RedisAdapter::connect("rediss://127.0.0.1:1").await.unwrap_err().to_string();
        assert!(!error.contains("feature"), "rediss:// is supported: {error}");
    }
}

#[tokio::test]
async fn next_due_is_the_earliest_of_the_schedule_and_retry_sets() {
    let Some((redis, _cleanup)) = support::adapter("next_due_is_the_earliest_of_the_schedule_and_retry_sets").await
    else {
        return;
    };
    let queues = ["mailers".to_owned()];
    assert_eq!(redis.next_due(&queues).await.unwrap(), None, "nothing waits");
    let runtime = runtime(&redis);
    Welcome::set()
        .runtime(&runtime)
        .wait(Duration::from_secs(600))
        .enqueue(Welcome { address: "a@x".into() })
        .await
        .unwrap();
    let job = runtime.perform_later(Welcome { address: "b@x".into() }).await.unwrap();
    let claimed = claim(&redis, "mailers", 1, Duration::from_secs(60)).await.remove(0);
    assert_eq!(Some(claimed.ticket.id.as_str()), job.provider_job_id.as_deref());
    redis.fail(&[failure(&claimed.ticket, 1, Some(Duration::from_secs(30)))]).await.unwrap();
    let due = redis.next_due(&queues).await.unwrap().expect("a retry waits");
    assert!(due > Duration::from_secs(25) && due <= Duration::from_secs(30), "{due:?}");
}
