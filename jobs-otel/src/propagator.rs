//! [`OtelPropagator`]: the runtime's trace propagator, on OpenTelemetry.

use std::fmt;

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::TraceContextExt;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use jobs_core::telemetry::{TraceHeaders, TracePropagator};

use crate::carrier::{Reader, Writer};

/// How a perform span connects to the enqueue that sent its job.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Linking {
    /// A span link: the perform starts a trace of its own that links to the enqueue's
    /// (OpenTelemetry's recommendation for messaging, and the Ruby instrumentation's default). A
    /// job that runs hours later, or is retried ten times, does not stretch the request's trace.
    #[default]
    Link,
    /// A child: the perform joins the enqueue's trace, as a child of the `send` span.
    Child,
}

/// Carries the W3C trace context (`traceparent`, `tracestate`) of each enqueue in the payload,
/// and links the perform span to it (or makes it a child, with [`Linking::Child`]).
///
/// Install it with [`RuntimeBuilder::trace_propagator`](jobs_core::RuntimeBuilder::trace_propagator);
/// it needs the `tracing-opentelemetry` layer in the subscriber ([`install`](crate::install) sets
/// one up) and writes nothing when the enqueue span is not recorded by OpenTelemetry.
///
/// ```
/// use jobs_otel::{Linking, OtelPropagator};
///
/// let runtime = jobs_core::Runtime::builder()
///     .trace_propagator(OtelPropagator::new().linking(Linking::Child))
///     .build()
///     .unwrap();
/// # drop(runtime);
/// ```
pub struct OtelPropagator {
    linking: Linking,
    format: Box<dyn TextMapPropagator + Send + Sync>,
}

impl OtelPropagator {
    /// W3C trace context, perform spans linked to their enqueue.
    pub fn new() -> Self {
        OtelPropagator { linking: Linking::Link, format: Box::new(TraceContextPropagator::new()) }
    }

    /// How perform spans connect to their enqueue (default [`Linking::Link`]).
    pub fn linking(mut self, linking: Linking) -> Self {
        self.linking = linking;
        self
    }

    /// Another header format than W3C trace context (B3, Jaeger, or a composite with baggage).
    pub fn format(mut self, format: impl TextMapPropagator + Send + Sync + 'static) -> Self {
        self.format = Box::new(format);
        self
    }
}

impl Default for OtelPropagator {
    fn default() -> Self {
        OtelPropagator::new()
    }
}

impl fmt::Debug for OtelPropagator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtelPropagator").field("linking", &self.linking).finish_non_exhaustive()
    }
}

impl TracePropagator for OtelPropagator {
    fn inject(&self, headers: &mut TraceHeaders) {
        let cx = tracing::Span::current().context();
        if cx.span().span_context().is_valid() {
            self.format.inject_context(&cx, &mut Writer(headers));
        }
    }

    fn attach(&self, perform: &tracing::Span, headers: &TraceHeaders) {
        let cx = self.format.extract(&Reader(headers));
        let sent = cx.span().span_context().clone();
        if !sent.is_valid() {
            return;
        }
        match self.linking {
            Linking::Link => perform.add_link(sent),
            Linking::Child => {
                if let Err(error) = perform.set_parent(cx) {
                    tracing::debug!(target: "jobs", %error, "Could not make the perform span a child of its enqueue");
                }
            }
        }
    }
}
