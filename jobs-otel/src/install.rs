//! [`install`]: a `tracing` subscriber that exports jobs' spans over OTLP, in one call.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkError;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::{SubscriberInitExt, TryInitError};

use crate::propagator::{Linking, OtelPropagator};

/// What [`install`] sets up.
///
/// ```
/// let config = jobs_otel::OtelConfig::new("billing")
///     .endpoint("http://collector:4318")
///     .filter("info,jobs=debug")
///     .linking(jobs_otel::Linking::Child);
/// # drop(config);
/// ```
#[derive(Clone, Debug)]
pub struct OtelConfig {
    service_name: String,
    endpoint: Option<String>,
    filter: Option<String>,
    linking: Linking,
    log_lines: bool,
}

impl OtelConfig {
    /// Spans of the service `service_name` (the resource's `service.name`).
    pub fn new(service_name: impl Into<String>) -> Self {
        OtelConfig {
            service_name: service_name.into(),
            endpoint: None,
            filter: None,
            linking: Linking::Link,
            log_lines: true,
        }
    }

    /// The OTLP/HTTP endpoint (default: `OTEL_EXPORTER_OTLP_ENDPOINT`, else
    /// `http://localhost:4318`); spans go to its `/v1/traces`.
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoint = Some(url.into());
        self
    }

    /// Which spans and log lines to record, in `RUST_LOG` syntax (default: `RUST_LOG`, else
    /// `info`, which records jobs' spans and log lines).
    pub fn filter(mut self, directives: impl Into<String>) -> Self {
        self.filter = Some(directives.into());
        self
    }

    /// How perform spans connect to their enqueue (default [`Linking::Link`]).
    pub fn linking(mut self, linking: Linking) -> Self {
        self.linking = linking;
        self
    }

    /// Leaves the log lines (`Enqueued ...`, `Performed ...`) out of stdout: spans only.
    pub fn without_log_lines(mut self) -> Self {
        self.log_lines = false;
        self
    }
}

/// What can go wrong setting OpenTelemetry up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OtelError {
    /// The OTLP exporter could not be built (a malformed endpoint, say).
    #[error("could not build the OTLP span exporter: {0}")]
    Exporter(#[from] opentelemetry_otlp::ExporterBuildError),
    /// The filter directives do not parse.
    #[error("invalid trace filter `{directives}`: {message}")]
    Filter {
        /// The directives given.
        directives: String,
        /// What is wrong with them.
        message: String,
    },
    /// A global `tracing` subscriber is installed already.
    #[error("could not install the tracing subscriber: {0}")]
    Subscriber(#[from] TryInitError),
    /// Flushing or shutting the exporter down failed.
    #[error("could not shut the tracer provider down: {0}")]
    Shutdown(#[from] OTelSdkError),
}

/// OpenTelemetry as [`install`] set it up: hand [`propagator`](Telemetry::propagator) to the
/// runtime, and [`shutdown`](Telemetry::shutdown) before the process exits so that the last spans
/// are exported.
#[derive(Debug)]
#[must_use = "keep it to shut the exporter down, and pass its propagator to the runtime"]
pub struct Telemetry {
    provider: SdkTracerProvider,
    linking: Linking,
}

impl Telemetry {
    /// The propagator for [`RuntimeBuilder::trace_propagator`](jobs_core::RuntimeBuilder::trace_propagator),
    /// linking as configured.
    pub fn propagator(&self) -> OtelPropagator {
        OtelPropagator::new().linking(self.linking)
    }

    /// The tracer provider spans go to.
    pub fn provider(&self) -> &SdkTracerProvider {
        &self.provider
    }

    /// Exports the spans still buffered and shuts the provider down.
    pub fn shutdown(self) -> Result<(), OtelError> {
        self.provider.shutdown()?;
        Ok(())
    }
}

/// Installs, process-wide: a `tracing` subscriber (an `EnvFilter`, the log lines on stdout unless
/// turned off, and the OpenTelemetry layer), an OTLP/HTTP span exporter on a batch processor,
/// and W3C trace context as OpenTelemetry's global propagator. Fails if a subscriber is
/// installed already.
pub fn install(config: OtelConfig) -> Result<Telemetry, OtelError> {
    let mut exporter = opentelemetry_otlp::SpanExporter::builder().with_http();
    if let Some(endpoint) = &config.endpoint {
        exporter = exporter.with_endpoint(format!("{}/v1/traces", endpoint.trim_end_matches('/')));
    }
    let resource = Resource::builder().with_service_name(config.service_name.clone()).build();
    let provider = SdkTracerProvider::builder().with_batch_exporter(exporter.build()?).with_resource(resource).build();
    install_with(config, provider)
}

/// [`install`] with a tracer provider of the application's own (another exporter, a sampler, an
/// in-memory exporter in tests); the config's endpoint is not used.
pub fn install_with(config: OtelConfig, provider: SdkTracerProvider) -> Result<Telemetry, OtelError> {
    let directives = config.filter.clone().or_else(|| std::env::var("RUST_LOG").ok()).unwrap_or_else(|| "info".into());
    let filter = EnvFilter::try_new(&directives)
        .map_err(|e| OtelError::Filter { directives: directives.clone(), message: e.to_string() })?;
    let otel = tracing_opentelemetry::layer().with_tracer(provider.tracer("jobs"));
    let log_lines = config.log_lines.then(tracing_subscriber::fmt::layer);
    tracing_subscriber::registry().with(filter).with(log_lines).with(otel).try_init()?;
    opentelemetry::global::set_tracer_provider(provider.clone());
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    Ok(Telemetry { provider, linking: config.linking })
}
