//! The crate's schema: created once, recorded, checked at start-up, printable as SQL.

mod support;

use jobs_core::adapter::migrations::Mismatch;
use jobs_postgres::{PostgresAdapter, PostgresError, SCHEMA_VERSION, migration_sql};
use std::time::Duration;

use jobs_core::JobState;
use jobs_core::adapter::{Adapter, FlowStore, SlotOutcome, SlotParams};
use support::{TestSchema, claim, connection, postgres_error};

async fn versions(schema: &str) -> Vec<i64> {
    let sql = format!("SELECT version FROM \"{schema}\".schema_migrations ORDER BY version");
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_all(&mut connection().await).await.unwrap()
}

#[tokio::test]
async fn processes_starting_at_once_migrate_the_schema_once() {
    let Some(schema) = TestSchema::new("processes_starting_at_once_migrate_the_schema_once").await else { return };
    let (a, b, c) = tokio::join!(schema.adapter(), schema.adapter(), schema.adapter());
    assert_eq!(versions(&schema.name).await, every_version());
    assert!(a.migrate().await.unwrap().is_empty(), "an up-to-date schema has nothing to apply");
    for adapter in [a, b, c] {
        adapter.close().await;
    }
}

#[tokio::test]
async fn refuses_a_schema_migrated_by_a_newer_version() {
    let Some(schema) = TestSchema::new("refuses_a_schema_migrated_by_a_newer_version").await else { return };
    schema.adapter().await.close().await;
    let future = format!(
        "INSERT INTO \"{}\".schema_migrations (version, description, checksum) VALUES ({}, 'from the future', 'x')",
        schema.name,
        SCHEMA_VERSION + 1
    );
    sqlx::query(sqlx::AssertSqlSafe(future)).execute(&mut connection().await).await.unwrap();

    let error = schema.builder().connect().await.unwrap_err();
    assert!(
        matches!(postgres_error(&error), PostgresError::SchemaMismatch { mismatch: Mismatch::TooNew { found, .. }, .. }
            if *found == SCHEMA_VERSION + 1),
        "{error}"
    );
}

#[tokio::test]
async fn without_migrating_connect_checks_the_version() {
    let Some(schema) = TestSchema::new("without_migrating_connect_checks_the_version").await else { return };
    let error = schema.builder().migrate(false).connect().await.unwrap_err();
    assert!(
        matches!(postgres_error(&error), PostgresError::SchemaOutdated { found: 0, expected, .. } if *expected == SCHEMA_VERSION),
        "{error}"
    );
    assert!(error.to_string().contains("migration_sql"), "the error says what to do: {error}");

    assert_eq!(schema.builder().run_migrations().await.unwrap(), every_version());
    assert!(schema.builder().run_migrations().await.unwrap().is_empty(), "migrating twice applies nothing");
    schema.builder().migrate(false).connect().await.expect("an up-to-date schema passes the check").close().await;
}

#[tokio::test]
async fn printed_sql_makes_a_schema_the_adapter_accepts() {
    let Some(schema) = TestSchema::new("printed_sql_makes_a_schema_the_adapter_accepts").await else { return };
    let sql = migration_sql(&schema.name, 0).unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut connection().await).await.unwrap();
    assert_eq!(versions(&schema.name).await, every_version());

    let postgres = schema.builder().migrate(false).connect().await.expect("the printed SQL passes the check");
    let id = postgres.enqueue_raw("default", 0, "{}").await.unwrap();
    assert!(jobs_core::Inspect::find(&postgres, &id).await.unwrap().is_some());
    assert!(postgres.migrate().await.unwrap().is_empty(), "the printed SQL records its migrations");
    postgres.close().await;
}

#[tokio::test]
async fn bad_schema_names_and_urls_are_refused_without_printing_passwords() {
    for name in ["", "1jobs", "jobs; DROP TABLE users", "jobs\"x", &"x".repeat(51)] {
        let error =
            PostgresAdapter::builder().url("postgres://a@127.0.0.1/x").schema(name).connect().await.unwrap_err();
        assert!(matches!(error, jobs_core::Error::Config(_)), "schema `{name}`: {error}");
        assert!(migration_sql(name, 0).is_err());
    }

    let url = "postgres://app:hunter2@127.0.0.1:1/x?connect_timeout=1";
    let builder = PostgresAdapter::builder().url(url);
    assert!(!format!("{builder:?}").contains("hunter2"), "{builder:?}");
    let error = builder.acquire_timeout(std::time::Duration::from_secs(2)).connect().await.unwrap_err();
    assert!(!error.to_string().contains("hunter2"), "{error}");
    let error = PostgresAdapter::connect("postgres://app:hunter2@[::1:5432/x").await.unwrap_err();
    assert!(!error.to_string().contains("hunter2"), "{error}");
}

