//! One job: its payload (arguments as data, or redacted), attempts, error history and worker,
//! with the actions its state takes.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use jobs_core::{FlowKeys, JobAction};
use serde::Serialize;

use crate::guard::Ctx;
use crate::params::{Form, path_segment};
use crate::render::{self, Nav, PageError};
use crate::router::Shared;
use crate::view::{self, REDACTED, When};

#[derive(Serialize)]
struct ErrorRow {
    class: String,
    message: String,
    attempt: u32,
    at: Option<When>,
}

/// A job's flow-control keys as the page shows them; keys built from arguments are hidden for a
/// redacted job (the unique key is a digest, shown either way).
#[derive(Serialize)]
struct FlowView {
    concurrency: Option<String>,
    blocked_href: Option<String>,
    unique: Option<String>,
    throttle: Option<String>,
    throttle_slot: Option<When>,
}

fn flow_view(flow: &FlowKeys, redacted: bool, base: &str, now: chrono::DateTime<Utc>) -> FlowView {
    let shown = |key: &Option<String>| key.as_ref().map(|key| if redacted { REDACTED.to_owned() } else { key.clone() });
    let blocked_href = flow.concurrency.as_ref().filter(|_| !redacted).map(|key| {
        format!(
            "{base}/jobs?state=blocked&text={}",
            form_urlencoded::byte_serialize(key.as_bytes()).collect::<String>()
        )
    });
    FlowView {
        concurrency: shown(&flow.concurrency),
        blocked_href,
        unique: flow.unique.clone(),
        throttle: shown(&flow.throttle),
        throttle_slot: view::when(flow.throttle_slot, now),
    }
}

#[derive(Serialize)]
struct Action {
    action: &'static str,
    label: &'static str,
    danger: bool,
}

/// `GET /jobs/{id}`: by backend id or Active Job job id.
pub(crate) async fn page(
    State(shared): State<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let query = Form::query(query.as_deref());
    let job = shared.inspect()?.find(&id).await?.ok_or_else(|| PageError::not_found(format!("no job with id {id}")))?;
    let now = Utc::now();
    let redacted = view::redacts(&shared, &job.class);
    let data = job.data().ok();
    let arguments = match &data {
        _ if redacted => REDACTED.to_owned(),
        Some(data) => serde_json::to_string_pretty(&data.arguments).unwrap_or_default(),
        None => String::new(),
    };
    let mut errors: Vec<ErrorRow> = job
        .errors
        .iter()
        .map(|e| ErrorRow {
            class: e.class.clone(),
            message: e.message.clone(),
            attempt: e.attempt,
            at: view::when(Some(e.at), now),
        })
        .collect();
    errors.reverse();
    let labels = [
        (JobAction::Retry, "Retry", false),
        (JobAction::RunNow, "Run now", false),
        (JobAction::Discard, "Discard", true),
        (JobAction::Delete, "Delete", true),
    ];
    let actions: Vec<Action> = labels
        .into_iter()
        .filter(|(action, _, _)| action.applies_to(job.state))
        .map(|(action, label, danger)| Action { action: action.as_str(), label, danger })
        .collect();
    let queue_href = format!(
        "{}/jobs?queue={}",
        ctx.base,
        form_urlencoded::byte_serialize(job.queue.as_bytes()).collect::<String>()
    );
    let page_data = minijinja::context! {
        job => minijinja::context! {
            id => job.id.clone(),
            job_id => job.job_id,
            class => job.class.clone(),
            queue => job.queue,
            queue_href,
            priority => job.priority,
            state => job.state.as_str(),
            attempts => job.attempts,
            run_at => render::value(&view::when(job.run_at, now)),
            enqueued => render::value(&view::when(job.enqueued_at, now)),
            started => render::value(&view::when(job.started_at, now)),
            finished => render::value(&view::when(job.finished_at, now)),
            worker => job.worker_id,
            executions => data.as_ref().map(|d| d.executions),
            exception_executions => render::value(&data.as_ref().map(|d| d.exception_executions.clone())),
            locale => data.as_ref().map(|d| d.locale.clone()),
            timezone => data.as_ref().and_then(|d| d.timezone.clone()),
            scheduled => render::value(&view::when(data.as_ref().and_then(|d| d.scheduled_at), now)),
            flow => render::value(&data.as_ref().and_then(|d| d.flow.as_ref()).map(|flow| flow_view(flow, redacted, &ctx.base, now))),
            undecodable => data.is_none(),
        },
        arguments,
        redacted,
        payload => view::payload(&job.payload, redacted),
        errors => render::value(&errors),
        actions => render::value(&actions),
        return_to => format!("/jobs/{}", path_segment(&job.id)),
        notice => super::notice(&query),
    };
    let title = format!("{} {}", job.class, job.id);
    Ok(render::page(&shared, &ctx, "job.html", Nav::Jobs, &title, page_data).into_response())
}
