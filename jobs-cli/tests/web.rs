//! `jobs web`: the dashboard served alone, refusing to start until told who may use it.

#![cfg(feature = "sqlite")]

mod support;

use std::process::{Command, Stdio};
use std::time::Duration;

use jobs_sqlite::SqliteAdapter;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// `GET path` on `addr` with optional basic credentials (base64): the status and the body.
async fn get(addr: &str, path: &str, credentials: Option<&str>) -> Option<(u16, String)> {
    let mut stream = tokio::net::TcpStream::connect(addr).await.ok()?;
    let auth = credentials.map(|c| format!("Authorization: Basic {c}\r\n")).unwrap_or_default();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Connection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await.ok()?;
    let status = response.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, response.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default()))
}

#[test]
fn web_refuses_to_start_without_an_access_rule() {
    let run = support::jobs(&["--database-url", "unused.db", "web", "--addr", "127.0.0.1:0"]);
    let run = run.expect(2);
    assert!(run.stderr.contains("--basic-auth USER:PASSWORD") && run.stderr.contains("--open"), "{}", run.stderr);
    support::jobs(&["--database-url", "unused.db", "web", "--basic-auth", "nopassword"]).expect(2);
    assert!(!std::path::Path::new("unused.db").exists(), "a usage error opens no database");
}

#[tokio::test(flavor = "multi_thread")]
async fn web_serves_the_dashboard_behind_basic_auth_until_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jobs.db");
    let sqlite = SqliteAdapter::open(&path).await.unwrap();
    support::enqueue(&sqlite, support::job("SendInvoice", "billing", json!([42]))).await;
    let addr = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().to_string();
    let server = Command::new(env!("CARGO_BIN_EXE_jobs"))
        .args(["--database-url", &path.display().to_string(), "web", "--addr", &addr, "--read-only"])
        .env("JOBS_WEB_BASIC_AUTH", "ops:s3cret")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut answered = None;
    for _ in 0..300 {
        answered = get(&addr, "/queues", None).await;
        if answered.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(answered.map(|(status, _)| status), Some(401), "no credentials, no dashboard");
    // ops:s3cret
    let (status, body) = get(&addr, "/queues", Some("b3BzOnMzY3JldA==")).await.unwrap();
    assert_eq!(status, 200);
    assert!(body.contains("data-queue=\"billing\"") && body.contains("read-only"), "{body}");

    let kill = Command::new("kill").args(["-TERM", &server.id().to_string()]).status().unwrap();
    assert!(kill.success());
    let output = server.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "stops gracefully on SIGTERM: {stderr}");
    assert!(
        stderr.contains("Serving the jobs dashboard of SQLite") && stderr.contains("basic auth, read-only"),
        "{stderr}"
    );
    assert!(!stderr.contains("s3cret"), "the password is never printed");
}
