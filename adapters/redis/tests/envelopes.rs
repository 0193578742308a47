//! Envelopes that Active Job's Sidekiq adapter would not write: a field of the wrong type, text
//! that is not JSON, a plain Sidekiq job. None stalls a queue, loses its count of attempts, or
//! disappears from the inspector.

mod support;

use std::time::Duration;

use jobs::adapter::{Backend, ClaimParams, ClaimedJob, ErrorRecord, Failure};
use jobs::{Backoff, Inspect, JobState, ListParams, RetryPolicy, Runtime, Worker};
use jobs_redis::RedisAdapter;
use jobs_redis::redis::AsyncCommands;

/// Pushes `envelope` onto `queue` as a Sidekiq client would.
async fn push(redis: &RedisAdapter, queue: &str, envelope: &str) {
    let mut conn = redis.connection();
    let _: () = conn.sadd(format!("{}queues", redis.prefix()), queue).await.unwrap();
    let _: () = conn.lpush(format!("{}queue:{queue}", redis.prefix()), envelope).await.unwrap();
}

async fn claim(redis: &RedisAdapter, queue: &str) -> Vec<ClaimedJob> {
    let queues = [queue.to_owned()];
    let params = ClaimParams { queues: &queues, limit: 10, lease: Duration::from_secs(60), worker_id: "test" };
    redis.claim(params).await.unwrap()
}

fn failure(job: &ClaimedJob) -> Failure {
    let error = ErrorRecord {
        class: "ActiveJob::DeserializationError".into(),
        message: "bad".into(),
        attempt: job.attempt,
        at: chrono::Utc::now(),
    };
    Failure { ticket: job.ticket.clone(), error, retry_in: Some(Duration::ZERO), payload: None }
}

/// Runs a worker that retries once, without waiting, until `done` holds.
async fn work_until(redis: &RedisAdapter, queue: &str, mut done: impl AsyncFnMut() -> bool) {
    let runtime = Runtime::builder().adapter(redis.clone()).build().unwrap();
    let worker = Worker::builder()
        .runtime(&runtime)
        .queues([queue])
        .retry_policy(RetryPolicy::retries(1).backoff(Backoff::Fixed(Duration::ZERO)))
        .build()
        .unwrap()
        .start();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !done().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    worker.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_wrong_typed_field_keeps_the_rest_of_the_envelope() {
    let Some((redis, _cleanup)) = support::adapter("a_wrong_typed_field_keeps_the_rest_of_the_envelope").await else {
        return;
    };
    let cases = [
        ("args-not-a-list", r#"{"class":"X","queue":"odd","args":"notalist","jid":"args-not-a-list","retry":true}"#),
        ("string-retry-count", r#"{"class":"X","queue":"odd","args":[],"jid":"string-retry-count","retry_count":"2"}"#),
    ];
    for (jid, envelope) in cases {
        push(&redis, "odd", envelope).await;
        for attempt in 1..=3 {
            let job = claim(&redis, "odd").await.pop().expect("the job is claimable again");
            assert_eq!((job.ticket.id.as_str(), job.attempt), (jid, attempt), "{envelope}");
            assert_eq!(redis.fail(&[failure(&job)]).await.unwrap(), 1);
            tokio::time::sleep(Duration::from_millis(60)).await; // claims promote retries every 50 ms
        }
        let info = redis.find(jid).await.unwrap().expect("listed under its jid");
        assert_eq!((info.attempts, info.errors.len()), (3, 3), "{envelope}");
        let mut conn = redis.connection();
        let _: () = conn.del(format!("{}retry", redis.prefix())).await.unwrap();
    }
}

#[tokio::test]
async fn identical_entries_that_are_not_json_each_die_with_a_reason() {
    let Some((redis, _cleanup)) = support::adapter("identical_entries_that_are_not_json_each_die_with_a_reason").await
    else {
        return;
    };
    push(&redis, "junk", "not json").await;
    push(&redis, "junk", "not json").await;
    let dead = ListParams::default().state(JobState::Dead);
    work_until(&redis, "junk", async || redis.list(&dead).await.unwrap().jobs.len() >= 2).await;

    let dead = redis.list(&dead).await.unwrap().jobs;
    assert_eq!(dead.len(), 2, "{dead:?}");
    assert_ne!(dead[0].id, dead[1].id);
    for job in dead {
        assert_eq!(job.payload, "not json", "the dead entry shows what was stored");
        assert_eq!(job.errors.len(), 1, "{job:?}");
        assert!(!job.errors[0].message.is_empty(), "{job:?}");
    }
}

#[tokio::test]
async fn a_plain_sidekiq_job_is_listed_and_says_it_is_not_an_active_job() {
    let Some((redis, _cleanup)) =
        support::adapter("a_plain_sidekiq_job_is_listed_and_says_it_is_not_an_active_job").await
    else {
        return;
    };
    let envelope = r#"{"retry":true,"queue":"plain","class":"HardWorker","args":[1,"two"],"jid":"0123456789abcdef01234567","created_at":1700000000.5,"enqueued_at":1700000000.5}"#;
    push(&redis, "plain", envelope).await;
    let listed = redis.list(&ListParams::default()).await.unwrap().jobs;
    assert_eq!(listed.iter().map(|j| j.id.as_str()).collect::<Vec<_>>(), ["0123456789abcdef01234567"]);
    assert_eq!((listed[0].queue.as_str(), listed[0].state), ("plain", JobState::Ready));

    work_until(&redis, "plain", async || redis.counts().await.unwrap().get("plain", JobState::Dead) == 1).await;
    let dead = redis.find("0123456789abcdef01234567").await.unwrap().expect("the job is listed");
    let shown: serde_json::Value = serde_json::from_str(&dead.payload).expect("a plain Sidekiq job shows its envelope");
    assert_eq!((&shown["class"], &shown["args"]), (&"HardWorker".into(), &serde_json::json!([1, "two"])));
    let on_queue = redis.list(&ListParams::default().queue("plain")).await.unwrap().jobs;
    assert_eq!(on_queue.iter().map(|j| j.id.as_str()).collect::<Vec<_>>(), [dead.id.as_str()]);
    let message = &dead.errors.last().expect("an error").message;
    assert!(message.contains("HardWorker") && message.contains("not an Active Job"), "{message}");
}
