//! Unique enqueues in the schema: exactly one of many concurrent enqueues stored, the key free
//! again once its holder completes or its time passes, a retry taking the key over, duplicates
//! within a batch, and released keys pruned.

mod support;

use std::time::Duration;

use jobs_core::adapter::{Backend, FlowStore, UniqueOutcome, Uniqueness};
use jobs_core::{Inspect, JobState};
use jobs_postgres::PostgresAdapter;
use support::{TestSchema, claim, connection, new_job};

const PENDING: [JobState; 5] =
    [JobState::Scheduled, JobState::Ready, JobState::Blocked, JobState::Running, JobState::Retrying];

fn rule(key: &str) -> Option<Uniqueness> {
    Some(Uniqueness { key: key.into(), states: PENDING.to_vec(), until: None })
}

async fn enqueue(postgres: &PostgresAdapter, job_id: &str, unique: Option<Uniqueness>) -> UniqueOutcome {
    let mut outcomes = postgres.enqueue_unique(&[new_job(job_id, 0)], &[unique]).await.unwrap();
    assert_eq!(outcomes.len(), 1);
    outcomes.remove(0)
}

fn stored_id(outcome: &UniqueOutcome) -> String {
    match outcome {
        UniqueOutcome::Stored(Some(id)) => id.clone(),
        other => panic!("expected a stored job, got {other:?}"),
    }
}

