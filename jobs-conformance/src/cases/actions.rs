//! Acting on jobs: retry, run now, discard and delete, by id and by filter; purging.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::Fixture;
use crate::cases::listing::halfway;
use crate::env::{Env, provider_id};
use crate::jobs::Record;
use jobs_core::adapter::ClaimedJob;
use jobs_core::{JobAction, JobFilter, JobState, Target};

const LEASE: Duration = Duration::from_secs(600);
const HOUR: Duration = Duration::from_secs(3600);

/// One job in each state on one queue.
struct Spread {
    ids: BTreeMap<JobState, String>,
    running: ClaimedJob,
}

async fn spread(env: &Env, queue: &str) -> Spread {
    let backend = env.backend();
    let mut ids = BTreeMap::new();
    ids.insert(JobState::Running, env.enqueue(queue, Record::new(format!("{queue}-running"))).await);
    let running = env.claim_one(queue, LEASE).await;
    ids.insert(JobState::Retrying, env.enqueue(queue, Record::new(format!("{queue}-retrying"))).await);
    let claim = env.claim_one(queue, LEASE).await;
    assert_eq!(backend.fail(&[env.failure(&claim.ticket, 1, "try again", Some(HOUR))]).await.unwrap(), 1);
    ids.insert(JobState::Dead, env.enqueue(queue, Record::new(format!("{queue}-dead"))).await);
    let claim = env.claim_one(queue, LEASE).await;
    assert_eq!(backend.fail(&[env.failure(&claim.ticket, 1, "gave up", None)]).await.unwrap(), 1);
    ids.insert(JobState::Completed, env.enqueue(queue, Record::new(format!("{queue}-completed"))).await);
    let claim = env.claim_one(queue, LEASE).await;
    assert_eq!(backend.complete(std::slice::from_ref(&claim.ticket)).await.unwrap(), 1);
    ids.insert(JobState::Ready, env.enqueue(queue, Record::new(format!("{queue}-ready"))).await);
    let scheduled = env.set::<Record>().queue(queue).wait(HOUR).enqueue(Record::new(format!("{queue}-scheduled")));
    ids.insert(JobState::Scheduled, provider_id(&scheduled.await.unwrap()));
    for (state, id) in &ids {
        assert_eq!(env.find(id).await.state, *state, "the {state} job of {queue}");
    }
    Spread { ids, running }
}

/// Checks what `action` did to `spread`, having changed `changed` jobs: exactly the jobs in a
/// state it applies to changed, as it says; the others, the running one above all, did not.
async fn check(env: &Env, action: JobAction, spread: &Spread, changed: u64) {
    let applies = spread.ids.keys().filter(|state| action.applies_to(**state)).count();
    assert_eq!(changed, applies as u64, "{action:?} returns how many jobs it changed");
    for (state, id) in &spread.ids {
        let after = env.inspector().find(id).await.unwrap();
        if !action.applies_to(*state) {
            let after = after.unwrap_or_else(|| panic!("{action:?} removed the {state} job"));
            assert_eq!(after.state, *state, "{action:?} changed the {state} job: {after:?}");
            continue;
        }
        match action {
            JobAction::Delete => assert_eq!(after, None, "{action:?} left the {state} job"),
            JobAction::Retry | JobAction::RunNow => {
                let after = after.unwrap_or_else(|| panic!("{action:?} removed the {state} job"));
                assert_eq!(after.state, JobState::Ready, "{action:?} on the {state} job: {after:?}");
                let errors = usize::from(*state != JobState::Scheduled);
                assert_eq!(after.errors.len(), errors, "{action:?} keeps the errors of the {state} job");
            }
            JobAction::Discard => {
                let after = after.unwrap_or_else(|| panic!("{action:?} removed the {state} job"));
                assert_eq!(after.state, JobState::Dead, "{action:?} on the {state} job: {after:?}");
                let error = after.errors.last().expect("a discarded job records why");
                assert_eq!(
                    (error.class.as_str(), error.message.as_str()),
                    (JobAction::DISCARDED, JobAction::DISCARDED_MESSAGE)
                );
                assert!(after.finished_at.is_some(), "a discarded job is finished: {after:?}");
            }
        }
    }
    let ticket = std::slice::from_ref(&spread.running.ticket);
    assert_eq!(env.backend().complete(ticket).await.unwrap(), 1, "{action:?} disturbed the running job's claim");
}

