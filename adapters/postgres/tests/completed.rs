//! Completed jobs live in a table of their own (migration 7): a completion moves the job there,
//! and every read and action of the inspection side still finds it.

mod support;

use std::time::Duration;

use jobs_core::adapter::{Adapter, Backend};
use jobs_core::{Inspect, JobAction, JobFilter, JobState, ListParams, Target};
use jobs_postgres::{PostgresAdapter, migration_sql};
use support::{TestSchema, claim, connection, new_job};

/// The Active Job ids of the rows of `table` (`jobs` or `jobs_completed`), by row id.
async fn rows_in(schema: &TestSchema, table: &str) -> Vec<String> {
    let sql = format!("SELECT job_id FROM \"{}\".{table} ORDER BY id", schema.name);
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_all(&mut connection().await).await.unwrap()
}

/// The Active Job ids of every job `params` lists, walking its pages two jobs at a time.
async fn listed(postgres: &PostgresAdapter, params: ListParams) -> Vec<String> {
    let mut params = params.limit(2);
    let mut ids = Vec::new();
    loop {
        let page = postgres.list(&params).await.unwrap();
        ids.extend(page.jobs.iter().map(|job| job.job_id.clone().unwrap()));
        let Some(next) = page.next else { return ids };
        params = params.after(next);
    }
}

async fn state_of(postgres: &PostgresAdapter, id: &str) -> Option<JobState> {
    postgres.find(id).await.unwrap().map(|job| job.state)
}

#[tokio::test]
async fn a_completed_job_moves_to_its_own_table_and_stays_visible() {
    let Some(schema) = TestSchema::new("a_completed_job_moves_to_its_own_table").await else { return };
    let postgres = schema.builder().retain_completed(Duration::from_secs(3600)).connect().await.unwrap();
    postgres.enqueue_all(&[new_job("first", 0), new_job("second", 0), new_job("waiting", 5)]).await.unwrap();
    let running = claim(&postgres, 2, Duration::from_secs(60)).await;
    let tickets: Vec<_> = ["first", "second"].iter().map(|id| running[*id].clone()).collect();
    assert_eq!(postgres.complete(&tickets).await.unwrap(), 2);
    assert_eq!(postgres.complete(&tickets).await.unwrap(), 0, "a completion is done once");

    assert_eq!(rows_in(&schema, "jobs_completed").await, ["first", "second"]);
    assert_eq!(rows_in(&schema, "jobs").await, ["waiting"], "completed jobs leave the jobs table");

    // find, by provider id and by job_id
    let first = postgres.find("first").await.unwrap().unwrap();
    assert_eq!(first.state, JobState::Completed);
    assert!(first.finished_at.is_some() && first.worker_id.is_none());
    assert_eq!(postgres.find(&first.id).await.unwrap().unwrap().job_id.as_deref(), Some("first"));
    // list: by state, by queue, everything (merged in id order, both ways)
    let completed = ListParams::new().state(JobState::Completed);
    assert_eq!(listed(&postgres, completed.clone()).await, ["first", "second"]);
    assert_eq!(listed(&postgres, completed.clone().newest_first()).await, ["second", "first"]);
    assert_eq!(listed(&postgres, ListParams::new().queue("default")).await, ["first", "second", "waiting"]);
    assert_eq!(listed(&postgres, ListParams::new().newest_first()).await, ["waiting", "second", "first"]);
    assert_eq!(listed(&postgres, ListParams::new().state(JobState::Ready)).await, ["waiting"]);
    // counts and queue stats
    let counts = postgres.counts().await.unwrap();
    assert_eq!((counts.total(JobState::Completed), counts.total(JobState::Ready)), (2, 1));
    let queues = postgres.queues().await.unwrap();
    assert_eq!(queues[0].counts.get(&JobState::Completed), Some(&2));

    // delete, by id and by filter; actions that do not apply to completed jobs leave them be
    for action in [JobAction::Retry, JobAction::RunNow, JobAction::Discard] {
        let target = Target::Filter(JobFilter::new().state(JobState::Completed));
        assert_eq!(postgres.apply(action, &target).await.unwrap(), 0, "{action:?}");
    }
    assert_eq!(postgres.apply(JobAction::Delete, &Target::Ids(vec![first.id.clone()])).await.unwrap(), 1);
    assert_eq!(state_of(&postgres, "first").await, None);
    let target = Target::Filter(JobFilter::new().queue("default"));
    assert_eq!(postgres.apply(JobAction::Delete, &target).await.unwrap(), 2, "the completed job and the waiting one");
    assert!(rows_in(&schema, "jobs_completed").await.is_empty());

    // purge: pruning by age reads the completed jobs' table
    postgres.enqueue_all(&[new_job("third", 0)]).await.unwrap();
    let running = claim(&postgres, 1, Duration::from_secs(60)).await;
    assert_eq!(postgres.complete(&[running["third"].clone()]).await.unwrap(), 1);
    assert_eq!(postgres.prune_completed(Duration::from_secs(3600)).await.unwrap(), 0, "kept for its retention");
    assert_eq!(postgres.prune_completed(Duration::ZERO).await.unwrap(), 1);
    assert_eq!(state_of(&postgres, "third").await, None);
    postgres.close().await;
}

