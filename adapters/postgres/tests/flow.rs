//! Concurrency slots and throttle counts in the schema: limits, blocking and unblocking in
//! order, the race of a release with a block, expiry of slots whose holder died, window counts.

mod support;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jobs_core::adapter::{Adapter, Backend, FlowStore, SlotOutcome, SlotParams, Ticket};
use jobs_core::{Inspect, JobAction, JobState, ListParams, Target};
use jobs_postgres::PostgresAdapter;
use support::{Count, Seen, TestSchema, claim, connection, new_job, runtime, wait_until, worker};

const LEASE: Duration = Duration::from_secs(60);
const HOLD: Duration = Duration::from_secs(300);

fn slot<'a>(ticket: &'a Ticket, key: &'a str, limit: u32, block: bool) -> SlotParams<'a> {
    SlotParams { ticket, key, limit, hold: HOLD, block }
}

async fn state(postgres: &PostgresAdapter, ticket: &Ticket) -> JobState {
    postgres.find(&ticket.id).await.unwrap().expect("the job is stored").state
}

async fn states<const N: usize>(
    postgres: &PostgresAdapter,
    running: &HashMap<String, Ticket>,
    ids: [&str; N],
) -> Vec<JobState> {
    let mut states = Vec::new();
    for id in ids {
        states.push(state(postgres, &running[id]).await);
    }
    states
}

/// How many slots of `key` are taken, read behind the adapter's back.
async fn slots_taken(schema: &str, key: &str) -> i64 {
    let sql = format!("SELECT count(*) FROM \"{schema}\".concurrency_slots WHERE key = $1");
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(key).fetch_one(&mut connection().await).await.unwrap()
}

