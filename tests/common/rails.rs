//! The Rails side of the interop tests: the payloads Active Job wrote (tests/fixtures/activejob)
//! and the Ruby scripts there, run when Ruby has the libraries they need.

use std::path::PathBuf;
use std::process::Command;

use jobs::JobData;

/// tests/fixtures/activejob/NAME.
pub fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/activejob").join(name)
}

/// The payload in tests/fixtures/activejob/NAME.json.
pub fn fixture(name: &str) -> JobData {
    let path = fixture_path(&format!("{name}.json"));
    JobData::from_json(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// Whether Ruby can load every one of `libraries`. When it cannot, says so past the test
/// capture (the test then skips), or fails under `JOBS_REQUIRE_SERVICES=1`; `package` is the
/// Debian package that brings them.
pub fn ruby_with(libraries: &[&str], package: &str, test: &str) -> bool {
    let requires: Vec<String> = libraries.iter().map(|l| format!("require '{l}';")).collect();
    let loaded = Command::new("ruby").args(["-e", &requires.concat()]).output().is_ok_and(|out| out.status.success());
    if !loaded {
        let why = format!("Ruby with {} not found (apt-get install {package} to run this check)", libraries.join(", "));
        let _: Option<()> = jobs_conformance::unavailable(&format!("Ruby ({package})"), test, why);
    }
    loaded
}

/// Runs tests/fixtures/activejob/SCRIPT with `args`; its success and its stdout and stderr.
pub fn run_script(script: &str, args: &[&std::ffi::OsStr]) -> (bool, String) {
    let out = Command::new("ruby").arg(fixture_path(script)).args(args).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}