#[tokio::test]
async fn a_retried_job_is_found_by_its_latest_row_in_either_table() {
    let Some(schema) = TestSchema::new("a_retried_job_is_found_by_its_latest_row").await else { return };
    let postgres = schema.adapter().await;
    // A job that enqueued itself again (retry_on): the run before completed with its error, the
    // new row waits.
    postgres.enqueue_all(&[new_job("again", 0)]).await.unwrap();
    let running = claim(&postgres, 1, Duration::from_secs(60)).await;
    postgres.enqueue_all(&[new_job("again", 0)]).await.unwrap();
    let error = jobs_core::adapter::ErrorRecord {
        class: "Flaky".into(),
        message: "try again".into(),
        attempt: 1,
        at: chrono::Utc::now(),
    };
    let requeued = jobs_core::adapter::Requeued { ticket: running["again"].clone(), error };
    assert_eq!(postgres.complete_requeued(&[requeued]).await.unwrap(), 1);

    let found = postgres.find("again").await.unwrap().unwrap();
    assert_eq!(found.state, JobState::Ready, "the latest row, in the jobs table");
    assert_eq!(found.errors.iter().map(|e| e.message.as_str()).collect::<Vec<_>>(), ["try again"]);
    let running = claim(&postgres, 1, Duration::from_secs(60)).await;
    postgres.complete(&[running["again"].clone()]).await.unwrap();
    let found = postgres.find("again").await.unwrap().unwrap();
    assert_eq!(found.state, JobState::Completed, "the latest row, in the completed jobs' table");
    assert_eq!(found.errors.len(), 1, "with the errors of the row before it");
    postgres.close().await;
}

