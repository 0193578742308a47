//! Flow control on the SQLite store, where it is particular to it: many connections (as many
//! processes would have) racing for one unique key, one slot or one window count; a worker that
//! dies holding slots. The migrations that brought flow control are in `migrations.rs`.

use std::time::Duration;

use jobs_core::adapter::{
    Adapter, Backend, ClaimParams, FlowStore, SlotOutcome, SlotParams, UniqueOutcome, Uniqueness,
};
use jobs_core::{Clock, Inspect, JobState};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};

mod support;
use support::*;

fn unique(key: &str) -> Option<Uniqueness> {
    Some(Uniqueness { key: key.into(), states: vec![JobState::Ready, JobState::Running], until: None })
}

#[tokio::test]
async fn fifty_connections_enqueue_one_unique_job_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jobs.db");
    let clock = clock();
    open(&path, &clock).await;
    let mut tasks = Vec::new();
    for i in 0..50 {
        let (path, clock) = (path.clone(), clock.clone());
        tasks.push(tokio::spawn(async move {
            let sqlite = open(&path, &clock).await;
            let outcome = sqlite.enqueue_unique(&[job("Sync", &format!("sync-{i}"))], &[unique("account-1")]).await;
            sqlite.close().await;
            outcome.unwrap().remove(0)
        }));
    }
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.unwrap());
    }
    let stored: Vec<&Option<String>> =
        outcomes.iter().filter_map(|o| if let UniqueOutcome::Stored(id) = o { Some(id) } else { None }).collect();
    assert_eq!(stored.len(), 1, "{outcomes:?}");
    let sqlite = open(&path, &clock).await;
    let jobs = in_state(&sqlite, JobState::Ready).await;
    assert_eq!(jobs.len(), 1);
    assert_eq!(stored[0].as_deref(), Some(jobs[0].as_str()));
    let holder = sqlite.find(&jobs[0]).await.unwrap().unwrap();
    for outcome in &outcomes {
        if let UniqueOutcome::Duplicate { job_id, provider_job_id } = outcome {
            assert_eq!((job_id, provider_job_id.as_deref()), (holder.job_id.as_ref().unwrap(), Some(jobs[0].as_str())));
        }
    }

    // Completed, the holder frees the key with no write of its own to the keys.
    let claimed = claim_all(&sqlite).await;
    sqlite.complete(&[claimed[0].ticket.clone()]).await.unwrap();
    let again = sqlite.enqueue_unique(&[job("Sync", "sync-next")], &[unique("account-1")]).await.unwrap();
    assert!(matches!(again[0], UniqueOutcome::Stored(Some(_))), "{again:?}");
}

#[tokio::test]
async fn a_deleted_holder_frees_its_key_and_until_bounds_it() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let sqlite = open(&dir.path().join("jobs.db"), &clock).await;
    let first = sqlite.enqueue_unique(&[job("A", "a-1")], &[unique("k")]).await.unwrap();
    let UniqueOutcome::Stored(Some(id)) = &first[0] else { panic!("{first:?}") };
    let purge = jobs_core::Target::Ids(vec![id.clone()]);
    assert_eq!(sqlite.apply(jobs_core::JobAction::Delete, &purge).await.unwrap(), 1);
    let pool =
        SqlitePool::connect_with(SqliteConnectOptions::new().filename(dir.path().join("jobs.db"))).await.unwrap();
    let keys: i64 = sqlx::query_scalar("SELECT count(*) FROM jobs_flow_uniques").fetch_one(&pool).await.unwrap();
    assert_eq!(keys, 0, "the key's row is deleted with its holder");
    let bounded = Uniqueness { until: Some(clock.now() + chrono::TimeDelta::minutes(1)), ..unique("k").unwrap() };
    let second = sqlite.enqueue_unique(&[job("A", "a-2")], &[Some(bounded.clone())]).await.unwrap();
    assert!(matches!(second[0], UniqueOutcome::Stored(_)), "a deleted holder holds nothing: {second:?}");
    let third = sqlite.enqueue_unique(&[job("A", "a-3")], &[Some(bounded.clone())]).await.unwrap();
    assert!(matches!(third[0], UniqueOutcome::Duplicate { .. }), "{third:?}");
    clock.advance(Duration::from_secs(61));
    sqlite.expire_slots().await.unwrap();
    let fourth = sqlite.enqueue_unique(&[job("A", "a-4")], &[Some(bounded)]).await.unwrap();
    assert!(matches!(fourth[0], UniqueOutcome::Stored(_)), "the key is held until its time only: {fourth:?}");
    assert_eq!(in_state(&sqlite, JobState::Ready).await.len(), 2);
}