/// `apply` with [`Target::Ids`] changes exactly the listed jobs in a state the action applies to
/// (see [`JobAction::applies_to`]), never a running one, skips unknown ids, and returns how many
/// it changed.
pub async fn apply_each_action_to_ids(fixture: Fixture) {
    let env = Env::new(fixture);
    let bystanders = spread(&env, "apply-bystander").await;
    for action in JobAction::ALL {
        let spread = spread(&env, &format!("apply-ids-{}", action.as_str())).await;
        let mut ids: Vec<String> = spread.ids.values().cloned().collect();
        ids.push(spread.ids[&JobState::Ready].clone());
        ids.extend(["999999999".to_owned(), "no-such-job".to_owned()]);
        let changed = env.inspector().apply(action, &Target::Ids(ids)).await.unwrap();
        check(&env, action, &spread, changed).await;
    }
    assert_eq!(env.inspector().apply(JobAction::Delete, &Target::Ids(Vec::new())).await.unwrap(), 0);
    for (state, id) in &bystanders.ids {
        assert_eq!(env.find(id).await.state, *state, "a job no target named changed");
    }
}

/// `apply` with [`Target::Filter`] changes exactly the matching jobs in a state the action
/// applies to, never a running one, and returns how many it changed.
pub async fn apply_each_action_to_a_filter(fixture: Fixture) {
    let env = Env::new(fixture);
    let bystanders = spread(&env, "filter-bystander").await;
    for action in JobAction::ALL {
        let queue = format!("apply-filter-{}", action.as_str());
        let spread = spread(&env, &queue).await;
        let changed = env.inspector().apply(action, &Target::Filter(JobFilter::new().queue(&queue))).await.unwrap();
        check(&env, action, &spread, changed).await;
    }
    // A filter on state as well: only the dead job of the queue.
    let spread = spread(&env, "apply-filter-dead").await;
    let dead_only = Target::Filter(JobFilter::new().queue("apply-filter-dead").state(JobState::Dead));
    assert_eq!(env.inspector().apply(JobAction::Delete, &dead_only).await.unwrap(), 1);
    for (state, id) in &spread.ids {
        let after = env.inspector().find(id).await.unwrap();
        assert_eq!(after.is_none(), *state == JobState::Dead, "deleting dead jobs by filter, the {state} job");
    }
    for (state, id) in &bystanders.ids {
        assert_eq!(env.find(id).await.state, *state, "a job no filter matched changed");
    }
}

/// A discarded job is dead with an error of class [`JobAction::DISCARDED`], claimable by no one,
/// until `Retry` brings it back; `RunNow` makes a scheduled or retrying job claimable at once.
pub async fn discard_retry_and_run_now(fixture: Fixture) {
    let env = Env::new(fixture);
    let (backend, inspector) = (env.backend(), env.inspector());

    let ready = env.enqueue("act", Record::new("ready")).await;
    let target = Target::Ids(vec![ready.clone()]);
    assert_eq!(inspector.apply(JobAction::Discard, &target).await.unwrap(), 1);
    assert_eq!(inspector.apply(JobAction::Discard, &target).await.unwrap(), 0, "a dead job is not discarded again");
    assert!(env.claim("act", 10, LEASE).await.is_empty(), "a discarded job is not claimed");
    assert_eq!(inspector.apply(JobAction::Retry, &target).await.unwrap(), 1);
    let claim = env.claim_one("act", LEASE).await;
    assert_eq!(claim.ticket.id, ready);
    assert_eq!(backend.complete(std::slice::from_ref(&claim.ticket)).await.unwrap(), 1);
    let done = env.find(&ready).await;
    assert_eq!(done.state, JobState::Completed);
    assert_eq!(done.errors.iter().map(|e| e.class.as_str()).collect::<Vec<_>>(), [JobAction::DISCARDED]);

    let scheduled = env.set::<Record>().queue("act").wait(HOUR).enqueue(Record::new("scheduled")).await.unwrap();
    let scheduled = provider_id(&scheduled);
    assert!(env.claim("act", 10, LEASE).await.is_empty(), "a scheduled job waits");
    assert_eq!(inspector.apply(JobAction::RunNow, &Target::Ids(vec![scheduled.clone()])).await.unwrap(), 1);
    let claim = env.claim_one("act", LEASE).await;
    assert_eq!((claim.ticket.id.as_str(), claim.attempt), (scheduled.as_str(), 1), "run now: claimable at once");
    assert_eq!(backend.fail(&[env.failure(&claim.ticket, 1, "again", Some(HOUR))]).await.unwrap(), 1);
    assert_eq!(env.find(&scheduled).await.state, JobState::Retrying);
    assert!(env.claim("act", 10, LEASE).await.is_empty(), "a retrying job waits");
    let retrying = Target::Filter(JobFilter::new().state(JobState::Retrying));
    assert_eq!(inspector.apply(JobAction::RunNow, &retrying).await.unwrap(), 1);
    let claim = env.claim_one("act", LEASE).await;
    assert_eq!((claim.ticket.id.as_str(), claim.attempt), (scheduled.as_str(), 2), "run now: the retry at once");
    assert_eq!(backend.complete(std::slice::from_ref(&claim.ticket)).await.unwrap(), 1);
}

