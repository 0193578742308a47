//! How long each dashboard page takes to render, server-side, over a million stored jobs.
//!
//! ```text
//! cargo run --release -p jobs-web --example render_million -- sqlite [PATH] [JOBS]
//! cargo run --release -p jobs-web --example render_million -- postgres [JOBS]
//! ```
//!
//! Fills the store through the adapter contract with a busy store's mix (70 % completed, a
//! ready backlog, 4 % scheduled, 0.5 % retrying, 0.5 % dead, 100 running; 1 % of the jobs on
//! `mailers`, 50 on `rare`), then calls the dashboard's router for each page (no socket: the
//! time is the server's) and prints the first call with nothing cached ("cold") and the median
//! of five once the counts are cached ("warm"). A SQLite file that already holds jobs is measured
//! as it is (PATH defaults to `render_million.db` in the temporary directory); PostgreSQL gets
//! the schema `jobs_web_million` (server `JOBS_BENCH_POSTGRES_URL`, default the local one),
//! dropped at the end.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use chrono::{TimeDelta, Utc};
use jobs_core::adapter::{Adapter, ClaimParams, ClaimedJob, ErrorRecord, Failure, NewJob, format_time};
use jobs_core::{Error, JobData, JobState, ListParams};
use jobs_web::Dashboard;
use tower::ServiceExt;

/// Jobs per `enqueue_all` and per claim while filling.
const BATCH: usize = 5_000;
const SCHEMA: &str = "jobs_web_million";

fn new_job(i: usize, queue: &str, scheduled: bool) -> Result<NewJob, Error> {
    let class = if i.is_multiple_of(3) { "Report" } else { "SendInvoice" };
    let at = scheduled.then(|| format_time(&(Utc::now() + TimeDelta::days(1))));
    let json = serde_json::json!({
        "job_class": class, "job_id": format!("job-{i}"), "queue_name": queue,
        "arguments": [{"invoice": i, "customer": format!("customer-{}", i % 977)}], "scheduled_at": at,
    });
    NewJob::new(JobData::from_json(&json.to_string())?)
}

async fn claim(store: &dyn Adapter, limit: usize) -> Result<Vec<ClaimedJob>, Error> {
    let queues = ["*".to_owned()];
    let params = ClaimParams { queues: &queues, limit, lease: Duration::from_secs(3600), worker_id: "filler" };
    store.backend().expect("a backend").claim(params).await
}

async fn fail(store: &dyn Adapter, claimed: Vec<ClaimedJob>, retry_in: Option<Duration>) -> Result<(), Error> {
    let failures: Vec<Failure> = claimed
        .into_iter()
        .map(|job| Failure {
            error: ErrorRecord {
                class: "Timeout".into(),
                message: "gave up".into(),
                attempt: job.attempt,
                at: Utc::now(),
            },
            ticket: job.ticket,
            retry_in,
            payload: None,
        })
        .collect();
    store.backend().expect("a backend").fail(&failures).await?;
    Ok(())
}

async fn fill(store: &dyn Adapter, total: usize) -> Result<(), Error> {
    let scheduled = total / 25;
    let started = Instant::now();
    for start in (0..total).step_by(BATCH) {
        let jobs = (start..(start + BATCH).min(total))
            .map(|i| {
                let queue = if i >= total - 50 {
                    "rare"
                } else if i.is_multiple_of(100) {
                    "mailers"
                } else {
                    "default"
                };
                new_job(i, queue, i >= total - 50 - scheduled && i < total - 50)
            })
            .collect::<Result<Vec<_>, _>>()?;
        store.enqueue_all(&jobs).await?;
    }
    eprintln!("enqueued {total} in {:.1?}", started.elapsed());
    let mut completed = 0;
    while completed < total * 7 / 10 {
        let claimed = claim(store, BATCH.min(total * 7 / 10 - completed)).await?;
        completed += claimed.len();
        let tickets: Vec<_> = claimed.into_iter().map(|job| job.ticket).collect();
        store.backend().expect("a backend").complete(&tickets).await?;
    }
    fail(store, claim(store, total / 200).await?, Some(Duration::from_secs(86_400))).await?;
    fail(store, claim(store, total / 200).await?, None).await?;
    claim(store, 100).await?;
    eprintln!("filled in {:.1?}", started.elapsed());
    Ok(())
}

