//! Times the first page of `Inspect::list` over a million stored jobs, by state and by queue, and
//! prints each listing's plan (`EXPLAIN (ANALYZE, BUFFERS)`); times `counts` and `queues` too,
//! which read every job.
//!
//! ```text
//! cargo run --release -p jobs-postgres --example list_million -- [JOBS] [busy|backlog|dashboard]
//! ```
//!
//! `busy` (the default) is a table of a worker fleet a day into its retention: 90 % completed,
//! 8 % ready, the rest scheduled, retrying, dead or running. `backlog` is a table that fell
//! behind: nearly every job ready, a few completed and dead. `dashboard` is the dashboard
//! benchmark's store (`render_million`), in its order: the oldest 70 % completed, then 0.5 %
//! retrying, 0.5 % dead, 100 running, a ready backlog, and the newest 4 % scheduled. Jobs go to `default` (3 in 4),
//! `mailers` (1 in 4) and `rare` (1 in 10 007). The server is `JOBS_BENCH_POSTGRES_URL`
//! (default: the local one); the schema `jobs_list_million` is created and dropped.

use std::time::{Duration, Instant};

use jobs_core::{Inspect, JobFilter, JobState, ListParams};
use jobs_postgres::PostgresAdapter;

const SCHEMA: &str = "jobs_list_million";

/// The rows: each `i` gets a state by `i % 1000` (`dashboard`: by its rank) and a queue by `i`.
fn insert_sql(jobs: u64, scenario: &str) -> String {
    let state = if scenario == "backlog" {
        "CASE WHEN i % 1000 < 998 THEN 'ready' WHEN i % 1000 = 998 THEN 'completed' ELSE 'dead' END".to_owned()
    } else if scenario == "dashboard" {
        format!(
            "CASE WHEN i <= {jobs} * 0.7 THEN 'completed' WHEN i <= {jobs} * 0.705 THEN 'retrying'
                  WHEN i <= {jobs} * 0.71 THEN 'dead' WHEN i <= {jobs} * 0.71 + 100 THEN 'running'
                  WHEN i <= {jobs} * 0.96 THEN 'ready' ELSE 'scheduled' END"
        )
    } else {
        "CASE WHEN i % 1000 < 900 THEN 'completed' WHEN i % 1000 < 980 THEN 'ready'
              WHEN i % 1000 < 990 THEN 'scheduled' WHEN i % 1000 < 995 THEN 'retrying'
              WHEN i % 1000 < 999 THEN 'dead' ELSE 'running' END"
            .to_owned()
    };
    format!(
        "INSERT INTO \"{SCHEMA}\".jobs (job_id, class, queue, state, run_at, failures, errors, payload, enqueued_at,
                                       finished_at, started_at, lease_until, worker_id, attempts)
         SELECT md5(i::text), class, queue,
                CASE WHEN s IN ('ready', 'scheduled', 'retrying') THEN 'available' ELSE s END,
                CASE WHEN s IN ('scheduled', 'retrying') THEN now() + interval '1 hour' ELSE at END,
                CASE WHEN s IN ('retrying', 'dead') THEN 1 ELSE 0 END,
                CASE WHEN s IN ('retrying', 'dead')
                     THEN '[{{\"class\":\"Boom\",\"message\":\"boom\",\"attempt\":1,\"at\":\"2026-01-01T00:00:00Z\"}}]'::jsonb
                     ELSE '[]'::jsonb END,
                format('{{\"job_class\":\"%s\",\"job_id\":\"%s\",\"queue_name\":\"%s\",\"arguments\":[%s]}}',
                       class, md5(i::text), queue, i),
                at,
                CASE WHEN s IN ('completed', 'dead') THEN at + interval '1 second' END,
                CASE WHEN s = 'running' THEN now() END,
                CASE WHEN s = 'running' THEN now() + interval '10 minutes' END,
                CASE WHEN s = 'running' THEN 'bench-worker' END,
                CASE WHEN s IN ('ready', 'scheduled') THEN 0 ELSE 1 END
         FROM (SELECT i, {state} AS s,
                      CASE WHEN i % 10007 = 0 THEN 'rare' WHEN i % 4 = 0 THEN 'mailers' ELSE 'default' END AS queue,
                      CASE WHEN i % 3 = 0 THEN 'SendInvoice' ELSE 'Report' END AS class,
                      now() - interval '1 day' + i * interval '80 milliseconds' AS at
               FROM generate_series(1, {jobs}) AS i) rows
         ORDER BY i"
    )
}

