//! What the dashboard's tests share: seeding a store through the adapter contract, and calling
//! the router as a service.

#![allow(dead_code, unreachable_pub)]

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use chrono::Utc;
use jobs_core::JobData;
use jobs_core::adapter::{Adapter, ClaimParams, ErrorRecord, Failure, NewJob};
use serde_json::{Value, json};
use tower::ServiceExt;

/// A job of `class` on `queue` with `arguments`, as the runtime would store it.
pub fn job(class: &str, queue: &str, arguments: Value) -> NewJob {
    let payload = json!({
        "job_class": class, "job_id": uuid_like(), "queue_name": queue, "arguments": arguments,
        "executions": 0, "exception_executions": {}, "locale": "en", "priority": null,
        "enqueued_at": jobs_core::adapter::format_time(&Utc::now()),
    });
    NewJob::new(JobData::from_json(&payload.to_string()).unwrap()).unwrap()
}

fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("00000000-0000-4000-8000-{:012}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// Stores `job` and returns its provider id.
pub async fn enqueue(adapter: &dyn Adapter, job: NewJob) -> String {
    adapter.enqueue(&job).await.unwrap().expect("the adapter gives provider ids")
}

/// Stores a job on `queue` (which must hold no other ready job) and runs it into the dead set
/// with `message`; returns its id.
pub async fn dead(adapter: &dyn Adapter, class: &str, queue: &str, arguments: Value, message: &str) -> String {
    let id = enqueue(adapter, job(class, queue, arguments)).await;
    let backend = adapter.backend().expect("a backend");
    let queues = [queue.to_owned()];
    let claimed = backend
        .claim(ClaimParams { queues: &queues, limit: 1, lease: Duration::from_secs(60), worker_id: "seeder" })
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1, "the seeded job is claimed");
    let failure = Failure {
        error: ErrorRecord { class: "RuntimeError".into(), message: message.into(), attempt: 1, at: Utc::now() },
        ticket: claimed.into_iter().next().unwrap().ticket,
        retry_in: None,
        payload: None,
    };
    backend.fail(&[failure]).await.unwrap();
    id
}

/// An answer of the router.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Answer {
    /// The dashboard token of the page's forms.
    pub fn csrf(&self) -> String {
        let at = self.body.find("name=\"_csrf\" value=\"").expect("a form with a token") + 20;
        self.body[at..at + 64].to_owned()
    }

    /// The `jobs_csrf=...` pair of the answer's `Set-Cookie`.
    pub fn cookie(&self) -> String {
        let set = self.headers.get(header::SET_COOKIE).expect("a cookie").to_str().unwrap();
        set.split(';').next().unwrap().to_owned()
    }
}

/// `method path` through `router`, with `headers` and a form `body`.
pub async fn call(router: &Router, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Answer {
    let mut request = Request::builder().method(method).uri(path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if method == "POST" {
        request = request.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    }
    let response = router.clone().oneshot(request.body(Body::from(body.to_owned())).unwrap()).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    Answer { status, headers, body: String::from_utf8(bytes.to_vec()).unwrap() }
}

/// `GET path`.
pub async fn get(router: &Router, path: &str) -> Answer {
    call(router, "GET", path, &[], "").await
}
