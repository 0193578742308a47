//! The health endpoint of `work --health-addr`: `/healthz` while the process serves, `/readyz`
//! while the backend answers and the worker is not shutting down (for Kubernetes probes), and
//! with `--metrics`, `/metrics` for Prometheus.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use jobs_core::adapter::{Adapter, redact};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::exit::Failure;
use crate::prometheus::{self, PrometheusHandle};

/// How long `/readyz` waits for the backend.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// What the probes look at.
#[derive(Debug)]
pub(crate) struct Health {
    adapter: Arc<dyn Adapter>,
    stopping: AtomicBool,
}

impl Health {
    pub(crate) fn new(adapter: Arc<dyn Adapter>) -> Arc<Health> {
        Arc::new(Health { adapter, stopping: AtomicBool::new(false) })
    }

    /// From now on `/readyz` answers 503: the worker is shutting down.
    pub(crate) fn stopping(&self) {
        self.stopping.store(true, Ordering::Release);
    }

    /// Whether the backend answers a cheap question of the operations API (its paused queues).
    async fn ready(&self) -> Result<(), String> {
        if self.stopping.load(Ordering::Acquire) {
            return Err("stopping".into());
        }
        let Some(inspect) = self.adapter.inspector() else { return Ok(()) };
        match tokio::time::timeout(READY_TIMEOUT, inspect.paused()).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(error)) => Err(format!("{} does not answer: {}", self.adapter.name(), redact(&error.to_string()))),
            Err(_) => Err(format!("{} did not answer within {READY_TIMEOUT:?}", self.adapter.name())),
        }
    }
}

/// The probe server, running until [`Server::stop`].
#[derive(Debug)]
pub(crate) struct Server {
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Server {
    /// Binds `addr` and serves the probes in the background, and `/metrics` from `metrics`.
    pub(crate) async fn start(
        addr: SocketAddr,
        health: Arc<Health>,
        metrics: Option<PrometheusHandle>,
    ) -> Result<(Server, SocketAddr), Failure> {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| Failure::Failed(format!("cannot serve health checks on {addr}: {e}")))?;
        let bound = listener.local_addr().map_err(|e| Failure::Failed(format!("health endpoint: {e}")))?;
        let (stop, stopped) = oneshot::channel::<()>();
        let mut app = Router::new().route("/healthz", get(live)).route("/readyz", get(ready));
        if let Some(metrics) = metrics {
            app = app.merge(prometheus::router(metrics));
        }
        let app = app.with_state(health);
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await
        });
        Ok((Server { stop, task }, bound))
    }

    /// Stops serving and waits until it has.
    pub(crate) async fn stop(self) {
        let _ = self.stop.send(());
        match self.task.await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::warn!(target: "jobs", %error, "Health endpoint failed"),
            Err(error) => tracing::warn!(target: "jobs", %error, "Health endpoint task failed"),
        }
    }
}

async fn live() -> &'static str {
    "ok\n"
}

async fn ready(State(health): State<Arc<Health>>) -> (StatusCode, String) {
    match health.ready().await {
        Ok(()) => (StatusCode::OK, "ready\n".to_owned()),
        Err(why) => (StatusCode::SERVICE_UNAVAILABLE, format!("not ready: {why}\n")),
    }
}
