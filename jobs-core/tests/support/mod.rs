//! Helpers shared by jobs-core's integration tests.

use std::time::Duration;

/// Waits (up to 30 s, checking every 5 ms) until `check` holds.
pub(crate) async fn eventually(what: &str, check: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !check() {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