#[tokio::test]
async fn a_schema_of_version_4_with_jobs_in_it_migrates_to_flow_control() {
    let Some(schema) = TestSchema::new("a_schema_of_version_4_with_jobs_in_it").await else { return };
    // Version 4 as it shipped: the printed SQL up to migration 5, then jobs as it stored them.
    let sql = migration_sql(&schema.name, 0).unwrap();
    let version_4 = format!("{}\nCOMMIT;\n", &sql[..sql.find("\n-- migration 5:").expect("migration 5 printed")]);
    sqlx::raw_sql(sqlx::AssertSqlSafe(version_4)).execute(&mut connection().await).await.unwrap();
    assert_eq!(versions(&schema.name).await, [1, 2, 3, 4]);
    let payload =
        |id: &str| format!(r#"{{"job_class":"Count","job_id":"{id}","queue_name":"default","arguments":[0,0]}}"#);
    let jobs = format!("\"{}\".jobs", schema.name);
    let insert = format!(
        "INSERT INTO {jobs} (job_id, queue, state, run_at, payload, class, finished_at)
         VALUES ('old-ready', 'default', 'available', now(), $1, 'Count', NULL),
                ('old-dead', 'default', 'dead', now(), $2, 'Count', now())"
    );
    sqlx::query(sqlx::AssertSqlSafe(insert))
        .bind(payload("old-ready"))
        .bind(payload("old-dead"))
        .execute(&mut connection().await)
        .await
        .unwrap();

    // Upgraded by the printed SQL, as a team with its own migration tool does (the adapter's own
    // migrate runs the same statements).
    let upgrade = migration_sql(&schema.name, 4).unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(upgrade)).execute(&mut connection().await).await.unwrap();
    let postgres = schema.builder().migrate(false).connect().await.expect("version 5 passes the check");
    assert_eq!(versions(&schema.name).await, every_version());
    assert_eq!(jobs_core::Inspect::find(&postgres, "old-dead").await.unwrap().unwrap().state, JobState::Dead);
    let running = claim(&postgres, 5, Duration::from_secs(60)).await;
    assert_eq!(running.keys().collect::<Vec<_>>(), ["old-ready"], "the stored jobs run as before");
    let params =
        SlotParams { ticket: &running["old-ready"], key: "k", limit: 1, hold: Duration::from_secs(60), block: true };
    assert_eq!(postgres.acquire_slot(params).await.unwrap(), SlotOutcome::Acquired);

    // The state check still refuses what is not a state.
    let bad = sqlx::query(sqlx::AssertSqlSafe(format!("UPDATE {jobs} SET state = 'lost'")))
        .execute(&mut connection().await)
        .await;
    assert!(bad.unwrap_err().to_string().contains("jobs_state_check"));
    postgres.close().await;
}

#[tokio::test]
async fn a_schema_of_version_5_with_a_slot_taken_migrates_to_slots_held_by_claims() {
    let Some(schema) = TestSchema::new("a_schema_of_version_5_with_a_slot").await else { return };
    // Version 5 as it shipped, then a running job and the slot of `k` it took, as a process of
    // that version stored them.
    let sql = migration_sql(&schema.name, 0).unwrap();
    let version_5 = format!("{}\nCOMMIT;\n", &sql[..sql.find("\n-- migration 6:").expect("migration 6 printed")]);
    sqlx::raw_sql(sqlx::AssertSqlSafe(version_5)).execute(&mut connection().await).await.unwrap();
    assert_eq!(versions(&schema.name).await, [1, 2, 3, 4, 5]);
    let s = format!("\"{}\"", schema.name);
    let insert = format!(
        "INSERT INTO {s}.jobs (job_id, queue, state, run_at, payload, class, token, lease_until)
         VALUES ('old-running', 'default', 'running', now(), '{{}}', 'Count', 3, now() + interval '1 hour')
         RETURNING id"
    );
    let old: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(insert)).fetch_one(&mut connection().await).await.unwrap();
    let take = format!(
        "INSERT INTO {s}.concurrency_slots (key, holder, slot_limit, expires_at)
         VALUES ('k', $1, 1, now() + interval '1 hour')"
    );
    sqlx::query(sqlx::AssertSqlSafe(take)).bind(old).execute(&mut connection().await).await.unwrap();

    let upgrade = migration_sql(&schema.name, 5).unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(upgrade)).execute(&mut connection().await).await.unwrap();
    let postgres = schema.builder().migrate(false).connect().await.expect("version 6 passes the check");
    assert_eq!(versions(&schema.name).await, every_version());
    postgres.enqueue_all(&[support::new_job("new", 0)]).await.unwrap();
    let first = claim(&postgres, 5, Duration::from_secs(60)).await.remove("new").expect("the new job is claimed");
    let slot = |ticket| SlotParams { ticket, key: "k", limit: 1, hold: Duration::from_secs(60), block: true };
    assert_eq!(postgres.acquire_slot(slot(&first)).await.unwrap(), SlotOutcome::Blocked, "the old slot still counts");

    // A process of version 5 still running releases its slot as it did, by its holder alone.
    let release_v5 = format!("SELECT {s}.flow_release_slot('k', $1, 'a-channel')");
    let released: bool =
        sqlx::query_scalar(sqlx::AssertSqlSafe(release_v5)).bind(old).fetch_one(&mut connection().await).await.unwrap();
    assert!(released, "the release of version 5 frees the slot it took");

    // Slots taken from now on are held under their claim.
    let again = claim(&postgres, 5, Duration::from_secs(60)).await.remove("new").expect("readied by the release");
    assert_eq!(postgres.acquire_slot(slot(&again)).await.unwrap(), SlotOutcome::Acquired);
    assert!(!postgres.release_slot("k", &first).await.unwrap(), "an earlier claim of the job releases nothing");
    assert!(postgres.release_slot("k", &again).await.unwrap(), "its own claim does");
    postgres.close().await;
}

/// Every shipped schema version, oldest first.
fn every_version() -> Vec<i64> {
    (1..=SCHEMA_VERSION).collect()
}
