//! The logs of the crash tests: a job appends lines to `DIR/KIND-PID.log` in its process, one
//! write per line so that a SIGKILL never tears one; a test reads them back per process or over
//! every process.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;

/// Appends `line` to this process's log of `kind` in `dir` (`DIR/KIND-PID.log`), in one write.
///
/// # Panics
/// When the log cannot be opened or written: the test that reads it would be wrong otherwise.
pub fn append(dir: &Path, kind: &str, line: &str) {
    let path = dir.join(format!("{kind}-{}.log", std::process::id()));
    let mut file = OpenOptions::new().create(true).append(true).open(path).expect("open the log");
    file.write_all(format!("{line}\n").as_bytes()).expect("write the log");
}

/// The lines the process `pid` logged as `kind` in `dir`, in order; none if it logged nothing.
pub fn lines(dir: &Path, kind: &str, pid: u32) -> Vec<String> {
    std::fs::read_to_string(dir.join(format!("{kind}-{pid}.log")))
        .map(|text| text.lines().map(str::to_owned).collect())
        .unwrap_or_default()
}

/// The lines every process logged as `kind` in `dir`, with the pid that logged them.
///
/// # Panics
/// When `dir` cannot be read.
pub fn all_lines(dir: &Path, kind: &str) -> Vec<(u32, String)> {
    let prefix = format!("{kind}-");
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read the log directory") {
        let name = entry.expect("a directory entry").file_name().to_string_lossy().into_owned();
        let pid = name.strip_prefix(&prefix).and_then(|rest| rest.strip_suffix(".log")).and_then(|p| p.parse().ok());
        if let Some(pid) = pid {
            found.extend(lines(dir, kind, pid).into_iter().map(|line| (pid, line)));
        }
    }
    found
}