fn duplicate_of(job_id: &str, id: &str) -> UniqueOutcome {
    UniqueOutcome::Duplicate { job_id: job_id.into(), provider_job_id: Some(id.into()) }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_fifty_concurrent_enqueues_of_one_key_on_many_connections_exactly_one_is_stored() {
    let Some(schema) = TestSchema::new("of_fifty_concurrent_enqueues_of_one_key").await else { return };
    let mut adapters = Vec::new();
    for _ in 0..5 {
        adapters.push(schema.adapter().await);
    }
    let tasks: Vec<_> = (0..50)
        .map(|n| {
            let postgres = adapters[n % adapters.len()].clone();
            tokio::spawn(async move { (n, enqueue(&postgres, &format!("job-{n}"), rule("report:42")).await) })
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.unwrap());
    }
    let stored: Vec<_> = outcomes.iter().filter(|(_, o)| matches!(o, UniqueOutcome::Stored(_))).collect();
    assert_eq!(stored.len(), 1, "{outcomes:?}");
    let (winner, stored) = (format!("job-{}", stored[0].0), stored_id(&stored[0].1));
    for (_, outcome) in &outcomes {
        if !matches!(outcome, UniqueOutcome::Stored(_)) {
            assert_eq!(outcome, &duplicate_of(&winner, &stored), "every duplicate names the stored job");
        }
    }
    let postgres = &adapters[0];
    assert_eq!(postgres.counts().await.unwrap().total(JobState::Ready), 1, "one job stored");

    // Running, it still holds the key; once it completes, the key is free.
    let running = claim(postgres, 1, Duration::from_secs(60)).await;
    assert_eq!(enqueue(postgres, "while-running", rule("report:42")).await, duplicate_of(&winner, &stored));
    postgres.complete(&[running[&winner].clone()]).await.unwrap();
    let next = enqueue(postgres, "after", rule("report:42")).await;
    assert_ne!(stored_id(&next), stored);
    assert_eq!(enqueue(postgres, "again", rule("report:42")).await, duplicate_of("after", &stored_id(&next)));
}

#[tokio::test]
async fn a_key_is_held_only_in_the_enqueued_jobs_states_and_until_its_time() {
    let Some(schema) = TestSchema::new("a_key_is_held_only_in_the_states").await else { return };
    let postgres = schema.adapter().await;
    let id = stored_id(&enqueue(&postgres, "first", rule("k")).await);
    let only_running = Some(Uniqueness { key: "k".into(), states: vec![JobState::Running], until: None });
    let other = stored_id(&enqueue(&postgres, "not-running-yet", only_running).await);
    assert_ne!(id, other, "a ready holder does not hold the key against a job that names only running");

    let until = chrono::Utc::now() + chrono::Duration::milliseconds(1500);
    let brief = |key: &str| Some(Uniqueness { key: key.into(), states: PENDING.to_vec(), until: Some(until) });
    let held = stored_id(&enqueue(&postgres, "brief", brief("t")).await);
    assert_eq!(enqueue(&postgres, "too-soon", rule("t")).await, duplicate_of("brief", &held));
    tokio::time::sleep(Duration::from_millis(1600)).await;
    assert!(matches!(enqueue(&postgres, "later", rule("t")).await, UniqueOutcome::Stored(Some(_))));
    assert_eq!(postgres.find(&held).await.unwrap().unwrap().state, JobState::Ready, "the old holder stays");
}

#[tokio::test]
async fn a_job_with_the_holders_own_job_id_takes_the_key_over() {
    let Some(schema) = TestSchema::new("a_job_with_the_holders_own_job_id").await else { return };
    let postgres = schema.adapter().await;
    let first = stored_id(&enqueue(&postgres, "same", rule("k")).await);
    let running = claim(&postgres, 1, Duration::from_secs(60)).await;
    // A retry_on retry: the running job enqueues itself again under its own job_id.
    let retry = stored_id(&enqueue(&postgres, "same", rule("k")).await);
    assert_ne!(first, retry);
    postgres.complete(&[running["same"].clone()]).await.unwrap();
    assert_eq!(enqueue(&postgres, "other", rule("k")).await, duplicate_of("same", &retry), "the retry holds it");
}

#[tokio::test]
async fn a_batch_reports_its_own_duplicates_against_the_first_job_with_the_key() {
    let Some(schema) = TestSchema::new("a_batch_reports_its_own_duplicates").await else { return };
    let postgres = schema.adapter().await;
    let held = stored_id(&enqueue(&postgres, "held", rule("k3")).await);
    let jobs = ["a", "b", "c", "d", "e"].map(|id| new_job(id, 0));
    let unique = [rule("k1"), rule("k1"), rule("k2"), None, rule("k3")];
    let outcomes = postgres.enqueue_unique(&jobs, &unique).await.unwrap();
    let a = stored_id(&outcomes[0]);
    assert_eq!(outcomes[1], duplicate_of("a", &a));
    stored_id(&outcomes[2]);
    stored_id(&outcomes[3]);
    assert_eq!(outcomes[4], duplicate_of("held", &held));
    assert_eq!(postgres.counts().await.unwrap().total(JobState::Ready), 4, "held, a, c and d");

    let error = postgres.enqueue_unique(&jobs, &unique[..2]).await.unwrap_err();
    assert!(error.to_string().contains("5 jobs but 2 uniqueness rules"), "{error}");
    assert!(postgres.enqueue_unique(&[], &[]).await.unwrap().is_empty());
    stored_id(&enqueue(&postgres, "no-key", None).await);
    assert_eq!(postgres.counts().await.unwrap().total(JobState::Ready), 5, "a job without a key is stored");
}

#[tokio::test]
async fn the_maintenance_prunes_keys_their_holders_let_go_of() {
    let Some(schema) = TestSchema::new("the_maintenance_prunes_keys").await else { return };
    let builder = schema.builder().retain_completed(Duration::from_secs(3600));
    let postgres = builder.maintenance_interval(Duration::from_millis(1)).connect().await.unwrap();
    enqueue(&postgres, "done", rule("done")).await;
    let running = claim(&postgres, 1, Duration::from_secs(60)).await;
    postgres.complete(&[running["done"].clone()]).await.unwrap();
    enqueue(&postgres, "waiting", rule("waiting")).await;
    let keep_completed = Uniqueness { key: "kept".into(), states: vec![JobState::Completed], until: None };
    enqueue(&postgres, "kept", Some(keep_completed)).await;
    let running = claim(&postgres, 2, Duration::from_secs(60)).await;
    postgres.complete(&[running["kept"].clone()]).await.unwrap();

    tokio::time::sleep(Duration::from_millis(5)).await;
    postgres.rescue_expired().await.unwrap();
    let sql = format!("SELECT key FROM \"{}\".unique_keys ORDER BY key", schema.name);
    let keys: Vec<String> =
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_all(&mut connection().await).await.unwrap();
    assert_eq!(keys, ["kept", "waiting"], "a completed holder lets go, unless its states name completed");
}
