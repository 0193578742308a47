//! The dashboard over every durable store (SQLite, PostgreSQL, Redis): it is a view of the
//! operations API only, so every page renders and every action acts the same on each.

mod support;

use std::sync::Arc;
use std::time::Duration;

use axum::http::{StatusCode, header};
use jobs_conformance::{service_url, unavailable};
use jobs_core::adapter::Adapter;
use jobs_core::{JobState, ListParams};
use jobs_web::Dashboard;
use serde_json::json;
use sqlx::{Connection, PgConnection};
use support::{call, dead, enqueue, get, job};

const XSS: &str = "<script>alert(1)</script>";

/// Every page, a retry, a pause, on `adapter`.
async fn walk(name: &str, adapter: Arc<dyn Adapter>) {
    let dead_id = dead(adapter.as_ref(), "SendInvoice", "billing", json!([7]), "SMTP refused").await;
    enqueue(adapter.as_ref(), job("Greet", "default", json!([XSS]))).await;
    let router = Dashboard::new(adapter.clone()).open().router();
    let mut paths = vec!["/".to_owned(), "/?range=day".into(), "/queues".into(), "/jobs".into(), "/processes".into()];
    paths.extend(JobState::ALL.iter().map(|s| format!("/jobs?state={s}")));
    paths.push(format!("/jobs/{dead_id}"));
    for path in &paths {
        let page = get(&router, path).await;
        assert_eq!(page.status, StatusCode::OK, "{name} {path}: {}", page.body);
    }
    let ready = get(&router, "/jobs?state=ready").await;
    assert!(ready.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && !ready.body.contains(XSS), "{name}");
    let dead_page = get(&router, "/jobs?state=dead").await;
    assert!(dead_page.body.contains(&format!("data-job-id=\"{dead_id}\"")) && dead_page.body.contains("SMTP refused"));

    let cookie = dead_page.cookie();
    let headers = [("cookie", cookie.as_str()), ("sec-fetch-site", "same-origin")];
    let form = format!("do=retry&id={dead_id}&return_to=%2Fjobs%3Fstate%3Ddead&_csrf={}", dead_page.csrf());
    let retried = call(&router, "POST", "/jobs", &headers, &form).await;
    assert_eq!(retried.headers[header::LOCATION], "/jobs?state=dead&done=retry&n=1", "{name}: {}", retried.body);
    let after = get(&router, "/jobs?state=dead").await;
    assert!(!after.body.contains(&format!("data-job-id=\"{dead_id}\"")), "{name}: the retried job left the dead list");

    let form = format!("queue=default&do=pause&_csrf={}", dead_page.csrf());
    let paused = call(&router, "POST", "/queues", &headers, &form).await;
    assert_eq!(paused.status, StatusCode::SEE_OTHER, "{name}");
    let queues = get(&router, "/queues").await;
    let row = queues.body.split("data-queue=\"default\"").nth(1).expect("the default queue's row");
    assert!(row.split("</tr>").next().unwrap().contains("badge paused"), "{name}: {row}");
    let inspect = adapter.inspector().unwrap();
    assert_eq!(inspect.paused().await.unwrap(), ["default"]);
    inspect.resume("default").await.unwrap();
    assert_eq!(inspect.list(&ListParams::new().state(JobState::Dead)).await.unwrap().jobs.len(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = jobs_sqlite::SqliteAdapter::open(dir.path().join("jobs.db")).await.unwrap();
    walk("SQLite", Arc::new(sqlite)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres() {
    let url = service_url("JOBS_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test");
    let schema = format!("jobs_web_test_{:016x}", fastrand::u64(..));
    let connected = tokio::time::timeout(Duration::from_secs(5), PgConnection::connect(&url)).await;
    let mut conn = match connected {
        Ok(Ok(conn)) => conn,
        Ok(Err(error)) => {
            return unavailable("PostgreSQL", "the dashboard", jobs_postgres::redact(&error.to_string())).unwrap_or(());
        }
        Err(_) => return unavailable("PostgreSQL", "the dashboard", "no answer within 5 s").unwrap_or(()),
    };
    let postgres = jobs_postgres::PostgresAdapter::builder().url(&url).schema(&schema).connect().await.unwrap();
    let walked = tokio::spawn(walk("PostgreSQL", Arc::new(postgres.clone()))).await;
    postgres.close().await;
    let drop = format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
    sqlx::query(sqlx::AssertSqlSafe(drop)).execute(&mut conn).await.unwrap();
    walked.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn redis() {
    let url = service_url("JOBS_TEST_REDIS_URL", "redis://127.0.0.1:6379");
    let prefix = format!("jobs-test:web:{:016x}", fastrand::u64(..));
    let connected = tokio::time::timeout(
        Duration::from_secs(5),
        jobs_redis::RedisAdapter::builder().url(&url).prefix(&prefix).connect(),
    )
    .await;
    let redis = match connected {
        Ok(Ok(redis)) => redis,
        Ok(Err(error)) => {
            return unavailable("Redis", "the dashboard", jobs_redis::redact(&error.to_string())).unwrap_or(());
        }
        Err(_) => return unavailable("Redis", "the dashboard", "no answer within 5 s").unwrap_or(()),
    };
    let walked = tokio::spawn(walk("Redis", Arc::new(redis.clone()))).await;
    redis.clear().await.unwrap();
    walked.unwrap();
}
