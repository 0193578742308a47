//! Tests of networked backends: where the server is, and what to do when it is not there.
//!
//! Service-backed tests read their server's URL from an environment variable (with the local
//! server as default), and when the server cannot be reached they skip with a printed notice —
//! or fail, when `JOBS_REQUIRE_SERVICES=1` (CI sets it).

use std::fmt::Display;

/// The environment variable that turns a skipped service into a failure.
pub const REQUIRE_SERVICES: &str = "JOBS_REQUIRE_SERVICES";

/// The URL in `variable`, or `default` when it is unset or empty.
///
/// ```
/// # use jobs_conformance::service_url;
/// let url = service_url("JOBS_TEST_SOMETHING_UNSET", "redis://127.0.0.1:6379");
/// assert_eq!(url, "redis://127.0.0.1:6379");
/// ```
pub fn service_url(variable: &str, default: &str) -> String {
    std::env::var(variable).ok().filter(|v| !v.is_empty()).unwrap_or_else(|| default.to_owned())
}

/// True when `JOBS_REQUIRE_SERVICES=1`.
pub fn services_required() -> bool {
    std::env::var(REQUIRE_SERVICES).is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
}

/// Called when `service` could not be reached: panics if services are required, otherwise prints
/// a notice (once per `what`, on stderr) and returns `None` so the caller can skip.
///
/// `what` names the suite or test being skipped; `error` says why. Never print a URL with its
/// password here.
pub fn unavailable<T>(service: &str, what: &str, error: impl Display) -> Option<T> {
    if services_required() {
        panic!("{service} is required ({REQUIRE_SERVICES}=1) but unreachable for {what}: {error}");
    }
    eprintln!("SKIPPED {what}: {service} is unreachable ({error}); set {REQUIRE_SERVICES}=1 to fail instead");
    None
}
