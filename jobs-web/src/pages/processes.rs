//! The worker processes: hosts, pids, queues, concurrency, busy jobs and heartbeat age; quiet
//! and stop.

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use jobs_core::{JobState, ListParams, ProcessCommand};
use serde::Serialize;

use crate::guard::Ctx;
use crate::params::Form;
use crate::render::{self, Nav, PageError};
use crate::router::Shared;
use crate::view::{self, JobRow, When};

/// Running jobs the page shows at most (the busiest stores run more at once than a page holds).
const RUNNING_SHOWN: usize = 200;

#[derive(Serialize)]
struct ProcessRow {
    id: String,
    hostname: String,
    pid: u32,
    version: String,
    queues: String,
    concurrency: usize,
    busy: usize,
    state: &'static str,
    started: Option<When>,
    heartbeat: String,
    jobs: Vec<JobRow>,
}

/// `GET /processes`.
pub(crate) async fn page(
    State(shared): State<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let query = Form::query(query.as_deref());
    let inspect = shared.inspect()?;
    let running = ListParams::new().state(JobState::Running).limit(RUNNING_SHOWN);
    let (processes, running) = tokio::join!(inspect.processes(), inspect.list(&running));
    let (processes, running) = (processes?, running?);
    let now = Utc::now();
    let mut rows: Vec<ProcessRow> = processes
        .iter()
        .map(|p| ProcessRow {
            id: p.id.clone(),
            hostname: p.hostname.clone(),
            pid: p.pid,
            version: p.version.clone(),
            queues: p.queues.join(", "),
            concurrency: p.concurrency,
            busy: p.busy,
            state: p.state.as_str(),
            started: view::when(Some(p.started_at), now),
            heartbeat: view::human((now - p.last_heartbeat).to_std().unwrap_or_default()),
            jobs: running
                .jobs
                .iter()
                .filter(|job| job.worker_id.as_deref() == Some(p.id.as_str()))
                .map(|job| JobRow::new(&shared, &ctx.base, job, now))
                .collect(),
        })
        .collect();
    rows.sort_by(|a, b| (&a.hostname, a.pid).cmp(&(&b.hostname, b.pid)));
    let orphans: Vec<JobRow> = running
        .jobs
        .iter()
        .filter(|job| !processes.iter().any(|p| job.worker_id.as_deref() == Some(p.id.as_str())))
        .map(|job| JobRow::new(&shared, &ctx.base, job, now))
        .collect();
    let data = minijinja::context! {
        processes => render::value(&rows),
        orphans => render::value(&orphans),
        more_running => running.next.is_some(),
        busy => processes.iter().map(|p| p.busy).sum::<usize>(),
        concurrency => processes.iter().map(|p| p.concurrency).sum::<usize>(),
        notice => super::notice(&query),
    };
    Ok(render::page(&shared, &ctx, "processes.html", Nav::Processes, "Processes", data).into_response())
}

/// `POST /processes`: `do` = `quiet` or `stop` the process `id`.
pub(crate) async fn act(
    State(shared): State<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> Result<Response, PageError> {
    let form = Form::parse(&body);
    let id = form.get("id").ok_or_else(|| PageError::bad_request("which process? the form has no `id`"))?;
    let command = match form.get("do") {
        Some("quiet") => ProcessCommand::Quiet,
        Some("stop") => ProcessCommand::Stop,
        other => return Err(PageError::bad_request(format!("unknown process command {other:?}: use quiet or stop"))),
    };
    let reached = shared.inspect()?.signal(id, command).await?;
    tracing::info!(target: "jobs", process = id, command = command.as_str(), reached, "Dashboard signal to a process");
    Ok(super::done(&ctx, "/processes", command.as_str(), u64::from(reached)))
}
