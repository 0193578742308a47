//! The recurring tasks: schedule, job, next and last run, paused or not; run now, pause, resume.

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::Serialize;

use crate::guard::Ctx;
use crate::params::Form;
use crate::render::{self, Nav, PageError};
use crate::router::Shared;
use crate::view::{self, When};

#[derive(Serialize)]
struct TaskRow {
    key: String,
    schedule: String,
    time_zone: Option<String>,
    class: String,
    queue: String,
    description: Option<String>,
    declared: &'static str,
    paused: bool,
    next_run: Option<When>,
    last_run: Option<When>,
    last_job: Option<String>,
    last_job_href: Option<String>,
}

/// `GET /recurring`.
pub(crate) async fn page(
    State(shared): State<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let query = Form::query(query.as_deref());
    let now = Utc::now();
    let infos = shared.recurring()?.list().await?;
    let rows: Vec<TaskRow> = infos
        .into_iter()
        .map(|info| {
            let (task, state) = (&info.state.task, &info.state);
            TaskRow {
                key: task.key.clone(),
                schedule: task.schedule.clone(),
                time_zone: task.time_zone.clone(),
                class: task.class.clone(),
                queue: task.queue.clone().unwrap_or_else(|| "(the job's)".to_owned()),
                description: task.description.clone(),
                declared: if task.is_static { "code or file" } else { "at run time" },
                paused: state.paused,
                next_run: view::when(info.next_run_at, now),
                last_run: view::when(state.last_run_at, now),
                last_job: state.last_job_id.clone(),
                last_job_href: state.last_job_id.as_ref().map(|id| format!("{}/jobs/{id}", ctx.base)),
            }
        })
        .collect();
    let data = minijinja::context! {
        tasks => render::value(&rows),
        notice => super::notice(&query),
    };
    Ok(render::page(&shared, &ctx, "recurring.html", Nav::Recurring, "Recurring tasks", data).into_response())
}

/// `POST /recurring`: `do` = `run_now`, `pause` or `resume` the task `key`.
pub(crate) async fn act(
    State(shared): State<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> Result<Response, PageError> {
    let form = Form::parse(&body);
    let key = form.get("key").ok_or_else(|| PageError::bad_request("which task? the form has no `key`"))?;
    let tasks = shared.recurring()?;
    let (action, found) = match form.get("do") {
        Some("run_now") => ("task_run", tasks.run_now(key).await.map(|_| true)?),
        Some("pause") => ("task_pause", tasks.pause(key).await?),
        Some("resume") => ("task_resume", tasks.resume(key).await?),
        other => {
            return Err(PageError::bad_request(format!("unknown task action {other:?}: use run_now, pause or resume")));
        }
    };
    tracing::info!(target: "jobs", task = key, action, found, "Dashboard action on a recurring task");
    shared.invalidate();
    Ok(super::done(&ctx, "/recurring", action, u64::from(found)))
}
