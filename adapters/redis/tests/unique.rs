//! Unique jobs on Redis: enqueues racing on many connections, a key's time, its holder found
//! where it is now (running, blocked, done) one job at a time and in batches.

mod support;

use std::time::Duration;

use jobs_core::adapter::{Adapter, Backend, FlowStore, NewJob, SlotOutcome, UniqueOutcome, Uniqueness};
use jobs_core::{FlowKeys, Inspect, JobState};
use jobs_redis::RedisAdapter;
use jobs_redis::redis::AsyncCommands;
use support::flow::{acquire, claim, job, job_id, limited, unique};

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
    let until = chrono::Utc::now() + chrono::Duration::seconds(3);
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
    // The key expires at `until` (in whole milliseconds, by Redis's clock): a millisecond or two
    // past 3 s from here is rounding and the two clocks, not a longer hold.
    assert!(ttl > 0 && ttl <= 3050, "{ttl}");
    tokio::time::sleep(Duration::from_millis(ttl.unsigned_abs() + 100)).await;
    let third = redis.enqueue_unique(&[job("three", None, keys())], std::slice::from_ref(&rule)).await.unwrap();
    assert!(matches!(third[0], UniqueOutcome::Stored(Some(_))), "{third:?}");
    assert_eq!(redis.counts().await.unwrap().get("flow", JobState::Ready), 3, "{one} {retry}");
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
async fn a_batch_of_unique_jobs_finds_each_holder_where_it_is() {
    let Some((redis, _cleanup)) = support::adapter("a_batch_of_unique_jobs_finds_each_holder").await else { return };
    let keyed =
        |job_id: &str, key: &str| job(job_id, None, FlowKeys { unique: Some(key.into()), ..FlowKeys::default() });
    let later = |job_id: &str, key: &str| {
        let mut data = keyed(job_id, key).into_data();
        data.scheduled_at = Some(chrono::Utc::now() + chrono::Duration::hours(1));
        NewJob::new(data).unwrap()
    };
    // k-running and k-done are claimed (first in, first out); k-done completes; k-ready waits.
    let holders = [keyed("running", "k-running"), keyed("done", "k-done"), keyed("ready", "k-ready")];
    let rules: Vec<_> = ["k-running", "k-done", "k-ready"].iter().map(|k| unique(k)).collect();
    redis.enqueue_unique(&holders, &rules).await.unwrap();
    redis.enqueue_unique(&[later("scheduled", "k-scheduled")], &[unique("k-scheduled")]).await.unwrap();
    let claimed = claim(&redis, 2, Duration::from_secs(60)).await;
    assert_eq!(claimed.iter().map(job_id).collect::<Vec<_>>(), ["running", "done"]);
    redis.complete(&[claimed[1].ticket.clone()]).await.unwrap();

    // One at a time (a scan that stops where it finds the holder); a stored job takes its key.
    let keys = ["k-running", "k-done", "k-ready", "k-scheduled", "k-new"];
    let rules: Vec<_> = keys.iter().map(|key| unique(key)).collect();
    let mut one_by_one = Vec::new();
    for (key, rule) in keys.iter().zip(&rules) {
        let job = keyed(&format!("new-{key}"), key);
        one_by_one.push(redis.enqueue_unique(&[job], std::slice::from_ref(rule)).await.unwrap().remove(0));
    }
    let found = |s: &str| Some(s.to_owned());
    assert_eq!(holders_of(one_by_one), [found("running"), None, found("ready"), found("scheduled"), None]);
    // The same in one batch (an index of each structure): the keys freed went to the new jobs.
    let again: Vec<NewJob> = keys.iter().map(|key| keyed(&format!("again-{key}"), key)).collect();
    let outcomes = redis.enqueue_unique(&again, &rules).await.unwrap();
    let expected = [found("running"), found("new-k-done"), found("ready"), found("scheduled"), found("new-k-new")];
    assert_eq!(holders_of(outcomes), expected);
}

/// The job id of the holder each outcome names, `None` for a job stored.
fn holders_of(outcomes: Vec<UniqueOutcome>) -> Vec<Option<String>> {
    outcomes
        .into_iter()
        .map(|outcome| match outcome {
            UniqueOutcome::Duplicate { job_id, .. } => Some(job_id),
            UniqueOutcome::Stored(_) => None,
        })
        .collect()
}
