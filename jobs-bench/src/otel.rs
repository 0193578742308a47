//! `--otel`: jobs' spans recorded by OpenTelemetry's `tracing` layer, with trace context carried
//! in payloads, so that a run measures what tracing costs. The spans go to a batch processor whose
//! exporter drops them: the cost measured is recording and handing them off, not a network.

use jobs::RuntimeBuilder;

/// Installs the subscriber (process-wide); fails when built without the `otel` feature.
#[cfg(feature = "otel")]
pub(crate) fn install() -> Result<(), String> {
    use opentelemetry_sdk::trace::SdkTracerProvider;

    let provider = SdkTracerProvider::builder().with_batch_exporter(discard::Discard).build();
    let config = jobs::otel::OtelConfig::new("jobs-bench").filter("jobs=info").without_log_lines();
    let telemetry = jobs::otel::install_with(config, provider).map_err(|e| e.to_string())?;
    // Spans left in the batch are dropped at exit: nothing to flush.
    std::mem::forget(telemetry);
    Ok(())
}

/// Installs the subscriber (process-wide); fails when built without the `otel` feature.
#[cfg(not(feature = "otel"))]
pub(crate) fn install() -> Result<(), String> {
    Err("--otel needs jobs-bench built with `--features otel`".into())
}

/// `builder`, carrying trace context when `on`.
pub(crate) fn traced(builder: RuntimeBuilder, on: bool) -> RuntimeBuilder {
    #[cfg(feature = "otel")]
    if on {
        return builder.trace_propagator(jobs::otel::OtelPropagator::new());
    }
    let _ = on;
    builder
}

#[cfg(feature = "otel")]
mod discard {
    use opentelemetry_sdk::error::OTelSdkResult;
    use opentelemetry_sdk::trace::{SpanData, SpanExporter};

    /// An exporter that drops every span it is given.
    #[derive(Debug)]
    pub(super) struct Discard;

    impl SpanExporter for Discard {
        fn export(&self, batch: Vec<SpanData>) -> impl Future<Output = OTelSdkResult> + Send {
            drop(batch);
            std::future::ready(Ok(()))
        }
    }
}