#[tokio::test]
async fn enqueue_unique_rejects_rules_that_do_not_match_the_jobs() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = open(&dir.path().join("jobs.db"), &clock()).await;
    let error = sqlite.enqueue_unique(&[job("A", "a"), job("A", "b")], &[None]).await.unwrap_err();
    assert!(error.to_string().contains("given 2 jobs but 1 uniqueness rules"), "{error}");
    assert_eq!(in_state(&sqlite, JobState::Ready).await, Vec::<String>::new(), "nothing stored");
}

#[tokio::test]
async fn many_connections_take_a_limited_key_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jobs.db");
    let clock = clock();
    let sqlite = open(&path, &clock).await;
    sqlite.enqueue_all(&(0..20).map(|i| job("Limited", &format!("l-{i}"))).collect::<Vec<_>>()).await.unwrap();
    let claimed = claim_all(&sqlite).await;
    assert_eq!(claimed.len(), 20);
    let mut tasks = Vec::new();
    for claim in claimed {
        let (path, clock) = (path.clone(), clock.clone());
        tasks.push(tokio::spawn(async move {
            let other = open(&path, &clock).await;
            let outcome = other.acquire_slot(slot(&claim, "account-7", 3)).await.unwrap();
            other.close().await;
            (claim, outcome)
        }));
    }
    let mut holders = Vec::new();
    for task in tasks {
        let (claim, outcome) = task.await.unwrap();
        match outcome {
            SlotOutcome::Acquired => holders.push(claim),
            SlotOutcome::Blocked => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(holders.len(), 3, "three slots, three holders");
    assert_eq!(in_state(&sqlite, JobState::Blocked).await.len(), 17);
    assert_eq!(in_state(&sqlite, JobState::Running).await.len(), 3);
    assert_eq!(claim_all(&sqlite).await.len(), 0, "blocked jobs are never claimed");

    // Each release makes one blocked job ready, in FIFO order, and blocks nothing more.
    let blocked = in_state(&sqlite, JobState::Blocked).await;
    let done = holders.pop().unwrap();
    assert!(sqlite.release_slot("account-7", &done.ticket).await.unwrap());
    assert!(!sqlite.release_slot("account-7", &done.ticket).await.unwrap(), "released once");
    assert_eq!(in_state(&sqlite, JobState::Ready).await, [blocked[0].clone()]);
    let next = claim_all(&sqlite).await;
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].attempt, 1, "blocking gave the attempt back");
    assert_eq!(sqlite.acquire_slot(slot(&next[0], "account-7", 3)).await.unwrap(), SlotOutcome::Acquired);
}

/// Four workers on connections of their own drain 40 jobs of one key limited to 2, each run
/// releasing its slot as it ends: never more than 2 run at once, and every job runs, with no
/// expiry to rescue a job blocked while a slot was being released (the release/block race).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn workers_racing_on_a_limit_never_exceed_it_and_never_strand_a_job() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};

    const JOBS: u64 = 40;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jobs.db");
    let clock = clock();
    let sqlite = open(&path, &clock).await;
    sqlite.enqueue_all(&(0..JOBS).map(|i| job("Limited", &format!("l-{i}"))).collect::<Vec<_>>()).await.unwrap();
    let (running, most, done) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let mut workers = Vec::new();
    for _ in 0..4 {
        let (path, clock) = (path.clone(), clock.clone());
        let (running, most, done) = (running.clone(), most.clone(), done.clone());
        workers.push(tokio::spawn(async move {
            let worker = open(&path, &clock).await;
            let queues = ["q".to_owned()];
            let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
            while done.load(Ordering::SeqCst) < JOBS {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "stranded: {} of {JOBS} done",
                    done.load(Ordering::SeqCst)
                );
                let params = ClaimParams { queues: &queues, limit: 1, lease: Duration::from_secs(60), worker_id: "w" };
                let Some(claimed) = worker.claim(params).await.unwrap().pop() else {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    continue;
                };
                match worker.acquire_slot(slot(&claimed, "tenant", 2)).await.unwrap() {
                    SlotOutcome::Acquired => {
                        most.fetch_max(running.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
                        // A run lasts until another one runs beside it (or 20 ms), so that the
                        // limit is reached rather than left to timing.
                        for _ in 0..20 {
                            if running.load(Ordering::SeqCst) >= 2 {
                                break;
                            }
                            tokio::time::sleep(Duration::from_millis(1)).await;
                        }
                        running.fetch_sub(1, Ordering::SeqCst);
                        assert!(worker.release_slot("tenant", &claimed.ticket).await.unwrap());
                        assert_eq!(worker.complete(&[claimed.ticket]).await.unwrap(), 1);
                        done.fetch_add(1, Ordering::SeqCst);
                    }
                    SlotOutcome::Blocked => {}
                    other => panic!("unexpected {other:?}"),
                }
            }
            worker.close().await;
        }));
    }
    for worker in workers {
        worker.await.unwrap();
    }
    assert_eq!(done.load(Ordering::SeqCst), JOBS);
    assert_eq!(most.load(Ordering::SeqCst), 2, "two at once at most, and the limit was reached");
    assert_eq!(in_state(&sqlite, JobState::Completed).await.len() as u64, JOBS);
}

