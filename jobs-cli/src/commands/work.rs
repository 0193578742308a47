//! `work`: a worker over the jobs compiled into the application, with the optional health
//! endpoint; SIGTERM and SIGINT shut it down, SIGTSTP makes it quiet, and it ends by itself when
//! an operator tells it to stop.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use jobs_core::{RetryPolicy, Runtime, RuntimeBuilder, Worker};

use crate::config::Work;
use crate::database::Store;
use crate::exit::Failure;
use crate::health::{Health, Server};
use crate::signals::{Signal, Signals};

/// What the application adds to the runtime: state, middleware, subscribers.
pub(crate) type Configure = Box<dyn FnOnce(RuntimeBuilder) -> RuntimeBuilder + Send>;

/// A future that asks the worker to stop, besides the signals.
pub(crate) type Shutdown = Pin<Box<dyn Future<Output = ()> + Send>>;

/// How often to look whether the worker stopped by itself (told to by an operator).
const FINISHED_POLL: Duration = Duration::from_millis(200);

pub(crate) async fn work(
    settings: &Work,
    store: Store,
    configure: Option<Configure>,
    shutdown: Option<Shutdown>,
) -> Result<(), Failure> {
    let mut builder = Runtime::builder().shared_adapter(store.adapter().clone());
    if let Some(configure) = configure {
        builder = configure(builder);
    }
    let runtime = builder.build()?;
    // Jobs that enqueue jobs find the runtime there.
    runtime.install();
    if runtime.registry().names().is_empty() {
        tracing::warn!(target: "jobs", "No job class is registered in this program: the worker can run none");
    }
    let worker = Worker::builder().runtime(&runtime);
    let worker = match &settings.weights {
        Some(weights) => worker.weighted_queues(settings.queues.iter().cloned().zip(weights.iter().copied())),
        None => worker.queues(settings.queues.iter().cloned()),
    };
    let worker = match &settings.recurring {
        Some(path) => worker.recurring_file(path),
        None => worker,
    };
    let worker = worker
        .concurrency(settings.concurrency)
        .shutdown_grace(settings.shutdown_grace)
        .lease(settings.lease)
        .retry_policy(RetryPolicy::retries(settings.max_retries))
        .build()?;

    // Listening before anything answers: once the health endpoint is up, signals are handled.
    let mut signals = Signals::listen()?;
    let health = Health::new(store.adapter().clone());
    let server = match settings.health_addr {
        Some(addr) => {
            let metrics = if settings.metrics { Some(crate::prometheus::install()?) } else { None };
            let serves_metrics = metrics.is_some();
            let (server, bound) = Server::start(addr, health.clone(), metrics).await?;
            tracing::info!(target: "jobs", "Health checks at http://{bound}/healthz (live) and http://{bound}/readyz (ready)");
            if serves_metrics {
                tracing::info!(target: "jobs", "Prometheus metrics at http://{bound}/metrics");
            }
            Some(server)
        }
        None => None,
    };

    let handle = worker.start();
    let mut shutdown = shutdown.unwrap_or_else(|| Box::pin(std::future::pending()));
    let mut finished = tokio::time::interval(FINISHED_POLL);
    loop {
        tokio::select! {
            signal = signals.next() => match signal {
                Signal::Stop => break,
                Signal::Quiet => {
                    tracing::info!(target: "jobs", worker = %handle.id(), "SIGTSTP: going quiet, claiming no more jobs (SIGTERM stops)");
                    handle.quiet();
                }
            },
            () = &mut shutdown => break,
            _ = finished.tick() => if handle.is_finished() { break },
        }
    }
    health.stopping();
    let result = handle.shutdown().await;
    if let Some(server) = server {
        server.stop().await;
    }
    result.map_err(|e| Failure::Failed(format!("the worker failed: {e}")))
}
