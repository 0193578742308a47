//! Helpers shared by the SQLite adapter's test files: files at an older schema version, handles
//! on a file with a manual clock, jobs, claims and slots.
#![allow(dead_code, unreachable_pub)]

use std::time::Duration;

use chrono::{DateTime, Utc};
use jobs_core::adapter::migrations::Migration;
use jobs_core::adapter::{Backend, ClaimParams, ClaimedJob, NewJob, SlotParams};
use jobs_core::{Inspect, JobData, JobFilter, JobState, ListParams, ManualClock};
use jobs_sqlite::SqliteAdapter;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};

pub const HOLD: Duration = Duration::from_secs(300);

/// Every migration as it shipped, oldest first: (description, SQL).
pub const SHIPPED: [(&str, &str); 6] = [
    ("jobs table and paused queues", include_str!("../../migrations/0001_jobs.sql")),
    ("index of Active Job job ids", include_str!("../../migrations/0002_job_id_index.sql")),
    (
        "job classes, run start times, listing indexes, worker processes and history",
        include_str!("../../migrations/0003_operations.sql"),
    ),
    ("recurring tasks and their ticks", include_str!("../../migrations/0004_recurring.sql")),
    (
        "flow control: the blocked state, concurrency slots, unique keys, throttle counts",
        include_str!("../../migrations/0005_flow.sql"),
    ),
    ("concurrency slots held under the claim that took them", include_str!("../../migrations/0006_slot_claims.sql")),
];

/// A new file at schema `version`: the shipped migrations up to it, applied and recorded by hand.
pub async fn file_at(path: &std::path::Path, version: usize) -> SqlitePool {
    let options = SqliteConnectOptions::new().filename(path).create_if_missing(true);
    let pool = SqlitePool::connect_with(options).await.unwrap();
    sqlx::raw_sql(
        "CREATE TABLE jobs_schema_migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL, \
         checksum TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT",
    )
    .execute(&pool)
    .await
    .unwrap();
    for (version, (description, sql)) in (1..).zip(&SHIPPED[..version]) {
        sqlx::raw_sql(*sql).execute(&pool).await.unwrap();
        let checksum = Migration { version, description, sql }.checksum();
        sqlx::query("INSERT INTO jobs_schema_migrations VALUES (?1, ?2, ?3, 0)")
            .bind(version)
            .bind(description)
            .bind(checksum)
            .execute(&pool)
            .await
            .unwrap();
    }
    pool
}

pub async fn open(path: &std::path::Path, clock: &ManualClock) -> SqliteAdapter {
    SqliteAdapter::builder(path).clock(clock.clone()).max_connections(1).open().await.unwrap()
}

pub fn clock() -> ManualClock {
    ManualClock::new(DateTime::parse_from_rfc3339("2026-12-06T12:00:00Z").unwrap().with_timezone(&Utc))
}

/// A job of class `class` with Active Job id `job_id` on queue `q`, due now.
pub fn job(class: &str, job_id: &str) -> NewJob {
    let json = serde_json::json!({"job_class": class, "job_id": job_id, "queue_name": "q", "arguments": []});
    NewJob::new(JobData::from_json(&json.to_string()).unwrap()).unwrap()
}

pub async fn claim_all(sqlite: &SqliteAdapter) -> Vec<ClaimedJob> {
    let queues = ["q".to_owned()];
    let params = ClaimParams { queues: &queues, limit: 1000, lease: Duration::from_secs(60), worker_id: "w" };
    sqlite.claim(params).await.unwrap()
}

pub fn slot<'a>(claimed: &'a ClaimedJob, key: &'a str, limit: u32) -> SlotParams<'a> {
    SlotParams { ticket: &claimed.ticket, key, limit, hold: HOLD, block: true }
}

pub async fn in_state(sqlite: &SqliteAdapter, state: JobState) -> Vec<String> {
    let page = sqlite.list(&ListParams::new().filter(JobFilter::new().state(state)).limit(1000)).await.unwrap();
    page.jobs.into_iter().map(|job| job.id).collect()
}
