//! Files of an older schema version, with jobs and slots in them, migrated by opening them: what
//! they held is kept, and the new behaviour holds from then on.

use std::time::Duration;

use jobs_core::adapter::{Adapter, FlowStore, SlotOutcome, Ticket, time_to_micros};
use jobs_core::{Clock, Inspect, JobState, ListParams};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};

mod support;
use support::*;

#[tokio::test]
async fn migrating_a_version_4_file_keeps_its_jobs_ids_and_sequence() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jobs.db");
    let pool = file_at(&path, 4).await;
    for (state, job_id) in [("available", "a"), ("running", "r"), ("dead", "d"), ("completed", "c"), ("dead", "gone")] {
        sqlx::query(
            "INSERT INTO jobs_jobs (job_id, class, queue, state, run_at, payload, enqueued_at, lease_until, token) \
             VALUES (?1, 'Old', 'q', ?2, 0, '{}', 0, CASE WHEN ?2 = 'running' THEN 9000000000000000 END, 3)",
        )
        .bind(job_id)
        .bind(state)
        .execute(&pool)
        .await
        .unwrap();
    }
    sqlx::query("DELETE FROM jobs_jobs WHERE job_id = 'gone'").execute(&pool).await.unwrap();
    pool.close().await;

    let clock = clock();
    let sqlite = open(&path, &clock).await;
    let jobs = sqlite.list(&ListParams::new()).await.unwrap().jobs;
    let kept: Vec<(&str, Option<&str>, JobState)> =
        jobs.iter().map(|j| (j.id.as_str(), j.job_id.as_deref(), j.state)).collect();
    assert_eq!(
        kept,
        [
            ("1", Some("a"), JobState::Ready),
            ("2", Some("r"), JobState::Running),
            ("3", Some("d"), JobState::Dead),
            ("4", Some("c"), JobState::Completed)
        ]
    );
    let new = sqlite.enqueue_all(&[job("New", "n")]).await.unwrap();
    assert_eq!(new, [Some("6".to_owned())], "the id of a deleted job is never handed out again");

    // The rebuilt table takes the blocked state, and its indexes are all there.
    let claimed = claim_all(&sqlite).await;
    assert_eq!(claimed.len(), 2);
    assert_eq!(sqlite.acquire_slot(slot(&claimed[0], "k", 1)).await.unwrap(), SlotOutcome::Acquired);
    assert_eq!(sqlite.acquire_slot(slot(&claimed[1], "k", 1)).await.unwrap(), SlotOutcome::Blocked);
    assert_eq!(in_state(&sqlite, JobState::Blocked).await, [claimed[1].ticket.id.clone()]);
    let pool = SqlitePool::connect_with(SqliteConnectOptions::new().filename(&path)).await.unwrap();
    let indexes: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'jobs_jobs' AND sql IS NOT NULL ORDER BY name",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        indexes,
        [
            "jobs_jobs_available",
            "jobs_jobs_available_by_queue",
            "jobs_jobs_available_ids",
            "jobs_jobs_blocked",
            "jobs_jobs_blocked_ids",
            "jobs_jobs_completed",
            "jobs_jobs_completed_ids",
            "jobs_jobs_dead",
            "jobs_jobs_job_id",
            "jobs_jobs_leases",
            "jobs_jobs_queue"
        ]
    );
}

/// A slot taken before version 6 (by a process of the previous build) is kept: it counts against
/// its key's limit and frees when its hold is over. Slots taken from then on are held under their
/// claim: released by it, and by no other claim of their job.
#[tokio::test]
async fn migrating_a_version_5_file_keeps_its_slots_and_fences_new_ones() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jobs.db");
    let clock = clock();
    let pool = file_at(&path, 5).await;
    sqlx::query(
        "INSERT INTO jobs_jobs (job_id, class, queue, state, run_at, payload, enqueued_at, lease_until, token) \
         VALUES ('old', 'Old', 'q', 'running', 0, '{}', 0, 9000000000000000, 3)",
    )
    .execute(&pool)
    .await
    .unwrap();
    let expires_at = time_to_micros(clock.now()) + i64::try_from(HOLD.as_micros()).unwrap();
    sqlx::query("INSERT INTO jobs_flow_slots (key, holder, expires_at) VALUES ('k', 1, ?1)")
        .bind(expires_at)
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;

    let sqlite = open(&path, &clock).await;
    sqlite.enqueue_all(&[job("New", "new")]).await.unwrap();
    let claimed = claim_all(&sqlite).await;
    assert_eq!(claimed.len(), 1, "the old running job is not claimed again");
    assert_eq!(
        sqlite.acquire_slot(slot(&claimed[0], "k", 1)).await.unwrap(),
        SlotOutcome::Blocked,
        "the slot taken before the migration still counts"
    );
    assert_eq!(sqlite.expire_slots().await.unwrap(), 0);
    clock.advance(HOLD + Duration::from_secs(1));
    assert_eq!(sqlite.expire_slots().await.unwrap(), 1, "it frees when its hold is over");

    let again = claim_all(&sqlite).await;
    assert_eq!(again.len(), 1);
    assert_eq!(sqlite.acquire_slot(slot(&again[0], "k", 1)).await.unwrap(), SlotOutcome::Acquired);
    let earlier = Ticket { id: again[0].ticket.id.clone(), token: claimed[0].ticket.token };
    assert_ne!(earlier, again[0].ticket);
    assert!(!sqlite.release_slot("k", &earlier).await.unwrap(), "an earlier claim of the job releases nothing");
    assert!(sqlite.release_slot("k", &again[0].ticket).await.unwrap(), "its own claim does");
}
