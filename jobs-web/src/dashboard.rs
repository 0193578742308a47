//! `Dashboard`: what the application decides before the router is built.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use jobs_core::adapter::Adapter;
use jobs_core::{Registry, Runtime};

use crate::auth::{Access, Request};

/// The dashboard's settings; [`router`](Dashboard::router) builds the [`axum::Router`] to mount.
///
/// ```no_run
/// # fn demo(adapter: std::sync::Arc<dyn jobs_core::adapter::Adapter>) -> axum::Router {
/// use jobs_web::Dashboard;
///
/// // Only requests the application's own session check lets through, and no actions.
/// Dashboard::new(adapter)
///     .authorize(|request| request.headers().get("x-admin-session").is_some_and(|v| v == "valid"))
///     .read_only(true)
///     .router()
/// # }
/// ```
#[derive(Clone)]
pub struct Dashboard {
    pub(crate) adapter: Arc<dyn Adapter>,
    pub(crate) registry: Registry,
    pub(crate) access: Option<Access>,
    pub(crate) read_only: bool,
    pub(crate) hide_arguments: bool,
    pub(crate) refresh: Duration,
    pub(crate) cache_for: Duration,
    pub(crate) page_size: usize,
    /// The application's runtime, for [`for_runtime`](Self::for_runtime): a recurring task run
    /// from the dashboard is enqueued through it (its subscribers, middleware, trace context).
    pub(crate) runtime: Option<Runtime>,
}

impl Dashboard {
    /// A dashboard of the jobs `adapter` stores, knowing the job classes declared with `#[job]`
    /// in this program (for `log_arguments = false`). It serves nobody until one of
    /// [`authorize`](Self::authorize), [`basic_auth`](Self::basic_auth) or [`open`](Self::open)
    /// is chosen.
    pub fn new(adapter: Arc<dyn Adapter>) -> Self {
        let registry = Registry::from_inventory().unwrap_or_else(|error| {
            tracing::warn!(target: "jobs", %error, "The dashboard cannot read the job registry: no job class is known to it");
            Registry::new()
        });
        Dashboard {
            adapter,
            registry,
            access: None,
            read_only: false,
            hide_arguments: false,
            refresh: Duration::from_secs(5),
            cache_for: Duration::from_secs(5),
            page_size: 25,
            runtime: None,
        }
    }

    /// A dashboard of the jobs `runtime`'s adapter stores, with the runtime's registry; a
    /// recurring task run from the dashboard is enqueued through the runtime itself.
    pub fn for_runtime(runtime: &Runtime) -> Self {
        Dashboard {
            registry: runtime.registry().clone(),
            runtime: Some(runtime.clone()),
            ..Dashboard::new(runtime.adapter().clone())
        }
    }

    /// The job classes it knows: a class registered with `log_arguments = false` has its
    /// arguments redacted. Default: every `#[job]` of this program.
    pub fn registry(mut self, registry: Registry) -> Self {
        self.registry = registry;
        self
    }

    /// Serves only the requests `authorize` returns true for; the others get `403 Forbidden`.
    /// The closure sees the whole request (headers, cookies, extensions set by the
    /// application's own middleware, such as a logged-in user).
    pub fn authorize(mut self, authorize: impl Fn(&Request) -> bool + Send + Sync + 'static) -> Self {
        self.access = Some(Access::Custom(Arc::new(authorize)));
        self
    }

    /// Serves only requests with HTTP basic credentials `user` and `password` (compared in
    /// constant time); the others get `401 Unauthorized` with a `WWW-Authenticate` challenge.
    /// Use it over HTTPS only: basic credentials travel in every request.
    pub fn basic_auth(mut self, user: impl Into<String>, password: impl Into<String>) -> Self {
        self.access = Some(Access::Basic { user: user.into(), password: password.into() });
        self
    }

    /// Serves every request, with no check: for a dashboard behind the application's own
    /// authentication layer, or on a loopback address only.
    pub fn open(mut self) -> Self {
        self.access = Some(Access::Open);
        self
    }

    /// Only looks: hides every action and refuses every `POST` with `403 Forbidden`.
    pub fn read_only(mut self, read_only: bool) -> Self {
        self.read_only = read_only;
        self
    }

    /// Shows every job's arguments as `[redacted]`, whatever its class declares, and turns the
    /// payload text filter off (it could find out what the arguments are). For a dashboard that
    /// does not know the application's job classes (the standalone `jobs web`).
    pub fn hide_arguments(mut self, hide: bool) -> Self {
        self.hide_arguments = hide;
        self
    }

    /// How often an open page refreshes itself (default 5 s; zero: never).
    pub fn refresh(mut self, every: Duration) -> Self {
        self.refresh = every;
        self
    }

    /// How long counts that scan the store (jobs per queue and state, queue stats, history)
    /// are reused before they are counted again in the background (default 5 s), and at least
    /// ten times as long as counting took, so that a dashboard left open on a huge store spends
    /// at most a tenth of its time counting. An action taken in the dashboard counts again at
    /// once.
    pub fn cache_for(mut self, ttl: Duration) -> Self {
        self.cache_for = ttl;
        self
    }

    /// How many jobs a page of a list shows (default 25; at least 1, at most 500).
    pub fn page_size(mut self, jobs: usize) -> Self {
        self.page_size = jobs.clamp(1, 500);
        self
    }

    /// The router, to [`nest`](axum::Router::nest) under any prefix or to serve alone. It must
    /// be served inside a tokio runtime (counts are refreshed by background tasks).
    pub fn router(self) -> axum::Router {
        crate::router::build(self)
    }
}

impl fmt::Debug for Dashboard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dashboard")
            .field("adapter", &self.adapter.name())
            .field("access", &self.access)
            .field("read_only", &self.read_only)
            .field("hide_arguments", &self.hide_arguments)
            .field("refresh", &self.refresh)
            .field("cache_for", &self.cache_for)
            .field("page_size", &self.page_size)
            .finish_non_exhaustive()
    }
}
