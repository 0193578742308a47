//! Flow control at the store: concurrency slots and blocked jobs, throttle counts, unique keys.
//! Each guarantee is checked with many concurrent callers, as several workers would make.

use std::collections::BTreeSet;
use std::time::Duration;

use futures_util::future::join_all;
use jobs_core::adapter::{FlowStore, NewJob, SlotOutcome, SlotParams, Ticket, UniqueOutcome, Uniqueness};
use jobs_core::{JobAction, JobState, ListParams, Target};

use super::leases::short_lease;
use crate::Fixture;
use crate::env::{Env, key_of};
use crate::jobs::Record;

const LONG: Duration = Duration::from_secs(3600);
const QUEUE: &str = "flow";

fn flow(env: &Env) -> &dyn FlowStore {
    env.adapter.flow().expect("a storing adapter keeps flow control")
}

fn slot<'a>(ticket: &'a Ticket, key: &'a str, limit: u32, hold: Duration) -> SlotParams<'a> {
    SlotParams { ticket, key, limit, hold, block: true }
}

/// Enqueues one job per `(key, priority)` on the flow queue and claims them all; returns the
/// tickets by key.
async fn claimed(env: &Env, jobs: &[(&str, i32)]) -> Vec<(String, Ticket)> {
    for (key, priority) in jobs {
        env.set::<Record>().queue(QUEUE).priority(*priority).enqueue(Record::new(*key)).await.expect("enqueue");
    }
    let claimed = env.claim(QUEUE, jobs.len(), LONG).await;
    assert_eq!(claimed.len(), jobs.len(), "every job is claimed");
    claimed.iter().map(|job| (key_of(job), job.ticket.clone())).collect()
}

fn ticket<'a>(tickets: &'a [(String, Ticket)], key: &str) -> &'a Ticket {
    &tickets.iter().find(|(k, _)| k == key).expect("a claimed job").1
}

/// At most `limit` jobs hold a key's slots; the others block (given back their attempt, never
/// claimed), and each release readies the first blocked job by priority, then FIFO. Taking a
/// slot again is idempotent; a stale ticket changes nothing; without blocking, a full key
/// answers `Full` and the job keeps running.
pub async fn slots_hold_the_limit_and_block_the_rest(fixture: Fixture) {
    let env = Env::new(fixture);
    let flow = flow(&env);
    let tickets = claimed(&env, &[("a", 0), ("b", 0), ("d", 1), ("e", 1), ("c", 5), ("x", 9)]).await;
    let take = |key: &str| flow.acquire_slot(slot(ticket(&tickets, key), "account/1", 2, LONG));
    assert_eq!(take("a").await.unwrap(), SlotOutcome::Acquired);
    assert_eq!(take("b").await.unwrap(), SlotOutcome::Acquired);
    assert_eq!(take("a").await.unwrap(), SlotOutcome::Acquired, "a holder taking its slot again keeps it");
    for key in ["c", "d", "e"] {
        assert_eq!(take(key).await.unwrap(), SlotOutcome::Blocked, "job {key} blocks: both slots are taken");
    }
    let mut full = slot(ticket(&tickets, "x"), "account/1", 2, LONG);
    full.block = false;
    assert_eq!(flow.acquire_slot(full).await.unwrap(), SlotOutcome::Full);
    let x = ticket(&tickets, "x");
    assert_eq!(env.find(&x.id).await.state, JobState::Running, "a job answered Full keeps running");
    let stale = Ticket { id: x.id.clone(), token: x.token + 1_000 };
    assert_eq!(flow.acquire_slot(slot(&stale, "other", 5, LONG)).await.unwrap(), SlotOutcome::Stale);
    assert_eq!(flow.acquire_slot(slot(x, "other", 5, LONG)).await.unwrap(), SlotOutcome::Acquired, "keys are apart");

    for key in ["c", "d", "e"] {
        let info = env.find(&ticket(&tickets, key).id).await;
        assert_eq!((info.state, info.attempts), (JobState::Blocked, 0), "blocked job {key} gets its attempt back");
    }
    assert!(env.claim(QUEUE, 10, LONG).await.is_empty(), "blocked jobs are never claimed");
    let a = ticket(&tickets, "a");
    assert!(!flow.release_slot("account/1", ticket(&tickets, "c")).await.unwrap(), "c holds no slot");
    assert!(!flow.release_slot("account/2", a).await.unwrap(), "a holds no slot of another key");
    assert_eq!(env.find(&ticket(&tickets, "d").id).await.state, JobState::Blocked, "a release of nothing readies none");

    let mut order = Vec::new();
    for holder in [a, ticket(&tickets, "b")] {
        assert!(flow.release_slot("account/1", holder).await.unwrap(), "the holder's release frees its slot");
        assert!(!flow.release_slot("account/1", holder).await.unwrap(), "a slot is freed once");
        let ready = env.claim(QUEUE, 10, LONG).await;
        assert_eq!(ready.len(), 1, "each release readies one blocked job");
        assert_eq!(ready[0].attempt, 1, "the blocked claim was not counted");
        order.push(key_of(&ready[0]));
        assert_eq!(
            flow.acquire_slot(slot(&ready[0].ticket, "account/1", 2, LONG)).await.unwrap(),
            SlotOutcome::Acquired
        );
    }
    assert_eq!(order, ["d", "e"], "unblocked by priority (d, e before c), then FIFO (d before e)");
    assert_eq!(env.find(&ticket(&tickets, "c").id).await.state, JobState::Blocked);
}

