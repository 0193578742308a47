//! The overview: jobs per state and queue, the chart of processed and failed runs, latency and
//! workers at a glance.

use std::sync::Arc;
use std::time::Duration;

use axum::Extension;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use jobs_core::JobState;
use minijinja::Value;
use serde::Serialize;

use crate::chart::{self, Range};
use crate::guard::Ctx;
use crate::params::Form;
use crate::render::{self, Nav, PageError};
use crate::router::Shared;
use crate::view::{self, Counted};

#[derive(Serialize)]
struct StateCount {
    name: &'static str,
    count: u64,
    href: String,
}

#[derive(Serialize)]
struct QueueRow {
    name: String,
    href: String,
    counts: Vec<StateCount>,
}

/// `GET /`.
pub(crate) async fn page(
    State(shared): State<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let query = Form::query(query.as_deref());
    let range = Range::parse(query.get("range")).map_err(PageError::bad_request)?;
    let inspect = shared.inspect()?;
    let (counts, queues, history, processes) = tokio::join!(
        shared.counts.get(&shared.adapter, shared.cache_for),
        shared.queues.get(&shared.adapter, shared.cache_for),
        shared.history.get(&shared.adapter, shared.cache_for),
        inspect.processes(),
    );
    let processes = processes?;
    let base = &ctx.base;
    let state_href = |state: JobState, queue: Option<&str>| {
        let mut href = format!("{base}/jobs?state={state}");
        if let Some(queue) = queue {
            href.push_str("&queue=");
            href.extend(form_urlencoded::byte_serialize(queue.as_bytes()));
        }
        href
    };
    let counted = Counted::of(&counts);
    let (states, queue_rows) = match counts.as_ref().and_then(|s| s.value.as_ref().ok()) {
        Some(counts) => {
            let states: Vec<StateCount> = JobState::ALL
                .iter()
                .map(|s| StateCount { name: s.as_str(), count: counts.total(*s), href: state_href(*s, None) })
                .collect();
            let mut names: Vec<&str> = counts.iter().map(|(queue, _, _)| queue).collect();
            names.dedup();
            let rows = names
                .into_iter()
                .map(|queue| QueueRow {
                    name: queue.to_owned(),
                    href: state_href(JobState::Ready, Some(queue)),
                    counts: JobState::ALL
                        .iter()
                        .map(|s| StateCount {
                            name: s.as_str(),
                            count: counts.get(queue, *s),
                            href: state_href(*s, Some(queue)),
                        })
                        .collect(),
                })
                .collect();
            (states, rows)
        }
        None => (Vec::new(), Vec::new()),
    };
    let latency = queues
        .as_ref()
        .and_then(|s| s.value.as_ref().ok())
        .map(|queues| queues.iter().map(|q| q.latency).max().unwrap_or(Duration::ZERO))
        .map(view::latency);
    let history_counted = Counted::of(&history);
    let (chart, processed, failed) = match history.as_ref().and_then(|s| s.value.as_ref().ok()) {
        Some(points) => {
            let series = chart::series(points, range, Utc::now());
            (Some(Value::from_safe_string(chart::svg(&series))), series.processed, series.failed)
        }
        None => (None, 0, 0),
    };
    let data = minijinja::context! {
        states => render::value(&states), queues => render::value(&queue_rows), counted => render::value(&counted), latency,
        chart, processed, failed, range => range.as_str(), history_counted => render::value(&history_counted),
        processes => processes.len(),
        busy => processes.iter().map(|p| p.busy).sum::<usize>(),
        concurrency => processes.iter().map(|p| p.concurrency).sum::<usize>(),
        notice => super::notice(&query),
    };
    Ok(render::page(&shared, &ctx, "overview.html", Nav::Overview, "Overview", data).into_response())
}
