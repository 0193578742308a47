//! `work`: a worker over the jobs compiled into the application, stopped by SIGTERM or SIGINT,
//! with the optional health endpoint.

use std::future::Future;
use std::pin::Pin;

use jobs_core::{RetryPolicy, Runtime, RuntimeBuilder, Worker};

use crate::config::Work;
use crate::database::Store;
use crate::exit::Failure;
use crate::health::{Health, Server};

/// What the application adds to the runtime: state, middleware, subscribers.
pub(crate) type Configure = Box<dyn FnOnce(RuntimeBuilder) -> RuntimeBuilder + Send>;

/// A future that asks the worker to stop, besides the signals.
pub(crate) type Shutdown = Pin<Box<dyn Future<Output = ()> + Send>>;

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
    let classes = runtime.registry().names();
    if classes.is_empty() {
        tracing::warn!(target: "jobs", "No job class is registered in this program: the worker can run none");
    }
    let worker = Worker::builder()
        .runtime(&runtime)
        .queues(settings.queues.iter().cloned())
        .concurrency(settings.concurrency)
        .shutdown_grace(settings.shutdown_grace)
        .retry_policy(RetryPolicy::retries(settings.max_retries))
        .build()?;

    let health = Health::new(store.adapter().clone());
    let server = match settings.health_addr {
        Some(addr) => {
            let (server, bound) = Server::start(addr, health.clone()).await?;
            tracing::info!(target: "jobs", "Health checks at http://{bound}/healthz (live) and http://{bound}/readyz (ready)");
            Some(server)
        }
        None => None,
    };

    let stopping = health.clone();
    let signal = async move {
        match shutdown {
            Some(shutdown) => tokio::select! {
                () = jobs_core::shutdown_signal() => {},
                () = shutdown => {},
            },
            None => jobs_core::shutdown_signal().await,
        }
        stopping.stopping();
    };
    let result = worker.run_until(signal).await;
    health.stopping();
    if let Some(server) = server {
        server.stop().await;
    }
    result.map_err(|e| Failure::Failed(format!("the worker failed: {e}")))
}