/// Forty claims racing for three slots of one key: exactly three take one and the rest block;
/// three releases at once ready exactly three of them.
pub async fn concurrent_takes_never_exceed_the_limit(fixture: Fixture) {
    let env = Env::new(fixture);
    let flow = flow(&env);
    let jobs: Vec<(String, i32)> = (0..40).map(|n| (format!("job-{n}"), 0)).collect();
    let names: Vec<(&str, i32)> = jobs.iter().map(|(key, priority)| (key.as_str(), *priority)).collect();
    let tickets = claimed(&env, &names).await;
    let outcomes = join_all(tickets.iter().map(|(_, ticket)| flow.acquire_slot(slot(ticket, "shared", 3, LONG)))).await;
    let outcomes: Vec<SlotOutcome> = outcomes.into_iter().map(|outcome| outcome.expect("acquire_slot")).collect();
    let holders: Vec<&Ticket> = tickets
        .iter()
        .zip(&outcomes)
        .filter(|(_, outcome)| **outcome == SlotOutcome::Acquired)
        .map(|((_, ticket), _)| ticket)
        .collect();
    assert_eq!(holders.len(), 3, "three of forty take a slot: {outcomes:?}");
    assert_eq!(outcomes.iter().filter(|o| **o == SlotOutcome::Blocked).count(), 37);
    let blocked = env.walk(ListParams::new().state(JobState::Blocked).limit(7)).await;
    assert_eq!(blocked.len(), 37, "the blocked jobs are listed as blocked, page by page");

    let freed = join_all(holders.iter().map(|ticket| flow.release_slot("shared", ticket))).await;
    assert!(freed.into_iter().all(|freed| freed.expect("release_slot")));
    let ready = env.claim(QUEUE, 40, LONG).await;
    assert_eq!(ready.len(), 3, "three releases ready three blocked jobs");
    let retaken = join_all(ready.iter().map(|job| flow.acquire_slot(slot(&job.ticket, "shared", 3, LONG)))).await;
    assert!(retaken.into_iter().all(|outcome| outcome.expect("acquire_slot") == SlotOutcome::Acquired));
}