/// Purging: `apply(Delete, Filter(state = Completed, finished_before = T))` deletes the jobs
/// completed before T, and nothing else.
pub async fn purge_completed_before(fixture: Fixture) {
    let env = Env::new(fixture);
    let backend = env.backend();
    let old: Vec<String> = enqueue_many(&env, "purge", "old", 3).await;
    let claimed = env.claim("purge", 3, LEASE).await;
    let tickets: Vec<_> = claimed.iter().map(|c| c.ticket.clone()).collect();
    assert_eq!(backend.complete(&tickets).await.unwrap(), 3);
    let dead = env.enqueue("purge", Record::new("dead")).await;
    let claim = env.claim_one("purge", LEASE).await;
    assert_eq!(backend.fail(&[env.failure(&claim.ticket, 1, "gave up", None)]).await.unwrap(), 1);

    env.pass(env.gap()).await;
    let recent: Vec<String> = enqueue_many(&env, "purge", "recent", 2).await;
    let claimed = env.claim("purge", 2, LEASE).await;
    let tickets: Vec<_> = claimed.iter().map(|c| c.ticket.clone()).collect();
    assert_eq!(backend.complete(&tickets).await.unwrap(), 2);

    let finished = |info: jobs_core::JobInfo| info.finished_at.expect("a completed job has its finished_at");
    let mut last_old = finished(env.find(&old[0]).await);
    for id in &old[1..] {
        last_old = last_old.max(finished(env.find(id).await));
    }
    let mut first_recent = finished(env.find(&recent[0]).await);
    for id in &recent[1..] {
        first_recent = first_recent.min(finished(env.find(id).await));
    }
    let before = halfway(last_old, first_recent);
    let purge = Target::Filter(JobFilter::new().state(JobState::Completed).finished_before(before));
    assert_eq!(env.inspector().apply(JobAction::Delete, &purge).await.unwrap(), 3);
    for id in &old {
        assert_eq!(env.inspector().find(id).await.unwrap(), None, "a job completed before T is purged");
    }
    for id in &recent {
        assert_eq!(env.find(id).await.state, JobState::Completed, "a job completed after T stays");
    }
    assert_eq!(env.find(&dead).await.state, JobState::Dead, "a dead job is no completed job");
    assert_eq!(env.inspector().apply(JobAction::Delete, &purge).await.unwrap(), 0, "nothing left to purge");
}

/// Enqueues `count` jobs named `prefix-n` on `queue` one by one; returns their ids.
async fn enqueue_many(env: &Env, queue: &str, prefix: &str, count: usize) -> Vec<String> {
    let mut ids = Vec::with_capacity(count);
    for n in 0..count {
        ids.push(env.enqueue(queue, Record::new(format!("{prefix}-{n}"))).await);
    }
    ids
}