/// Moves the completed rows into the completed jobs' table (schema version 7), where completing
/// a job puts it; a schema of an earlier version keeps them in `jobs`, as it did.
fn move_completed_sql() -> String {
    format!(
        "DO $$ BEGIN
            IF to_regclass('\"{SCHEMA}\".jobs_completed') IS NOT NULL THEN
                WITH moved AS (DELETE FROM \"{SCHEMA}\".jobs WHERE state = 'completed' RETURNING *)
                INSERT INTO \"{SCHEMA}\".jobs_completed SELECT * FROM moved;
            END IF;
         END $$"
    )
}

async fn drop_schema(postgres: &PostgresAdapter) -> Result<(), sqlx::Error> {
    let drop = format!("DROP SCHEMA IF EXISTS \"{SCHEMA}\" CASCADE");
    sqlx::query(sqlx::AssertSqlSafe(drop)).execute(postgres.pool()).await.map(|_| ())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let jobs: u64 = args.next().map(|n| n.parse()).transpose()?.unwrap_or(1_000_000);
    let scenario = args.next().unwrap_or_else(|| "busy".to_owned());
    let url = std::env::var("JOBS_BENCH_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());

    let postgres = PostgresAdapter::builder().url(&url).schema(SCHEMA).connect().await?;
    drop_schema(&postgres).await?;
    postgres.close().await;
    let postgres = PostgresAdapter::builder().url(&url).schema(SCHEMA).connect().await?;
    let started = Instant::now();
    sqlx::query(sqlx::AssertSqlSafe(insert_sql(jobs, &scenario))).execute(postgres.pool()).await?;
    sqlx::query(sqlx::AssertSqlSafe(move_completed_sql())).execute(postgres.pool()).await?;
    let tables: Vec<String> = sqlx::query_scalar("SELECT tablename::text FROM pg_tables WHERE schemaname = $1")
        .bind(SCHEMA)
        .fetch_all(postgres.pool())
        .await?;
    for table in tables {
        let vacuum = format!("VACUUM ANALYZE \"{SCHEMA}\".\"{table}\"");
        sqlx::query(sqlx::AssertSqlSafe(vacuum)).execute(postgres.pool()).await?;
    }
    println!("stored {jobs} jobs ({scenario}) in {:.1?}", started.elapsed());
    let started = Instant::now();
    let counts = postgres.counts().await?;
    println!("counts in {:.1?}", started.elapsed());
    for state in JobState::ALL {
        println!("  {state:>9}: {}", counts.total(state));
    }
    let started = Instant::now();
    let queues = postgres.queues().await?;
    println!("queues ({}) in {:.1?}", queues.len(), started.elapsed());

    let listings: Vec<(&str, JobFilter)> = vec![
        ("state dead", JobFilter::new().state(JobState::Dead)),
        ("state ready", JobFilter::new().state(JobState::Ready)),
        ("state completed", JobFilter::new().state(JobState::Completed)),
        ("state scheduled", JobFilter::new().state(JobState::Scheduled)),
        ("state running", JobFilter::new().state(JobState::Running)),
        ("queue mailers", JobFilter::new().queue("mailers")),
        ("queue rare", JobFilter::new().queue("rare")),
        ("queue rare, dead", JobFilter::new().queue("rare").state(JobState::Dead)),
    ];
    println!("\nfirst page of 100 (best of 3 after one warm-up call):");
    println!("{:<20} {:>12} {:>12} {:>6}", "listing", "oldest first", "newest first", "jobs");
    for (name, filter) in &listings {
        let mut best = [Duration::MAX; 2];
        let mut found = 0;
        for (i, newest) in [false, true].into_iter().enumerate() {
            let params = ListParams::new().filter(filter.clone());
            let params = if newest { params.newest_first() } else { params };
            postgres.list(&params).await?;
            for _ in 0..3 {
                let started = Instant::now();
                let page = postgres.list(&params).await?;
                best[i] = best[i].min(started.elapsed());
                found = page.jobs.len();
                assert!(page.jobs.iter().all(|job| filter.matches(job)), "{name}: a job that does not match");
            }
        }
        println!("{name:<20} {:>12.1?} {:>12.1?} {found:>6}", best[0], best[1]);
    }
    for (name, filter) in &listings {
        println!(
            "\n== {name}, oldest first\n{}",
            postgres.explain_list(&ListParams::new().filter(filter.clone())).await?
        );
        let newest = ListParams::new().filter(filter.clone()).newest_first();
        println!("== {name}, newest first\n{}", postgres.explain_list(&newest).await?);
    }
    drop_schema(&postgres).await?;
    postgres.close().await;
    Ok(())
}
