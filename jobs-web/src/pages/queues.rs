//! The queues: size, jobs per state, latency and pause; pause, resume and clear.

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use jobs_core::{JobAction, JobFilter, JobState, Target};
use serde::Serialize;

use crate::guard::Ctx;
use crate::params::Form;
use crate::render::{self, Nav, PageError};
use crate::router::Shared;
use crate::view::{self, Counted};

#[derive(Serialize)]
struct QueueRow {
    name: String,
    href: String,
    size: u64,
    ready: u64,
    scheduled: u64,
    running: u64,
    retrying: u64,
    dead: u64,
    latency: String,
    paused: bool,
}

/// `GET /queues`.
pub(crate) async fn page(
    State(shared): State<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let query = Form::query(query.as_deref());
    let inspect = shared.inspect()?;
    // Pauses are read at once (a cheap read), so a pause shows as soon as it is made.
    let (queues, paused) = tokio::join!(shared.queues.get(&shared.adapter, shared.cache_for), inspect.paused());
    let paused = paused?;
    let counted = Counted::of(&queues);
    let mut rows: Vec<QueueRow> = match queues.as_ref().and_then(|s| s.value.as_ref().ok()) {
        Some(queues) => queues
            .iter()
            .map(|q| QueueRow {
                href: format!(
                    "{}/jobs?queue={}",
                    ctx.base,
                    form_urlencoded::byte_serialize(q.queue.as_bytes()).collect::<String>()
                ),
                name: q.queue.clone(),
                size: q.size(),
                ready: q.count(JobState::Ready),
                scheduled: q.count(JobState::Scheduled),
                running: q.count(JobState::Running),
                retrying: q.count(JobState::Retrying),
                dead: q.count(JobState::Dead),
                latency: view::latency(q.latency),
                paused: paused.contains(&q.queue),
            })
            .collect(),
        None => Vec::new(),
    };
    for name in &paused {
        if !rows.iter().any(|row| &row.name == name) {
            rows.push(QueueRow {
                href: format!(
                    "{}/jobs?queue={}",
                    ctx.base,
                    form_urlencoded::byte_serialize(name.as_bytes()).collect::<String>()
                ),
                name: name.clone(),
                size: 0,
                ready: 0,
                scheduled: 0,
                running: 0,
                retrying: 0,
                dead: 0,
                latency: view::latency(std::time::Duration::ZERO),
                paused: true,
            });
        }
    }
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    let data = minijinja::context! { queues => render::value(&rows), counted => render::value(&counted), notice => super::notice(&query) };
    Ok(render::page(&shared, &ctx, "queues.html", Nav::Queues, "Queues", data).into_response())
}

/// `POST /queues`: `do` = `pause`, `resume` or `clear` (discard every waiting job of the queue
/// to the dead set, where they can still be retried) on `queue`.
pub(crate) async fn act(
    State(shared): State<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> Result<Response, PageError> {
    let form = Form::parse(&body);
    let queue = form.get("queue").ok_or_else(|| PageError::bad_request("which queue? the form has no `queue`"))?;
    let inspect = shared.inspect()?;
    let (action, n) = match form.get("do") {
        Some("pause") => inspect.pause(queue).await.map(|()| ("pause", 1))?,
        Some("resume") => inspect.resume(queue).await.map(|()| ("resume", 1))?,
        Some("clear") => {
            let target = Target::Filter(JobFilter::new().queue(queue));
            ("clear", inspect.apply(JobAction::Discard, &target).await?)
        }
        other => {
            return Err(PageError::bad_request(format!("unknown queue action {other:?}: use pause, resume or clear")));
        }
    };
    tracing::info!(target: "jobs", queue, action, changed = n, "Dashboard action on a queue");
    shared.invalidate();
    Ok(super::done(&ctx, &crate::params::return_path(&form, "/queues"), action, n))
}
