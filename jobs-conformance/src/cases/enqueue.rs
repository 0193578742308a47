//! Enqueue and perform: the round trip, arguments, bulk enqueue.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use crate::Fixture;
use crate::env::{Env, Start, provider_id};
use crate::jobs::{Echo, Record};
use jobs_core::encoding::EncodeContext;
use jobs_core::{Job, JobState, PendingJob};

/// A job enqueued with a queue and a priority is stored ready, performed once by a worker on that
/// queue, sees its own id, backend id, queue, priority and first execution, and ends completed.
pub async fn enqueue_perform_round_trip(fixture: Fixture) {
    let env = Env::new(fixture);
    let enqueued = env.set::<Record>().queue("round-trip").priority(7).enqueue(Record::new("only")).await.unwrap();
    let id = provider_id(&enqueued);
    assert_eq!(enqueued.queue, "round-trip");

    let stored = env.find(&id).await;
    assert_eq!(
        (stored.state, stored.queue.as_str(), stored.priority, stored.attempts),
        (JobState::Ready, "round-trip", 7, 0)
    );
    let data = stored.data().expect("the stored payload decodes");
    assert_eq!((data.job_class.as_str(), data.job_id.as_str()), (Record::NAME, enqueued.job_id.as_str()));

    let worker = env.worker(&["round-trip"]).start();
    env.wait_for("the job to run", || env.probe.count("only") == 1).await;
    worker.shutdown().await.unwrap();

    let runs = env.probe.runs_of("only");
    assert_eq!(runs.len(), 1, "performed exactly once");
    let run = &runs[0];
    assert_eq!(run.job_id, enqueued.job_id);
    assert_eq!(run.provider_job_id.as_deref(), Some(id.as_str()));
    assert_eq!((run.queue.as_str(), run.priority, run.executions), ("round-trip", Some(7), 1));
    let done = env.find(&id).await;
    assert_eq!((done.state, done.attempts), (JobState::Completed, 1));
    assert!(done.errors.is_empty(), "a successful run records no error: {:?}", done.errors);
}

/// Arguments of every JSON shape come back equal, as JSON and as the decoded Rust values.
pub async fn argument_round_trip(fixture: Fixture) {
    let env = Env::new(fixture);
    let echo = Echo {
        text: "h\u{e9}llo \"w\u{f6}rld\"\n\t\u{1f389} <>&\\ end".to_owned(),
        big: u64::MAX,
        negative: i64::MIN,
        ratio: 0.1 + 0.2,
        flags: vec![true, false, true],
        nested: BTreeMap::from([("none".to_owned(), None), ("some".to_owned(), Some(vec![-1, 0, i32::MAX]))]),
        nothing: None,
    };
    let expected = echo.to_arguments(&EncodeContext::new()).unwrap();
    let id = env.enqueue("arguments", echo.clone()).await;
    assert_eq!(env.find(&id).await.data().unwrap().arguments, expected, "stored arguments are unchanged");

    let worker = env.worker(&["arguments"]).start();
    env.wait_for("the echo job to run", || env.probe.count("echo") == 1).await;
    worker.shutdown().await.unwrap();

    assert_eq!(env.probe.runs_of("echo")[0].arguments, expected, "the job sees its arguments as JSON, unchanged");
    assert_eq!(env.probe.echoes(), vec![echo], "the job decodes its arguments to equal values");
}

/// `perform_all_later` stores every job in one call: distinct backend ids, in order, each findable
/// with its own id, queue and schedule; a worker then performs each ready job once.
pub async fn enqueue_all_stores_every_job(fixture: Fixture) {
    let env = Env::new(fixture);
    assert!(env.adapter.enqueue_all(&[]).await.unwrap().is_empty(), "an empty batch stores nothing");

    let mut pending: Vec<PendingJob> = (0..30)
        .map(|n| {
            env.set::<Record>()
                .queue(if n % 2 == 0 { "bulk-a" } else { "bulk-b" })
                .build(Record::new(format!("bulk-{n}")))
        })
        .collect();
    pending.push(env.set::<Record>().queue("bulk-a").wait(Duration::from_secs(3600)).build(Record::new("bulk-later")));
    let handles = env.runtime.perform_all_later(pending).await.unwrap();
    assert_eq!(handles.len(), 31);
    let ids: Vec<String> = handles.iter().map(provider_id).collect();
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 31, "every job gets its own backend id: {ids:?}");

    for (n, (handle, id)) in handles.iter().zip(&ids).enumerate() {
        let info = env.find(id).await;
        let data = info.data().unwrap();
        assert_eq!(data.job_id, handle.job_id, "ids come back in the order of the batch");
        assert_eq!(info.queue, handle.queue);
        let expected = if n == 30 { JobState::Scheduled } else { JobState::Ready };
        assert_eq!(info.state, expected, "job {n} of the batch");
    }

    let worker = env.worker(&["bulk-a", "bulk-b"]).start();
    env.wait_for("every ready job of the batch to run", || env.probe.runs().len() >= 30).await;
    worker.shutdown().await.unwrap();
    for n in 0..30 {
        assert_eq!(env.probe.count(&format!("bulk-{n}")), 1, "job bulk-{n} ran once");
    }
    assert_eq!(env.probe.count("bulk-later"), 0, "the scheduled job of the batch waits for its time");
    assert_eq!(env.find(&ids[30]).await.state, JobState::Scheduled);
}
