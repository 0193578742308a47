//! The routes, and what every handler shares.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::middleware;
use axum::routing::get;
use chrono::{TimeDelta, Utc};
use jobs_core::adapter::{Adapter, BoxFuture};
use jobs_core::{Counts, Error, HistoryPoint, Inspect, QueueStats, RecurringTasks, Registry, Runtime};

use crate::cache::Cached;
use crate::dashboard::Dashboard;
use crate::{assets, guard, pages, render};

/// What every handler shares: the settings, the store, the templates and the cached counts.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) adapter: Arc<dyn Adapter>,
    pub(crate) registry: Registry,
    pub(crate) access: Option<crate::auth::Access>,
    pub(crate) read_only: bool,
    pub(crate) hide_arguments: bool,
    pub(crate) refresh: Duration,
    pub(crate) cache_for: Duration,
    pub(crate) page_size: usize,
    pub(crate) templates: render::Templates,
    pub(crate) counts: Arc<Cached<Counts>>,
    pub(crate) queues: Arc<Cached<Vec<QueueStats>>>,
    pub(crate) history: Arc<Cached<Vec<HistoryPoint>>>,
    /// The store's recurring tasks, steered through a runtime over it; `None` when it stores none.
    pub(crate) recurring: Option<RecurringTasks>,
}

impl Shared {
    /// The operations API of the store, or why there is none.
    pub(crate) fn inspect(&self) -> Result<&dyn Inspect, Error> {
        self.adapter
            .inspector()
            .ok_or_else(|| Error::not_supported(self.adapter.name(), "the operations API (the dashboard needs it)"))
    }

    /// The recurring tasks of the store, or why there are none.
    pub(crate) fn recurring(&self) -> Result<&RecurringTasks, Error> {
        self.recurring.as_ref().ok_or_else(|| Error::not_supported(self.adapter.name(), "recurring tasks"))
    }

    /// After an action: every cached count is counted again.
    pub(crate) fn invalidate(&self) {
        self.counts.invalidate();
        self.queues.invalidate();
        self.history.invalidate();
    }
}

fn inspector(adapter: &Arc<dyn Adapter>) -> Result<&dyn Inspect, Error> {
    adapter.inspector().ok_or_else(|| Error::not_supported(adapter.name(), "the operations API"))
}

fn load_counts(adapter: Arc<dyn Adapter>) -> BoxFuture<'static, Result<Counts, Error>> {
    Box::pin(async move { inspector(&adapter)?.counts().await })
}

fn load_queues(adapter: Arc<dyn Adapter>) -> BoxFuture<'static, Result<Vec<QueueStats>, Error>> {
    Box::pin(async move { inspector(&adapter)?.queues().await })
}

fn load_history(adapter: Arc<dyn Adapter>) -> BoxFuture<'static, Result<Vec<HistoryPoint>, Error>> {
    Box::pin(async move { inspector(&adapter)?.history(Utc::now() - TimeDelta::days(1)).await })
}

/// The dashboard's router.
pub(crate) fn build(dashboard: Dashboard) -> Router {
    let runtime = match dashboard.runtime.clone() {
        Some(runtime) => Ok(runtime),
        None => {
            Runtime::builder().shared_adapter(dashboard.adapter.clone()).registry(dashboard.registry.clone()).build()
        }
    };
    let recurring = runtime.and_then(|runtime| RecurringTasks::new(&runtime)).ok();
    let shared = Arc::new(Shared {
        adapter: dashboard.adapter,
        registry: dashboard.registry,
        access: dashboard.access,
        read_only: dashboard.read_only,
        hide_arguments: dashboard.hide_arguments,
        refresh: dashboard.refresh,
        cache_for: dashboard.cache_for,
        page_size: dashboard.page_size,
        templates: render::Templates::new(),
        counts: Cached::new(load_counts),
        queues: Cached::new(load_queues),
        history: Cached::new(load_history),
        recurring,
    });
    Router::new()
        .route("/", get(pages::overview::page))
        .route("/queues", get(pages::queues::page).post(pages::queues::act))
        .route("/jobs", get(pages::jobs::page).post(pages::jobs::act))
        .route("/jobs/{id}", get(pages::job::page))
        .route("/processes", get(pages::processes::page).post(pages::processes::act))
        .route("/recurring", get(pages::recurring::page).post(pages::recurring::act))
        .route("/assets/{file}", get(assets::serve))
        .fallback(pages::not_found)
        .layer(middleware::from_fn_with_state(shared.clone(), guard::guard))
        .with_state(shared)
}