/// A slot its holder never released (a worker that died) frees once its hold time passes, and
/// the expiry readies the job blocked on it; before that, nothing changes.
pub async fn expired_slots_free_their_blocked_jobs(fixture: Fixture) {
    let env = Env::new(fixture);
    let flow = flow(&env);
    let hold = short_lease(&env);
    let tickets = claimed(&env, &[("lost", 0), ("waiting", 0)]).await;
    let lost = ticket(&tickets, "lost");
    assert_eq!(flow.acquire_slot(slot(lost, "solo", 1, hold)).await.unwrap(), SlotOutcome::Acquired);
    let waiting = &ticket(&tickets, "waiting").id;
    assert_eq!(
        flow.acquire_slot(slot(ticket(&tickets, "waiting"), "solo", 1, hold)).await.unwrap(),
        SlotOutcome::Blocked
    );
    assert_eq!(flow.expire_slots().await.unwrap(), 0, "no slot has expired yet");
    assert_eq!(env.find(waiting).await.state, JobState::Blocked);

    env.outlive(hold).await;
    let mut readied = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while readied == 0 && tokio::time::Instant::now() < deadline {
        readied += flow.expire_slots().await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(readied, 1, "the expired slot readies its blocked job");
    let again = env.claim_one(QUEUE, LONG).await;
    assert_eq!(&again.ticket.id, waiting);
    assert_eq!(flow.acquire_slot(slot(&again.ticket, "solo", 1, LONG)).await.unwrap(), SlotOutcome::Acquired);
}

/// A slot is held under the claim that took it. A job whose lease was taken away (its worker
/// alive but cut off, frozen, or starved of heartbeats) is rescued and claimed again, and the
/// rerun takes the job's slot again: from then on the stale run's release frees nothing — the
/// key keeps its one holder and a third job still blocks — and only the rerun's release frees the
/// slot (and readies the blocked job).
pub async fn a_stale_run_cannot_release_its_rerun_slot(fixture: Fixture) {
    let env = Env::new(fixture);
    let flow = flow(&env);
    let lease = short_lease(&env);
    let rerun = env.enqueue(QUEUE, Record::new("rerun")).await;
    let stale = env.claim_one(QUEUE, lease).await.ticket;
    assert_eq!(flow.acquire_slot(slot(&stale, "fenced", 1, LONG)).await.unwrap(), SlotOutcome::Acquired);
    env.outlive(lease).await;
    env.rescue(1).await;
    let current = env.claim_one(QUEUE, LONG).await.ticket;
    assert_eq!(current.id, rerun, "the rescued job is claimed again");
    assert_ne!(current.token, stale.token, "under a new claim");
    assert_eq!(
        flow.acquire_slot(slot(&current, "fenced", 1, LONG)).await.unwrap(),
        SlotOutcome::Acquired,
        "the rerun takes its job's slot again"
    );

    assert!(!flow.release_slot("fenced", &stale).await.unwrap(), "the stale run's release frees nothing");
    let third = env.enqueue(QUEUE, Record::new("third")).await;
    let waiting = env.claim_one(QUEUE, LONG).await.ticket;
    assert_eq!(waiting.id, third);
    assert_eq!(
        flow.acquire_slot(slot(&waiting, "fenced", 1, LONG)).await.unwrap(),
        SlotOutcome::Blocked,
        "the rerun still holds the key's one slot"
    );
    assert!(env.claim(QUEUE, 10, LONG).await.is_empty(), "the stale release readied no blocked job");

    assert!(flow.release_slot("fenced", &current).await.unwrap(), "the rerun's release frees the slot");
    assert!(!flow.release_slot("fenced", &current).await.unwrap(), "a slot is freed once");
    let ready = env.claim_one(QUEUE, LONG).await;
    assert_eq!(ready.ticket.id, third, "the rerun's release readies the blocked job");
    assert_eq!(flow.acquire_slot(slot(&ready.ticket, "fenced", 1, LONG)).await.unwrap(), SlotOutcome::Acquired);
}

/// Blocked jobs are counted and listed as blocked; an operator can run one now (it is ready
/// again, and blocks again if the key is still full) or discard it (to the dead set).
pub async fn blocked_jobs_show_and_take_actions(fixture: Fixture) {
    let env = Env::new(fixture);
    let flow = flow(&env);
    let tickets = claimed(&env, &[("holder", 0), ("kept", 0), ("dropped", 0)]).await;
    for key in ["holder", "kept", "dropped"] {
        flow.acquire_slot(slot(ticket(&tickets, key), "acted", 1, LONG)).await.unwrap();
    }
    let counts = env.inspector().counts().await.unwrap();
    assert_eq!(counts.get(QUEUE, JobState::Blocked), 2, "counted as blocked: {counts:?}");
    assert_eq!(counts.get(QUEUE, JobState::Ready), 0, "blocked jobs are not ready");
    let (kept, dropped) = (ticket(&tickets, "kept").id.clone(), ticket(&tickets, "dropped").id.clone());
    let applied = env.inspector().apply(JobAction::Discard, &Target::Ids(vec![dropped.clone()])).await.unwrap();
    assert_eq!(applied, 1);
    assert_eq!(env.find(&dropped).await.state, JobState::Dead);
    assert_eq!(env.inspector().apply(JobAction::RunNow, &Target::Ids(vec![kept.clone()])).await.unwrap(), 1);
    let claimed = env.claim_one(QUEUE, LONG).await;
    assert_eq!(claimed.ticket.id, kept, "run now readies a blocked job");
    assert_eq!(
        flow.acquire_slot(slot(&claimed.ticket, "acted", 1, LONG)).await.unwrap(),
        SlotOutcome::Blocked,
        "the limit still holds for a job run now"
    );
    assert!(flow.release_slot("acted", ticket(&tickets, "holder")).await.unwrap());
    assert_eq!(env.claim_one(QUEUE, LONG).await.ticket.id, kept, "the discarded job is not readied; the kept one is");
}

/// Fifty starts counted at once for one key and window get fifty different counts, 1 to 50;
/// another window and another key count from 1.
pub async fn throttle_counts_are_atomic(fixture: Fixture) {
    let env = Env::new(fixture);
    let flow = flow(&env);
    let ttl = Duration::from_secs(60);
    let counts = join_all((0..50).map(|_| flow.count_start("api/acme", 7, ttl))).await;
    let counts: BTreeSet<u64> = counts.into_iter().map(|count| count.expect("count_start")).collect();
    assert_eq!(counts, (1..=50).collect::<BTreeSet<u64>>());
    assert_eq!(flow.count_start("api/acme", 8, ttl).await.unwrap(), 1, "a new window counts from 1");
    assert_eq!(flow.count_start("api/other", 7, ttl).await.unwrap(), 1, "keys count apart");
    assert_eq!(flow.count_start("api/acme", 7, ttl).await.unwrap(), 51);
}

async fn unique_job(env: &Env, key: &str, priority: i32) -> NewJob {
    let data = env.data(env.set::<Record>().queue(QUEUE).priority(priority).build(Record::new(key))).await;
    NewJob::new(data).expect("a payload encodes")
}

fn rule(key: &str) -> Option<Uniqueness> {
    let states = vec![JobState::Scheduled, JobState::Ready, JobState::Blocked, JobState::Running, JobState::Retrying];
    Some(Uniqueness { key: key.to_owned(), states, until: None })
}

fn stored(outcome: &UniqueOutcome) -> String {
    match outcome {
        UniqueOutcome::Stored(Some(id)) => id.clone(),
        other => panic!("expected the job to be stored with an id, got {other:?}"),
    }
}

/// Fifty enqueues of the same unique key at once store exactly one job; the others are told
/// they are duplicates of it. In one batch, a second job with a key is a duplicate of the first.
pub async fn unique_enqueues_store_one_of_many(fixture: Fixture) {
    let env = Env::new(fixture);
    let flow = flow(&env);
    let mut jobs = Vec::new();
    for n in 0..50 {
        jobs.push(unique_job(&env, &format!("race-{n}"), 0).await);
    }
    let rules = [rule("report/2026-12")];
    let outcomes = join_all(jobs.iter().map(|job| flow.enqueue_unique(std::slice::from_ref(job), &rules))).await;
    let outcomes: Vec<UniqueOutcome> = outcomes.into_iter().map(|o| o.expect("enqueue_unique").remove(0)).collect();
    let winners: Vec<usize> = (0..50).filter(|n| matches!(outcomes[*n], UniqueOutcome::Stored(_))).collect();
    assert_eq!(winners.len(), 1, "exactly one of fifty is stored: {outcomes:?}");
    let winner = &jobs[winners[0]].data().job_id;
    let winner_id = stored(&outcomes[winners[0]]);
    for outcome in &outcomes {
        if let UniqueOutcome::Duplicate { job_id, provider_job_id } = outcome {
            assert_eq!((job_id, provider_job_id.as_ref()), (winner, Some(&winner_id)), "a duplicate names the holder");
        }
    }
    assert_eq!(env.walk(ListParams::new().queue(QUEUE).limit(100)).await.len(), 1, "one job is stored");

    let batch =
        [unique_job(&env, "first", 0).await, unique_job(&env, "second", 0).await, unique_job(&env, "free", 0).await];
    let outcomes = flow.enqueue_unique(&batch, &[rule("batch"), rule("batch"), None]).await.unwrap();
    let first = stored(&outcomes[0]);
    assert_eq!(
        outcomes[1],
        UniqueOutcome::Duplicate { job_id: batch[0].data().job_id.clone(), provider_job_id: Some(first) },
        "a duplicate within the batch names the batch's first job with the key"
    );
    stored(&outcomes[2]);
}

/// A unique key frees once its holder leaves the named states (here: it completes), or once its
/// `until` passes; a job carrying the holder's own `job_id` (a retry) is never its duplicate; a
/// holder in a state the rule does not name does not hold the key.
pub async fn unique_keys_free_when_the_holder_moves_on(fixture: Fixture) {
    let env = Env::new(fixture);
    let flow = flow(&env);
    let holder = unique_job(&env, "holder", 0).await;
    let holder_id = stored(&flow.enqueue_unique(std::slice::from_ref(&holder), &[rule("sync")]).await.unwrap()[0]);
    let later = unique_job(&env, "later", 0).await;
    let outcome = flow.enqueue_unique(std::slice::from_ref(&later), &[rule("sync")]).await.unwrap();
    assert!(matches!(outcome[0], UniqueOutcome::Duplicate { .. }), "the key is held while the job is ready");

    let mut retry = unique_job(&env, "retry", 0).await.into_data();
    retry.job_id = holder.data().job_id.clone();
    let retry = NewJob::new(retry).unwrap();
    let retry_id = stored(&flow.enqueue_unique(std::slice::from_ref(&retry), &[rule("sync")]).await.unwrap()[0]);
    assert_ne!(retry_id, holder_id, "a retry of the holder is stored, not a duplicate");

    let only_scheduled = Some(Uniqueness { states: vec![JobState::Scheduled], ..rule("sync").unwrap() });
    let outcome = flow.enqueue_unique(std::slice::from_ref(&later), &[only_scheduled]).await.unwrap();
    let unscheduled = stored(&outcome[0]);

    let claimed = env.claim(QUEUE, 10, LONG).await;
    assert_eq!(claimed.len(), 3, "holder, retry and the job stored under the narrower rule");
    let tickets: Vec<Ticket> = claimed.iter().map(|job| job.ticket.clone()).collect();
    let running = unique_job(&env, "while running", 0).await;
    let outcome = flow.enqueue_unique(std::slice::from_ref(&running), &[rule("sync")]).await.unwrap();
    assert!(
        matches!(&outcome[0], UniqueOutcome::Duplicate { provider_job_id: Some(id), .. } if *id == unscheduled),
        "the key's latest holder is running: {outcome:?}"
    );
    env.backend().complete(&tickets).await.unwrap();
    let after = unique_job(&env, "after", 0).await;
    stored(&flow.enqueue_unique(std::slice::from_ref(&after), &[rule("sync")]).await.unwrap()[0]);

    let window =
        Some(Uniqueness { until: Some(env.runtime.now() + chrono::Duration::seconds(2)), ..rule("daily").unwrap() });
    let timed = unique_job(&env, "timed", 0).await;
    stored(&flow.enqueue_unique(std::slice::from_ref(&timed), std::slice::from_ref(&window)).await.unwrap()[0]);
    let again = unique_job(&env, "again", 0).await;
    let outcome = flow.enqueue_unique(std::slice::from_ref(&again), &[rule("daily")]).await.unwrap();
    assert!(matches!(outcome[0], UniqueOutcome::Duplicate { .. }), "held until `until`");
    env.outlive(Duration::from_secs(2)).await;
    let expired = unique_job(&env, "expired", 0).await;
    stored(&flow.enqueue_unique(std::slice::from_ref(&expired), &[rule("daily")]).await.unwrap()[0]);
}
