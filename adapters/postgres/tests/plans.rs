//! The statements keep their plans: runs are found by primary key, not through the lease index,
//! after an ANALYZE taken while no job ran; a job is found by its job_id through the job-id
//! indexes of both tables, not by reading them.

mod support;

use std::time::Duration;

use jobs_core::Inspect;
use jobs_core::adapter::{Adapter, Backend};
use sqlx::PgConnection;
use support::{TestSchema, claim, connection, new_job};

/// Index scans of each of `indexes`, as the statistics have them, once `condition` holds of them
/// (or after 30 s: backends report their counts within seconds of going idle).
async fn index_scans_until<const N: usize>(
    conn: &mut PgConnection,
    schema: &str,
    indexes: [&str; N],
    condition: impl Fn(&[i64; N]) -> bool,
) -> [i64; N] {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let mut scans = [0; N];
        for (scan, index) in scans.iter_mut().zip(indexes) {
            *scan = sqlx::query_scalar(
                "SELECT idx_scan FROM pg_stat_user_indexes WHERE schemaname = $1 AND indexrelname = $2",
            )
            .bind(schema)
            .bind(index)
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        }
        if condition(&scans) || tokio::time::Instant::now() >= deadline {
            return scans;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Scans of the primary key, the lease index and the claim index, once `condition` holds of them.
async fn scans_until(conn: &mut PgConnection, schema: &str, condition: impl Fn(&Scans) -> bool) -> Scans {
    let scans = |[pkey, leases, available]: [i64; 3]| Scans { pkey, leases, available };
    let indexes = ["jobs_pkey", "jobs_leases", "jobs_available"];
    scans(index_scans_until(conn, schema, indexes, |counts| condition(&scans(*counts))).await)
}

/// Index scan counts of the jobs table.
#[derive(Debug)]
struct Scans {
    pkey: i64,
    leases: i64,
    available: i64,
}

#[tokio::test]
async fn completions_find_runs_by_primary_key_after_an_analyze_of_an_idle_table() {
    let Some(schema) = TestSchema::new("completions_find_runs_by_primary_key_after_an_analyze_of_an_idle_table").await
    else {
        return;
    };
    let adapter = schema.builder().vacuum_after(None).connect().await.unwrap();
    let jobs: Vec<_> = (0..2_000).map(|n| new_job(&format!("job-{n}"), 0)).collect();
    adapter.enqueue_all(&jobs).await.unwrap();
    let mut conn = connection().await;
    // The statistics of a table where nothing runs: the planner estimates one running job.
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("ANALYZE \"{}\".jobs", schema.name))).execute(&mut conn).await.unwrap();

    let mut tickets: Vec<_> = claim(&adapter, 1_500, Duration::from_secs(600)).await.into_values().collect();
    assert_eq!(tickets.len(), 1_500);
    // The claim's counts (its scan of the claim index, and whatever else it read) are reported
    // together, before the completions start.
    let claimed = scans_until(&mut conn, &schema.name, |scans| scans.available > 0).await;
    assert!(claimed.available > 0 && claimed.leases == 0, "the claim's scans were never reported: {claimed:?}");

    // Ten completions of ten, each a prepared statement run often enough for a generic plan.
    for batch in tickets.split_off(1_400).chunks(10) {
        assert_eq!(adapter.complete(batch).await.unwrap(), 10);
    }
    let done = scans_until(&mut conn, &schema.name, |s| s.leases > 0 || s.pkey >= claimed.pkey + 100).await;
    assert_eq!(done.leases, 0, "completions read the lease index of 1 400 running jobs: {done:?}");
    assert!(done.pkey >= claimed.pkey + 100, "completions' lookups were never reported: {done:?} after {claimed:?}");

    // A heartbeat and a release of the remaining runs take the same path.
    assert_eq!(adapter.heartbeat(&tickets[..100], Duration::from_secs(600)).await.unwrap(), 100);
    assert_eq!(adapter.release(&tickets[..100]).await.unwrap(), 100);
    let after = scans_until(&mut conn, &schema.name, |s| s.leases > 0 || s.pkey >= done.pkey + 100).await;
    assert_eq!(after.leases, 0, "heartbeats or releases read the lease index: {after:?}");
    assert!(after.pkey >= done.pkey + 100, "their lookups were never reported: {after:?} after {done:?}");
}

#[tokio::test]
async fn a_job_is_found_by_its_job_id_through_the_job_id_indexes_of_both_tables() {
    let Some(schema) = TestSchema::new("a_job_is_found_by_its_job_id_through_the_job_id_indexes").await else {
        return;
    };
    let adapter = schema.builder().vacuum_after(None).connect().await.unwrap();
    let jobs: Vec<_> = (0..4_000).map(|n| new_job(&format!("job-{n}"), 0)).collect();
    adapter.enqueue_all(&jobs).await.unwrap();
    // The first 2 000 complete, and move to jobs_completed.
    let tickets: Vec<_> = claim(&adapter, 2_000, Duration::from_secs(600)).await.into_values().collect();
    assert_eq!(adapter.complete(&tickets).await.unwrap(), 2_000);
    let mut conn = connection().await;
    for table in ["jobs", "jobs_completed"] {
        let analyze = format!("ANALYZE \"{}\".{table}", schema.name);
        sqlx::raw_sql(sqlx::AssertSqlSafe(analyze)).execute(&mut conn).await.unwrap();
    }

    for job_id in ["job-10", "job-3999"] {
        let found = adapter.find(job_id).await.unwrap().expect("found by its job_id");
        assert_eq!(found.job_id.as_deref(), Some(job_id));
    }
    let indexes = ["jobs_job_id", "jobs_completed_job_id"];
    let scans = index_scans_until(&mut conn, &schema.name, indexes, |scans| scans.iter().all(|&n| n >= 2)).await;
    assert!(
        scans.iter().all(|&n| n >= 2),
        "two finds by job_id scanned the job-id indexes (jobs, completed) {scans:?} times"
    );
}
