//! `/metrics` in Prometheus' text format, from `metrics-exporter-prometheus`: what `work
//! --metrics` serves on its health endpoint, and what an application serves on a router of its
//! own.
//!
//! Names follow Prometheus' conventions from jobs' OpenTelemetry names: dots become underscores,
//! counters end in `_total` and units are suffixed (`jobs.queue.latency` →
//! `jobs_queue_latency_seconds`). Durations are histograms with buckets from 5 ms to 5 min.

use axum::Router;
use axum::http::header;
use axum::routing::get;
use jobs_core::Error;
use jobs_core::telemetry::{PROCESS_DURATION, QUEUE_LATENCY, describe_metrics};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};

pub use metrics_exporter_prometheus::PrometheusHandle;

/// The buckets of the duration histograms, in seconds.
pub const DURATION_BUCKETS: &[f64] =
    &[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0];

/// Installs a Prometheus recorder as the process's `metrics` recorder, with the units and help of
/// jobs' metrics; the handle renders what it recorded. Fails if a recorder is installed already.
///
/// ```no_run
/// # async fn demo() -> Result<(), jobs_core::Error> {
/// let handle = jobs_cli::prometheus::install()?;
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:9464").await.unwrap();
/// axum::serve(listener, jobs_cli::prometheus::router(handle)).await.unwrap();
/// # Ok(()) }
/// ```
pub fn install() -> Result<PrometheusHandle, Error> {
    let builder = PrometheusBuilder::new()
        .with_recommended_naming(true)
        .set_buckets_for_metric(Matcher::Full(PROCESS_DURATION.to_owned()), DURATION_BUCKETS)
        .and_then(|b| b.set_buckets_for_metric(Matcher::Full(QUEUE_LATENCY.to_owned()), DURATION_BUCKETS))
        .map_err(|e| Error::Config(format!("Prometheus buckets: {e}")))?;
    let handle = builder
        .install_recorder()
        .map_err(|e| Error::Config(format!("cannot install the Prometheus recorder: {e}")))?;
    describe_metrics();
    Ok(handle)
}

/// A router serving `GET /metrics` from `handle`, to merge into an application's own.
pub fn router<S: Clone + Send + Sync + 'static>(handle: PrometheusHandle) -> Router<S> {
    Router::new().route(
        "/metrics",
        get(move || {
            let handle = handle.clone();
            async move {
                handle.run_upkeep();
                ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], handle.render())
            }
        }),
    )
}