/// One call of `path`: the time until the whole page is rendered, its status and its body.
async fn render(router: &Router, path: &str) -> (Duration, u16, String) {
    let started = Instant::now();
    let response = router.clone().oneshot(Request::get(path).body(Body::empty()).unwrap()).await.unwrap();
    let status = response.status().as_u16();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    (started.elapsed(), status, String::from_utf8_lossy(&body).into_owned())
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

async fn measure(store: Arc<dyn Adapter>) -> Result<(), Box<dyn std::error::Error>> {
    let inspect = store.inspector().expect("the operations API");
    let started = Instant::now();
    let counts = inspect.counts().await?;
    let counts_took = started.elapsed();
    let total: u64 = JobState::ALL.iter().map(|s| counts.total(*s)).sum();
    println!("{total} jobs; counts() in {}", ms(counts_took));
    let started = Instant::now();
    inspect.queues().await?;
    let queues_took = started.elapsed();
    println!("queues() in {}", ms(queues_took));
    // Long enough for every background count a cold page starts to finish.
    let settle = counts_took.max(queues_took) * 2 + Duration::from_millis(500);
    let dead = inspect.list(&ListParams::new().state(JobState::Dead).limit(1)).await?.jobs[0].id.clone();
    let mut pages: Vec<(String, String)> = vec![
        ("overview".into(), "/".into()),
        ("overview, last day".into(), "/?range=day".into()),
        ("queues".into(), "/queues".into()),
        ("jobs, all".into(), "/jobs".into()),
    ];
    for state in JobState::ALL {
        pages.push((format!("jobs {state}"), format!("/jobs?state={state}")));
        pages.push((format!("jobs {state}, oldest first"), format!("/jobs?state={state}&order=oldest")));
    }
    pages.extend([
        ("jobs on mailers".to_owned(), "/jobs?queue=mailers".to_owned()),
        ("jobs on mailers, oldest first".into(), "/jobs?queue=mailers&order=oldest".into()),
        ("dead jobs on mailers".into(), "/jobs?state=dead&queue=mailers".into()),
        ("jobs of class Report".into(), "/jobs?class=Report".into()),
        ("jobs enqueued in the last hour".into(), "/jobs?since=1h".into()),
        ("a dead job".into(), format!("/jobs/{dead}")),
        ("processes".into(), "/processes".into()),
    ]);
    let page = inspect.list(&ListParams::new().state(JobState::Ready).newest_first().limit(25)).await?;
    if let Some(next) = page.next {
        pages.push(("jobs ready, 2nd page".into(), format!("/jobs?state=ready&after={next}")));
    }
    println!("\n| page | cold | warm (median of 5) |\n|---|---:|---:|");
    for (name, path) in &pages {
        // Cold: a new router, so nothing is cached; warm: the same router, counts cached.
        let router = Dashboard::new(store.clone()).open().router();
        let (cold, status, body) = render(&router, path).await;
        assert_eq!(status, 200, "{path}: {body}");
        // Let the background count the cold call started finish, as it would between visits.
        for _ in 0..600 {
            if !render(&router, path).await.2.contains("counting…") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        tokio::time::sleep(settle).await;
        let mut warm = Vec::new();
        for _ in 0..5 {
            warm.push(render(&router, path).await.0);
        }
        warm.sort();
        println!("| {name} | {} | {} |", ms(cold), ms(warm[2]));
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        Some("sqlite") => {
            let path = args.next().map_or_else(|| std::env::temp_dir().join("render_million.db"), Into::into);
            let total: usize = args.next().map(|n| n.parse()).transpose()?.unwrap_or(1_000_000);
            let sqlite = jobs_sqlite::SqliteAdapter::builder(&path)
                .synchronous(jobs_sqlite::Synchronous::Normal)
                .retain_completed(Duration::from_secs(30 * 86_400))
                .open()
                .await?;
            let store: Arc<dyn Adapter> = Arc::new(sqlite);
            let counts = store.inspector().unwrap().counts().await?;
            if JobState::ALL.iter().map(|s| counts.total(*s)).sum::<u64>() == 0 {
                fill(store.as_ref(), total).await?;
            }
            println!("SQLite {}", path.display());
            measure(store).await
        }
        Some("postgres") => {
            let total: usize = args.next().map(|n| n.parse()).transpose()?.unwrap_or(1_000_000);
            let url = std::env::var("JOBS_BENCH_POSTGRES_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
            let postgres = jobs_postgres::PostgresAdapter::builder()
                .url(&url)
                .schema(SCHEMA)
                .retain_completed(Duration::from_secs(30 * 86_400))
                .connect()
                .await?;
            let pool = postgres.pool().clone();
            let store: Arc<dyn Adapter> = Arc::new(postgres);
            let result = async {
                fill(store.as_ref(), total).await?;
                // Every table of the schema: the jobs, and the completed ones where the adapter keeps them.
                let tables: Vec<String> =
                    sqlx::query_scalar("SELECT tablename::text FROM pg_tables WHERE schemaname = $1")
                        .bind(SCHEMA)
                        .fetch_all(&pool)
                        .await?;
                for table in tables {
                    let vacuum = format!("VACUUM ANALYZE \"{SCHEMA}\".\"{table}\"");
                    sqlx::query(sqlx::AssertSqlSafe(vacuum)).execute(&pool).await?;
                }
                println!("PostgreSQL, schema {SCHEMA}");
                measure(store.clone()).await
            }
            .await;
            sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA IF EXISTS \"{SCHEMA}\" CASCADE")))
                .execute(&pool)
                .await?;
            result
        }
        _ => Err("usage: render_million sqlite [PATH] [JOBS] | render_million postgres [JOBS]".into()),
    }
}
