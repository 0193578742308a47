//! A real SMTP server for the mail tests: tests/fixtures/smtp/sink.py (aiosmtpd) on a free
//! loopback port, keeping what it accepts as files.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A running sink; stopped (its stdin closed, then killed) and its folder removed when dropped.
pub struct SmtpSink {
    child: Child,
    dir: PathBuf,
    port: u16,
}

/// One message as the server received it.
#[derive(Debug)]
pub struct Received {
    /// MAIL FROM.
    pub mail_from: String,
    /// RCPT TO, the accepted ones.
    pub rcpt_tos: Vec<String>,
    /// The headers, as Python's email package reads them (decoded).
    pub headers: serde_json::Map<String, serde_json::Value>,
    /// Every MIME part, containers included: `content_type`, and for leaves `filename`,
    /// `disposition` and the decoded `content`.
    pub parts: Vec<serde_json::Value>,
    /// The data, as sent.
    pub raw: String,
}

impl Received {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.as_str())
    }

    /// The content types of the parts, in order.
    pub fn content_types(&self) -> Vec<&str> {
        self.parts.iter().filter_map(|p| p["content_type"].as_str()).collect()
    }

    /// The first part of this content type that is not an attachment, with line ends as `\n`
    /// and no trailing line ends (SMTP sends CRLF and may end a part with a blank line).
    pub fn body(&self, content_type: &str) -> Option<String> {
        self.parts
            .iter()
            .find(|p| p["content_type"] == content_type && p["disposition"] != "attachment")
            .and_then(|p| p["content"].as_str())
            .map(|text| text.replace("\r\n", "\n").trim_end_matches('\n').to_owned())
    }
}

/// The Python that runs the sink: `JOBS_SMTP_PYTHON`, else the venv `.ci/run` makes
/// (`~/.cache/jobs-aiosmtpd`), else `python3`.
fn python() -> PathBuf {
    if let Some(python) = std::env::var_os("JOBS_SMTP_PYTHON").filter(|p| !p.is_empty()) {
        return python.into();
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cache")));
    match cache.map(|c| c.join("jobs-aiosmtpd/bin/python3")) {
        Some(venv) if venv.exists() => venv,
        _ => "python3".into(),
    }
}

impl SmtpSink {
    /// Starts the sink; `None` (after a visible notice) if it cannot start, a panic instead under
    /// `JOBS_REQUIRE_SERVICES=1`.
    pub fn start(test: &str) -> Option<SmtpSink> {
        match SmtpSink::try_start() {
            Ok(sink) => Some(sink),
            Err(error) => {
                jobs_conformance::unavailable("SMTP sink (Python aiosmtpd; .ci/run installs it)", test, error)
            }
        }
    }

    fn try_start() -> Result<SmtpSink, String> {
        let port =
            std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map_err(|e| e.to_string())?.port();
        let dir = std::env::temp_dir().join(format!("jobs-smtp-sink-{}-{port}", std::process::id()));
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/smtp/sink.py");
        let python = python();
        let mut child = Command::new(&python)
            .arg(&script)
            .args(["--port", &port.to_string(), "--dir"])
            .arg(&dir)
            .arg("--until-stdin-closes")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| {
                format!("cannot run {}: {e} (.ci/run installs aiosmtpd in ~/.cache/jobs-aiosmtpd)", python.display())
            })?;
        let stdout = child.stdout.take().expect("piped");
        let (ready, wait) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = ready.send(line);
        });
        let line = wait.recv_timeout(Duration::from_secs(15)).unwrap_or_default();
        if line.trim() != format!("READY {port}") {
            let _ = child.kill();
            let output = child.wait_with_output().map(|o| String::from_utf8_lossy(&o.stderr).into_owned());
            let stderr = output.unwrap_or_default();
            let last = stderr.lines().last().unwrap_or("no output").to_owned();
            return Err(format!(
                "{} {} did not start: {last} (.ci/run installs aiosmtpd in ~/.cache/jobs-aiosmtpd)",
                python.display(),
                script.display()
            ));
        }
        Ok(SmtpSink { child, dir, port })
    }

    /// `smtp://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// What the server accepted so far, in order.
    pub fn received(&self) -> Vec<Received> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        names.retain(|p| p.extension().is_some_and(|e| e == "eml"));
        names.sort();
        names
            .into_iter()
            .map(|eml| {
                let envelope: serde_json::Value =
                    serde_json::from_str(&std::fs::read_to_string(eml.with_extension("json")).unwrap()).unwrap();
                Received {
                    mail_from: envelope["mail_from"].as_str().unwrap_or_default().to_owned(),
                    rcpt_tos: envelope["rcpt_tos"]
                        .as_array()
                        .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
                        .unwrap_or_default(),
                    headers: envelope["headers"].as_object().cloned().unwrap_or_default(),
                    parts: envelope["parts"].as_array().cloned().unwrap_or_default(),
                    raw: String::from_utf8_lossy(&std::fs::read(&eml).unwrap()).replace("\r\n", "\n"),
                }
            })
            .collect()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
