//! Tests of networked backends: where the server is, and what to do when it is not there.
//!
//! Service-backed tests read their server's URL from an environment variable (with the local
//! server as default), and when the server cannot be reached they skip with a printed notice —
//! or fail, when `JOBS_REQUIRE_SERVICES=1` (CI sets it).

use std::collections::BTreeSet;
use std::fmt::Display;
use std::io::Write;
use std::sync::Mutex;

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

/// Called when `service` could not be reached: panics if services are required, otherwise tells
/// the person running the tests and returns `None` so the caller can skip.
///
/// The first skip of each service in a test binary writes a line to the terminal that
/// `cargo test` shows even for passing tests (see [`skip_notice`]); each skip also prints which
/// test it was, seen with `--nocapture`. `what` names the suite or test being skipped; `error`
/// says why. Never print a URL with its password here.
pub fn unavailable<T>(service: &str, what: &str, error: impl Display) -> Option<T> {
    if services_required() {
        panic!("{service} is required ({REQUIRE_SERVICES}=1) but unreachable for {what}: {error}");
    }
    skip_notice(
        service,
        &format!(
            "SKIPPED the {service} tests of {}: {service} is unreachable ({error}); they pass without running. \
             Set {REQUIRE_SERVICES}=1 to fail instead.",
            test_binary()
        ),
    );
    eprintln!("SKIPPED {what}: {service} is unreachable ({error}); set {REQUIRE_SERVICES}=1 to fail instead");
    None
}

/// Writes `line` to stderr where `cargo test` shows it, once per `key` in this test binary.
///
/// libtest captures what `eprintln!` prints in a test and drops it when the test passes, so a
/// skipped suite would look like a pass; this writes to the stderr handle itself, which the
/// capture does not cover.
///
/// ```
/// jobs_conformance::skip_notice("Ruby", "SKIPPED the Rails interop tests: Ruby not found");
/// ```
pub fn skip_notice(key: &str, line: &str) {
    static TOLD: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());
    if TOLD.lock().unwrap_or_else(|e| e.into_inner()).insert(key.to_owned()) {
        let _ = writeln!(std::io::stderr().lock(), "{line}");
    }
}

/// The running test binary's name without cargo's hash (`conformance` for
/// `conformance-0123abcd`).
fn test_binary() -> String {
    let exe = std::env::current_exe().ok();
    let stem = exe.as_deref().and_then(|p| p.file_stem()).map(|s| s.to_string_lossy().into_owned());
    let stem = stem.unwrap_or_else(|| "this test binary".to_owned());
    match stem.rsplit_once('-') {
        Some((name, hash)) if hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => name.to_owned(),
        _ => stem,
    }
}