#[tokio::test]
async fn slots_of_a_dead_worker_expire_and_unblock_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let sqlite = open(&dir.path().join("jobs.db"), &clock).await;
    sqlite.enqueue_all(&(0..4).map(|i| job("Limited", &format!("l-{i}"))).collect::<Vec<_>>()).await.unwrap();
    let claimed = claim_all(&sqlite).await;
    let outcomes = [
        sqlite.acquire_slot(slot(&claimed[0], "k", 2)).await.unwrap(),
        sqlite.acquire_slot(slot(&claimed[1], "k", 2)).await.unwrap(),
        sqlite.acquire_slot(slot(&claimed[2], "k", 2)).await.unwrap(),
        sqlite.acquire_slot(SlotParams { block: false, ..slot(&claimed[3], "k", 2) }).await.unwrap(),
    ];
    let expected = [SlotOutcome::Acquired, SlotOutcome::Acquired, SlotOutcome::Blocked, SlotOutcome::Full];
    assert_eq!(outcomes, expected);
    assert_eq!(sqlite.complete(&[claimed[3].ticket.clone()]).await.unwrap(), 1, "a full answer leaves the claim");

    // The worker holding both slots dies: no release, no heartbeat. Its leases are rescued as
    // ever; the blocked job is not a lease and stays blocked until the slots' hold is over.
    clock.advance(Duration::from_secs(120));
    assert_eq!(sqlite.rescue_expired().await.unwrap(), 2);
    assert_eq!(in_state(&sqlite, JobState::Blocked).await, [claimed[2].ticket.id.clone()]);
    assert_eq!(sqlite.expire_slots().await.unwrap(), 0, "held slots are not expired");
    clock.advance(HOLD);
    assert_eq!(sqlite.expire_slots().await.unwrap(), 1, "the blocked job is ready again");
    assert_eq!(in_state(&sqlite, JobState::Blocked).await, Vec::<String>::new());
    assert_eq!(claim_all(&sqlite).await.len(), 3, "the rescued jobs and the unblocked one run");
    assert_eq!(sqlite.expire_slots().await.unwrap(), 0);
}

#[tokio::test]
async fn a_stale_claim_takes_no_slot() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let sqlite = open(&dir.path().join("jobs.db"), &clock).await;
    sqlite.enqueue_all(&[job("A", "a")]).await.unwrap();
    let mut claimed = claim_all(&sqlite).await.remove(0);
    claimed.ticket.token += 1;
    assert_eq!(sqlite.acquire_slot(slot(&claimed, "k", 1)).await.unwrap(), SlotOutcome::Stale);
    claimed.ticket.token -= 1;
    assert_eq!(sqlite.acquire_slot(slot(&claimed, "k", 1)).await.unwrap(), SlotOutcome::Acquired);
    assert_eq!(sqlite.acquire_slot(slot(&claimed, "k", 1)).await.unwrap(), SlotOutcome::Acquired, "idempotent");
}

#[tokio::test]
async fn concurrent_starts_of_a_window_each_get_their_own_count() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jobs.db");
    let clock = clock();
    let sqlite = open(&path, &clock).await;
    let mut tasks = Vec::new();
    for _ in 0..30 {
        let (path, clock) = (path.clone(), clock.clone());
        tasks.push(tokio::spawn(async move {
            let other = open(&path, &clock).await;
            let n = other.count_start("api", 42, Duration::from_secs(2)).await.unwrap();
            other.close().await;
            n
        }));
    }
    let mut counts = Vec::new();
    for task in tasks {
        counts.push(task.await.unwrap());
    }
    counts.sort_unstable();
    assert_eq!(counts, (1..=30).collect::<Vec<u64>>());
    assert_eq!(sqlite.count_start("api", 43, Duration::from_secs(2)).await.unwrap(), 1, "a new window");
    clock.advance(Duration::from_secs(3));
    sqlite.expire_slots().await.unwrap();
    assert_eq!(sqlite.count_start("api", 42, Duration::from_secs(2)).await.unwrap(), 1, "forgotten after its ttl");
}