#[tokio::test]
async fn a_full_key_blocks_jobs_and_each_release_readies_the_next_by_priority_then_fifo() {
    let Some(schema) = TestSchema::new("a_full_key_blocks_jobs").await else { return };
    let postgres = schema.adapter().await;
    let jobs = [new_job("holder", 0), new_job("late-low", 5), new_job("urgent", 1), new_job("later-low", 5)];
    postgres.enqueue_all(&jobs).await.unwrap();
    let running = claim(&postgres, 4, LEASE).await;
    let [holder, a, b, c] = ["holder", "late-low", "urgent", "later-low"].map(|id| running[id].clone());

    let zero = postgres.acquire_slot(slot(&holder, "k", 0, true)).await.unwrap_err();
    assert!(zero.to_string().contains("at least 1"), "{zero}");
    assert_eq!(postgres.acquire_slot(slot(&holder, "k", 1, true)).await.unwrap(), SlotOutcome::Acquired);
    assert_eq!(postgres.acquire_slot(slot(&holder, "k", 1, true)).await.unwrap(), SlotOutcome::Acquired);
    assert_eq!(slots_taken(&schema.name, "k").await, 1, "taking a slot again keeps one slot");
    assert_eq!(postgres.acquire_slot(slot(&a, "k", 1, false)).await.unwrap(), SlotOutcome::Full);
    assert_eq!(state(&postgres, &a).await, JobState::Running, "full without blocking changes nothing");
    for ticket in [&a, &b, &c] {
        assert_eq!(postgres.acquire_slot(slot(ticket, "k", 1, true)).await.unwrap(), SlotOutcome::Blocked);
    }
    let stale = Ticket { id: holder.id.clone(), token: holder.token + 1 };
    assert_eq!(postgres.acquire_slot(slot(&stale, "k", 1, true)).await.unwrap(), SlotOutcome::Stale);
    assert_eq!(postgres.acquire_slot(slot(&a, "k", 1, true)).await.unwrap(), SlotOutcome::Stale, "not running");

    // Blocked jobs: listed, counted, not ready, their attempt given back, never claimed.
    let blocked = postgres.find(&a.id).await.unwrap().unwrap();
    assert_eq!((blocked.state, blocked.attempts, blocked.worker_id), (JobState::Blocked, 0, None));
    assert_eq!(postgres.counts().await.unwrap().total(JobState::Blocked), 3);
    let listed = postgres.list(&ListParams::new().state(JobState::Blocked).limit(2)).await.unwrap();
    assert_eq!(listed.jobs.iter().map(|j| j.id.as_str()).collect::<Vec<_>>(), [a.id.as_str(), b.id.as_str()]);
    let rest = postgres.list(&ListParams::new().state(JobState::Blocked).after(listed.next.unwrap())).await;
    assert_eq!(rest.unwrap().jobs.iter().map(|j| j.id.as_str()).collect::<Vec<_>>(), [c.id.as_str()]);
    let by_queue = postgres.list(&ListParams::new().queue("default")).await.unwrap();
    assert_eq!(by_queue.jobs.iter().filter(|j| j.state == JobState::Blocked).count(), 3);
    let stats = postgres.queues().await.unwrap();
    assert_eq!(stats[0].counts.get(&JobState::Blocked), Some(&3));
    assert_eq!(stats[0].counts.get(&JobState::Ready), None, "blocked jobs are not ready");
    assert!(claim(&postgres, 10, LEASE).await.is_empty(), "blocked jobs are never claimed");
    postgres.rescue_expired().await.unwrap();
    assert_eq!(state(&postgres, &a).await, JobState::Blocked, "blocked jobs are never rescued");

    // Each release readies one blocked job: the urgent one first, then the older of the others.
    let mut holder = holder;
    for next in [&b, &a, &c] {
        assert!(postgres.release_slot("k", &holder).await.unwrap());
        assert!(!postgres.release_slot("k", &holder).await.unwrap(), "a slot is released once");
        assert_eq!(state(&postgres, next).await, JobState::Ready);
        let claimed = claim(&postgres, 10, LEASE).await;
        assert_eq!(claimed.len(), 1, "one job readied per release");
        holder = claimed.into_values().next().unwrap();
        assert_eq!(holder.id, next.id);
        assert_eq!(postgres.acquire_slot(slot(&holder, "k", 1, true)).await.unwrap(), SlotOutcome::Acquired);
    }
    assert!(postgres.release_slot("k", &holder).await.unwrap());
    let not_an_id = Ticket { id: "not-an-id".to_owned(), token: holder.token };
    assert!(!postgres.release_slot("k", &not_an_id).await.unwrap());
    assert_eq!(slots_taken(&schema.name, "k").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_release_racing_a_block_never_leaves_a_job_blocked_on_a_free_slot() {
    let Some(schema) = TestSchema::new("a_release_racing_a_block").await else { return };
    let (holding, blocking) = (schema.adapter().await, schema.adapter().await);
    for round in 0..40 {
        let key = format!("race-{round}");
        holding.enqueue_all(&[new_job(&format!("h{round}"), 0), new_job(&format!("b{round}"), 0)]).await.unwrap();
        let running = claim(&holding, 2, LEASE).await;
        let (holder, other) = (&running[&format!("h{round}")], &running[&format!("b{round}")]);
        assert_eq!(holding.acquire_slot(slot(holder, &key, 1, true)).await.unwrap(), SlotOutcome::Acquired);

        let (released, taken) =
            tokio::join!(holding.release_slot(&key, holder), blocking.acquire_slot(slot(other, &key, 1, true)));
        assert!(released.unwrap());
        let now = state(&holding, other).await;
        match taken.unwrap() {
            SlotOutcome::Acquired => assert_eq!(now, JobState::Running),
            SlotOutcome::Blocked => assert_eq!(now, JobState::Ready, "round {round}: the release readied it"),
            outcome => panic!("round {round}: {outcome:?}"),
        }
        holding.complete(std::slice::from_ref(holder)).await.unwrap();
        if now == JobState::Ready {
            claim(&holding, 1, LEASE).await;
        }
    }
}

#[tokio::test]
async fn slots_of_a_holder_that_died_expire_after_their_hold_and_ready_the_blocked_jobs() {
    let Some(schema) = TestSchema::new("slots_of_a_holder_that_died_expire").await else { return };
    let postgres = schema.adapter().await;
    let ids = ["dies", "waits", "also", "last"];
    postgres.enqueue_all(&ids.map(|id| new_job(id, 0))).await.unwrap();
    let running = claim(&postgres, 4, Duration::from_secs(1)).await;
    let short = |ticket| SlotParams { ticket, key: "k", limit: 1, hold: Duration::from_secs(2), block: true };
    assert_eq!(postgres.acquire_slot(short(&running["dies"])).await.unwrap(), SlotOutcome::Acquired);
    for id in ["waits", "also", "last"] {
        assert_eq!(postgres.acquire_slot(short(&running[id])).await.unwrap(), SlotOutcome::Blocked);
    }
    assert_eq!(postgres.expire_slots().await.unwrap(), 0, "a slot within its hold stays");

    // The holder's worker dies: no heartbeat, no release. Its lease expires first, and the job
    // is rescued and claimed again: it keeps its slot, for a new hold.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(postgres.rescue_expired().await.unwrap(), 1, "only the running job is rescued");
    let again = claim(&postgres, 1, Duration::from_secs(1)).await;
    assert_eq!(postgres.acquire_slot(short(&again["dies"])).await.unwrap(), SlotOutcome::Acquired);
    assert_eq!(slots_taken(&schema.name, "k").await, 1);
    assert_eq!(postgres.expire_slots().await.unwrap(), 0);

    // That worker dies too: after the hold the slot is freed and one blocked job made ready.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(postgres.expire_slots().await.unwrap(), 1);
    assert_eq!(slots_taken(&schema.name, "k").await, 0);
    assert_eq!(
        states(&postgres, &running, ["waits", "also", "last"]).await,
        [JobState::Ready, JobState::Blocked, JobState::Blocked]
    );

    // While the key's slot stays free (the readied job not claimed yet), each expiry readies as
    // many blocked jobs as the key has free slots, so nothing waits on a free slot for ever.
    assert_eq!(postgres.expire_slots().await.unwrap(), 1);
    assert_eq!(
        states(&postgres, &running, ["waits", "also", "last"]).await,
        [JobState::Ready, JobState::Ready, JobState::Blocked]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_readied_by_a_release_wakes_an_idle_worker_of_another_process() {
    let Some(schema) = TestSchema::new("a_job_readied_by_a_release_wakes").await else { return };
    let (working, releasing) = (schema.adapter().await, schema.adapter().await);
    let seen = Arc::new(Seen::default());
    let runtime = runtime(&releasing, &seen);
    let holder = runtime.perform_later(Count { n: 1, millis: 0 }).await.unwrap();
    let blocked = runtime.perform_later(Count { n: 2, millis: 0 }).await.unwrap();
    let running = claim(&releasing, 2, LEASE).await;
    let (holder, blocked) = (&running[&holder.job_id], &running[&blocked.job_id]);
    assert_eq!(releasing.acquire_slot(slot(holder, "k", 1, true)).await.unwrap(), SlotOutcome::Acquired);
    assert_eq!(releasing.acquire_slot(slot(blocked, "k", 1, true)).await.unwrap(), SlotOutcome::Blocked);

    // Polls every 30 s: only the NOTIFY sent with the release makes it quick.
    let idle = worker(&support::runtime(&working, &seen), Duration::from_secs(30));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(seen.sorted().is_empty(), "a blocked job does not run");
    let released = Instant::now();
    assert!(releasing.release_slot("k", holder).await.unwrap());
    wait_until("the readied job to run", Duration::from_secs(10), || seen.sorted() == [2]).await;
    assert!(released.elapsed() < Duration::from_secs(5), "picked up {:?} after the release", released.elapsed());
    idle.shutdown().await.unwrap();
}

#[tokio::test]
async fn operators_run_now_discard_and_delete_blocked_jobs() {
    let Some(schema) = TestSchema::new("operators_run_now_discard_and_delete_blocked_jobs").await else { return };
    let postgres = schema.adapter().await;
    let ids = ["holder", "run", "discard", "delete", "retry"];
    postgres.enqueue_all(&ids.map(|id| new_job(id, 0))).await.unwrap();
    let running = claim(&postgres, 5, LEASE).await;
    for id in ids {
        postgres.acquire_slot(slot(&running[id], "k", 1, true)).await.unwrap();
    }
    let target = |id: &str| Target::Ids(vec![running[id].id.clone()]);
    for action in JobAction::ALL {
        assert_eq!(action.applies_to(JobState::Blocked), action != JobAction::Retry, "{action:?}");
    }
    assert_eq!(postgres.apply(JobAction::Retry, &target("retry")).await.unwrap(), 0);
    assert_eq!(postgres.apply(JobAction::RunNow, &target("run")).await.unwrap(), 1);
    assert_eq!(state(&postgres, &running["run"]).await, JobState::Ready);
    assert_eq!(postgres.apply(JobAction::Discard, &target("discard")).await.unwrap(), 1);
    assert_eq!(state(&postgres, &running["discard"]).await, JobState::Dead);
    assert_eq!(postgres.apply(JobAction::Delete, &target("delete")).await.unwrap(), 1);
    assert!(postgres.find(&running["delete"].id).await.unwrap().is_none());
    assert_eq!(state(&postgres, &running["retry"]).await, JobState::Blocked);

    // Run now does not bypass the limit: the job blocks again while the slot is taken.
    let rerun = claim(&postgres, 1, LEASE).await;
    assert_eq!(postgres.acquire_slot(slot(&rerun["run"], "k", 1, true)).await.unwrap(), SlotOutcome::Blocked);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_starts_of_one_window_each_get_their_own_count_and_counts_expire() {
    let Some(schema) = TestSchema::new("concurrent_starts_of_one_window").await else { return };
    let adapters = [schema.adapter().await, schema.adapter().await];
    let tasks: Vec<_> = (0..50)
        .map(|n| {
            let postgres = adapters[n % 2].clone();
            tokio::spawn(async move { postgres.count_start("api", 7, Duration::from_secs(60)).await.unwrap() })
        })
        .collect();
    let mut counts = Vec::new();
    for task in tasks {
        counts.push(task.await.unwrap());
    }
    counts.sort_unstable();
    assert_eq!(counts, (1..=50).collect::<Vec<u64>>());
    let postgres = &adapters[0];
    assert_eq!(postgres.count_start("api", 8, Duration::from_secs(60)).await.unwrap(), 1, "a new window");
    assert_eq!(postgres.count_start("other", 7, Duration::from_secs(60)).await.unwrap(), 1, "another key");

    assert_eq!(postgres.count_start("brief", 7, Duration::from_millis(1)).await.unwrap(), 1);
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(postgres.count_start("brief", 7, Duration::from_millis(1)).await.unwrap(), 1, "forgotten");
    tokio::time::sleep(Duration::from_millis(20)).await;
    postgres.expire_slots().await.unwrap();
    let sql = format!("SELECT key FROM \"{}\".throttle_counts ORDER BY key, window_no", schema.name);
    let kept: Vec<String> =
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_all(&mut connection().await).await.unwrap();
    assert_eq!(kept, ["api", "api", "other"], "the expired count is forgotten");
    assert_eq!(postgres.count_start("brief", 7, Duration::from_secs(60)).await.unwrap(), 1);
    assert!(postgres.flow().is_some(), "the adapter keeps flow control");
}
