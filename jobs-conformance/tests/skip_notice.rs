//! A skipped service-backed suite is visible in `cargo test`'s output, not only with
//! `--nocapture`: libtest drops what a passing test prints with `eprintln!`.

use std::process::Command;

const CHILD: &str = "JOBS_SKIP_NOTICE_CHILD";

/// Skips as a service-backed test does when its server is down; does nothing unless run by the
/// test below.
#[test]
fn a_test_that_skips() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let skipped: Option<()> = jobs_conformance::unavailable("Nowhere", "a_test_that_skips", "connection refused");
    assert!(skipped.is_none());
}

#[test]
fn the_skip_reaches_the_terminal_while_output_is_captured() {
    let run = |require: Option<&str>| {
        let mut command = Command::new(std::env::current_exe().unwrap());
        command.args(["--exact", "a_test_that_skips", "--test-threads=1"]).env(CHILD, "1");
        match require {
            Some(value) => command.env(jobs_conformance::REQUIRE_SERVICES, value),
            None => command.env_remove(jobs_conformance::REQUIRE_SERVICES),
        };
        command.output().unwrap()
    };

    let skipped = run(None);
    let stderr = String::from_utf8_lossy(&skipped.stderr);
    assert!(skipped.status.success(), "{stderr}");
    let notices: Vec<&str> =
        stderr.lines().filter(|l| l.starts_with("SKIPPED the Nowhere tests of skip_notice")).collect();
    assert_eq!(notices.len(), 1, "the notice, once, on the terminal:\n{stderr}");
    assert!(notices[0].contains("connection refused") && notices[0].contains("JOBS_REQUIRE_SERVICES=1"), "{stderr}");

    let required = run(Some("1"));
    assert!(!required.status.success(), "JOBS_REQUIRE_SERVICES=1 makes the skip a failure");
}
