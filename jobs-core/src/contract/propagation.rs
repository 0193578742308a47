//! The seam for distributed tracing: a trace context carried in the payload from the enqueue to
//! the perform, so that a trace shows request → enqueue → perform across processes.
//!
//! The core knows no tracing system: a [`TracePropagator`] installed on the runtime
//! ([`RuntimeBuilder::trace_propagator`](crate::RuntimeBuilder::trace_propagator)) writes the
//! current context into the payload's [`TraceHeaders`] at enqueue and connects the perform span to
//! them. Without one (the default) nothing is written, read or allocated. The `jobs-otel` crate
//! (the facade's `otel` feature) implements it with OpenTelemetry.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// The propagation headers of a trace context (W3C `traceparent` and `tracestate`), as a job
/// payload carries them under the key [`TRACE_HEADERS_KEY`].
pub type TraceHeaders = BTreeMap<String, String>;

/// The payload key of the trace headers: the one OpenTelemetry's Ruby instrumentation for Active
/// Job uses, so that a Rails app and a Rust service continue each other's traces. Active Job
/// ignores it; payloads without it decode as before.
pub const TRACE_HEADERS_KEY: &str = "__otel_headers";

/// Carries a trace context across the queue: injected at enqueue, attached at perform.
///
/// Both calls are made only when a propagator is installed; `inject` runs inside the enqueue span
/// (the `send` span), `attach` right after the perform span (the `process` span) is created and
/// before it is entered.
///
/// ```
/// use jobs_core::telemetry::{TraceHeaders, TracePropagator};
///
/// /// Passes a fixed request id along, as a propagator of a tracing system would its context.
/// struct RequestId;
///
/// impl TracePropagator for RequestId {
///     fn inject(&self, headers: &mut TraceHeaders) {
///         headers.insert("x-request-id".into(), "42".into());
///     }
///     fn attach(&self, perform: &tracing::Span, headers: &TraceHeaders) {
///         let _ = (perform, headers.get("x-request-id"));
///     }
/// }
/// # let _ = jobs_core::Runtime::builder().trace_propagator(RequestId);
/// ```
pub trait TracePropagator: Send + Sync + 'static {
    /// Writes the current trace context (the enqueue span's) into `headers`; writing nothing
    /// leaves the payload without trace headers.
    fn inject(&self, headers: &mut TraceHeaders);

    /// Connects `perform`, the span of a run, to the context in `headers`: a span link, or a
    /// parent, as the propagator is configured. Headers it cannot read are ignored.
    fn attach(&self, perform: &tracing::Span, headers: &TraceHeaders);
}

/// Reads the trace headers leniently: a job is never lost over its tracing. A value that is not
/// an object reads as none; entries whose value is not a string are dropped.
pub(crate) fn lenient_headers<'de, D: Deserializer<'de>>(d: D) -> Result<Option<TraceHeaders>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Object(map) => {
            Some(map.into_iter().filter_map(|(key, value)| value.as_str().map(|v| (key, v.to_owned()))).collect())
        }
        _ => None,
    })
}
