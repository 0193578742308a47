//! A payload's trace headers as an OpenTelemetry carrier.

use opentelemetry::propagation::{Extractor, Injector};

use jobs_core::telemetry::TraceHeaders;

/// Writes into trace headers, leaving out empty values (an empty `tracestate`) to keep the
/// payload small; a missing header reads as an empty one.
pub(crate) struct Writer<'a>(pub(crate) &'a mut TraceHeaders);

impl Injector for Writer<'_> {
    fn set(&mut self, key: &str, value: String) {
        if !value.is_empty() {
            self.0.insert(key.to_owned(), value);
        }
    }
}

/// Reads trace headers; W3C header names are lowercase, but a carrier written by hand may not be.
pub(crate) struct Reader<'a>(pub(crate) &'a TraceHeaders);

impl Extractor for Reader<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .get(key)
            .or_else(|| self.0.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v))
            .map(String::as_str)
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(String::as_str).collect()
    }
}
