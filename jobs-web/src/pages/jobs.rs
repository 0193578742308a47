//! The jobs: by state, filtered, in keyset pages; bulk retry, run now, discard and delete.

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use jobs_core::{JobAction, JobState, ListParams, Target};
use serde::Serialize;

use crate::guard::Ctx;
use crate::params::{Filters, Form};
use crate::render::{self, Nav, PageError};
use crate::router::Shared;
use crate::view::{Counted, JobRow};

#[derive(Serialize)]
struct Tab {
    name: &'static str,
    href: String,
    count: Option<u64>,
    active: bool,
}

#[derive(Serialize)]
struct Bulk {
    action: &'static str,
    label: &'static str,
    danger: bool,
}

/// The bulk actions that apply to jobs of `state` (all of them when no state is chosen).
fn bulk_actions(state: Option<JobState>) -> Vec<Bulk> {
    let all = [
        (JobAction::Retry, "Retry", false),
        (JobAction::RunNow, "Run now", false),
        (JobAction::Discard, "Discard", true),
        (JobAction::Delete, "Delete", true),
    ];
    all.into_iter()
        .filter(|(action, _, _)| state.is_none_or(|s| action.applies_to(s)))
        .map(|(action, label, danger)| Bulk { action: action.as_str(), label, danger })
        .collect()
}

/// `GET /jobs`.
pub(crate) async fn page(
    State(shared): State<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
    RawQuery(raw): RawQuery,
) -> Result<Response, PageError> {
    let query = Form::query(raw.as_deref());
    let filters = Filters::from_form(&query).map_err(PageError::bad_request)?;
    let now = Utc::now();
    let filter = filters.to_filter(now, !shared.hide_arguments).map_err(PageError::bad_request)?;
    let mut params = ListParams::new().filter(filter).limit(shared.page_size);
    if filters.newest_first() {
        params = params.newest_first();
    }
    params.after = query.get("after").map(str::to_owned);
    let inspect = shared.inspect()?;
    let (page, counts) = tokio::join!(inspect.list(&params), shared.counts.get(&shared.adapter, shared.cache_for));
    let page = page?;
    let rows: Vec<JobRow> = page.jobs.iter().map(|job| JobRow::new(&shared, &ctx.base, job, now)).collect();

    let counted = Counted::of(&counts);
    let counts = counts.as_ref().and_then(|s| s.value.as_ref().ok()).cloned();
    let count_of = |state: JobState| {
        counts.as_ref().map(|c| match &filters.queue {
            Some(queue) => c.get(queue, state),
            None => c.total(state),
        })
    };
    let tab_query = |state: Option<JobState>| {
        let tab = Filters { state, order: None, ..filters.clone() };
        let query = tab.query();
        if query.is_empty() { format!("{}/jobs", ctx.base) } else { format!("{}/jobs?{query}", ctx.base) }
    };
    let mut tabs = vec![Tab { name: "all", href: tab_query(None), count: None, active: filters.state.is_none() }];
    tabs.extend(JobState::ALL.iter().map(|s| Tab {
        name: s.as_str(),
        href: tab_query(Some(*s)),
        count: count_of(*s),
        active: filters.state == Some(*s),
    }));
    let this_query = filters.query();
    let first_page = if this_query.is_empty() { "/jobs".to_owned() } else { format!("/jobs?{this_query}") };
    let next = page.next.as_ref().map(|cursor| {
        let mut query = form_urlencoded::Serializer::new(this_query.clone());
        query.append_pair("after", cursor);
        format!("{}/jobs?{}", ctx.base, query.finish())
    });
    let return_to = match &raw {
        Some(raw) if !raw.is_empty() => format!("/jobs?{}", strip_notice(raw)),
        _ => "/jobs".to_owned(),
    };
    let data = minijinja::context! {
        jobs => render::value(&rows),
        tabs => render::value(&tabs),
        filters => render::value(&filters),
        counted => render::value(&counted),
        bulk => render::value(&bulk_actions(filters.state)),
        next,
        first_page => format!("{}{first_page}", ctx.base),
        paged => params.after.is_some(),
        return_to,
        text_search => !shared.hide_arguments,
        notice => super::notice(&query),
    };
    let title = filters.state.map_or("Jobs".to_owned(), |s| format!("Jobs: {s}"));
    Ok(render::page(&shared, &ctx, "jobs.html", Nav::Jobs, &title, data).into_response())
}

/// The query string without the notice of the previous action.
fn strip_notice(raw: &str) -> String {
    let kept = form_urlencoded::parse(raw.as_bytes()).filter(|(key, _)| key != "done" && key != "n");
    form_urlencoded::Serializer::new(String::new()).extend_pairs(kept).finish()
}

/// `POST /jobs`: `do` = `retry`, `run_now`, `discard` or `delete`, on the jobs `id` names, or
/// with `scope=filter` on every job the filter fields match.
pub(crate) async fn act(
    State(shared): State<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> Result<Response, PageError> {
    let form = Form::parse(&body);
    let action = JobAction::ALL
        .into_iter()
        .find(|a| form.get("do") == Some(a.as_str()))
        .ok_or_else(|| PageError::bad_request("unknown job action: use retry, run_now, discard or delete"))?;
    let target = if form.get("scope") == Some("filter") {
        let filters = Filters::from_form(&form).map_err(PageError::bad_request)?;
        Target::Filter(filters.to_filter(Utc::now(), !shared.hide_arguments).map_err(PageError::bad_request)?)
    } else {
        let ids = form.all("id");
        if ids.is_empty() {
            return Err(PageError::bad_request("no job selected: tick the jobs to act on"));
        }
        Target::Ids(ids)
    };
    let n = shared.inspect()?.apply(action, &target).await?;
    tracing::info!(target: "jobs", action = action.as_str(), changed = n, "Dashboard action on jobs");
    shared.invalidate();
    let mut back = crate::params::return_path(&form, "/jobs");
    if action == JobAction::Delete && back.starts_with("/jobs/") {
        // The page of a deleted job is gone: back to the list.
        back = "/jobs".to_owned();
    }
    Ok(super::done(&ctx, &back, action.as_str(), n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offers_only_the_actions_a_state_takes() {
        let names = |state| bulk_actions(state).into_iter().map(|b| b.action).collect::<Vec<_>>();
        assert_eq!(names(Some(JobState::Dead)), ["retry", "delete"]);
        assert_eq!(names(Some(JobState::Scheduled)), ["run_now", "discard", "delete"]);
        assert!(names(Some(JobState::Running)).is_empty());
        assert_eq!(names(None).len(), 4);
        assert_eq!(strip_notice("state=dead&done=retry&n=2"), "state=dead");
    }
}
