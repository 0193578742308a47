//! OpenTelemetry for [`jobs`](https://docs.rs/jobs) (the facade's `otel` feature, `jobs::otel`):
//! the trace context of each enqueue travels in the job's payload, and the perform span links to
//! it (or is its child), so that a trace shows request → enqueue → perform → the job's own spans
//! across processes and backends.
//!
//! jobs records its spans through `tracing`, named and attributed after OpenTelemetry's messaging
//! conventions (`send {queue}`, `process {queue}`, `settle`; `messaging.system`,
//! `messaging.destination.name`, `messaging.message.id`, ...). This crate provides the two
//! pieces that turn them into connected OpenTelemetry traces:
//!
//! * [`OtelPropagator`], the runtime's [`TracePropagator`]: W3C `traceparent` / `tracestate` in
//!   the payload under `__otel_headers`, the key OpenTelemetry's Ruby instrumentation for Active
//!   Job uses, so that Rails and Rust continue each other's traces;
//! * [`install`], for applications that want it all in one call: a `tracing` subscriber with an
//!   `EnvFilter`, a fmt layer for the log lines and the OpenTelemetry layer, spans exported over
//!   OTLP/HTTP (`OTEL_EXPORTER_OTLP_ENDPOINT`, default `http://localhost:4318`).
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let telemetry = jobs_otel::install(jobs_otel::OtelConfig::new("billing"))?;
//! jobs_core::Runtime::builder().trace_propagator(telemetry.propagator()).build()?.install();
//! // ... enqueue and work jobs ...
//! telemetry.shutdown()?; // flushes the spans not exported yet
//! # Ok(()) }
//! ```
//!
//! Applications that compose their own subscriber use [`OtelPropagator`] with
//! `tracing_opentelemetry::layer().with_tracer(..)` instead of [`install`].

mod carrier;
mod install;
mod propagator;

pub use install::{OtelConfig, OtelError, Telemetry, install, install_with};
pub use jobs_core::telemetry::{TraceHeaders, TracePropagator};
pub use propagator::{Linking, OtelPropagator};