#[tokio::test]
async fn a_schema_of_version_6_with_jobs_in_every_state_migrates_to_the_completed_table() {
    let Some(schema) = TestSchema::new("a_schema_of_version_6_with_jobs").await else { return };
    let sql = migration_sql(&schema.name, 0).unwrap();
    let version_6 = format!("{}\nCOMMIT;\n", &sql[..sql.find("\n-- migration 7:").expect("migration 7 printed")]);
    sqlx::raw_sql(sqlx::AssertSqlSafe(version_6)).execute(&mut connection().await).await.unwrap();
    // Jobs as version 6 stored them, one per state, and a job_id with a completed run (which
    // failed before it enqueued itself again) and a waiting one.
    let insert = format!(
        "INSERT INTO \"{}\".jobs (job_id, queue, state, run_at, payload, class, token, lease_until, worker_id,
                                  finished_at, errors)
         SELECT job_id, 'default', state, now(), format('{{\"job_class\":\"Count\",\"job_id\":\"%s\",\"arguments\":[0,0]}}', job_id),
                'Count', 1, CASE WHEN state = 'running' THEN now() + interval '1 hour' END,
                CASE WHEN state = 'running' THEN 'w' END,
                CASE WHEN state IN ('completed', 'dead') THEN now() END,
                CASE WHEN job_id = 'again' AND state = 'completed'
                     THEN '[{{\"class\":\"Flaky\",\"message\":\"once\",\"attempt\":1,\"at\":\"2026-01-01T00:00:00Z\"}}]'
                     ELSE '[]' END::jsonb
         FROM (VALUES ('done', 'completed'), ('dead', 'dead'), ('running', 'running'), ('ready', 'available'),
                      ('again', 'completed'), ('again', 'available')) AS t(job_id, state)",
        schema.name
    );
    sqlx::query(sqlx::AssertSqlSafe(insert)).execute(&mut connection().await).await.unwrap();

    let postgres = schema.builder().retain_completed(Duration::from_secs(3600)).connect().await.unwrap();
    assert_eq!(rows_in(&schema, "jobs_completed").await, ["done", "again"], "the completed rows moved");
    assert_eq!(rows_in(&schema, "jobs").await, ["dead", "running", "ready", "again"]);
    for (id, state) in [
        ("done", JobState::Completed),
        ("dead", JobState::Dead),
        ("running", JobState::Running),
        ("ready", JobState::Ready),
        ("again", JobState::Ready),
    ] {
        assert_eq!(state_of(&postgres, id).await, Some(state), "{id}");
    }
    assert_eq!(postgres.find("again").await.unwrap().unwrap().errors.len(), 1, "the completed run's error");
    for (state, ids) in [
        (JobState::Completed, &["done", "again"][..]),
        (JobState::Dead, &["dead"]),
        (JobState::Running, &["running"]),
        (JobState::Ready, &["ready", "again"]),
    ] {
        assert_eq!(listed(&postgres, ListParams::new().state(state)).await, ids, "{state:?}");
    }
    let all = ["done", "dead", "running", "ready", "again", "again"];
    assert_eq!(listed(&postgres, ListParams::new()).await, all);
    assert_eq!(listed(&postgres, ListParams::new().queue("default")).await, all);
    let counts = postgres.counts().await.unwrap();
    assert_eq!(counts.total(JobState::Completed), 2);
    assert_eq!(counts.total(JobState::Ready), 2);

    // The waiting jobs run and complete as any other.
    let running = claim(&postgres, 5, Duration::from_secs(60)).await;
    let tickets: Vec<_> = running.values().cloned().collect();
    assert_eq!(postgres.complete(&tickets).await.unwrap(), 2);
    assert_eq!(listed(&postgres, ListParams::new().state(JobState::Completed)).await.len(), 4);
    postgres.close().await;
}

#[tokio::test]
async fn a_completed_row_a_previous_build_wrote_into_jobs_is_found_and_pruned() {
    let Some(schema) = TestSchema::new("a_completed_row_a_previous_build_wrote").await else { return };
    let postgres = schema.adapter().await;
    // A process of the build before schema version 7, still running during a rolling upgrade,
    // completes its job in place, two hours ago.
    let stray = format!(
        "INSERT INTO \"{}\".jobs (job_id, queue, state, run_at, payload, class, finished_at)
         VALUES ('stray', 'default', 'completed', now(), '{{}}', 'Count', now() - interval '2 hours')",
        schema.name
    );
    sqlx::query(sqlx::AssertSqlSafe(stray)).execute(&mut connection().await).await.unwrap();
    assert_eq!(state_of(&postgres, "stray").await, Some(JobState::Completed));
    assert_eq!(listed(&postgres, ListParams::new().queue("default")).await, ["stray"]);
    assert_eq!(postgres.counts().await.unwrap().total(JobState::Completed), 1);
    assert_eq!(postgres.prune_completed(Duration::from_secs(3 * 3600)).await.unwrap(), 0, "kept for its retention");
    assert_eq!(postgres.prune_completed(Duration::from_secs(3600)).await.unwrap(), 1);
    assert_eq!(state_of(&postgres, "stray").await, None);
    postgres.close().await;
}
