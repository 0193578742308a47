//! The `jobs` binary against SQLite files, and what it says when the command line is wrong.

#![cfg(feature = "sqlite")]

mod support;

use std::sync::Arc;

use jobs_sqlite::SqliteAdapter;
use support::{Backend, jobs};

#[tokio::test(flavor = "multi_thread")]
async fn an_operator_walks_through_stats_dead_jobs_retries_and_pauses() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jobs.db");
    let url = path.display().to_string();

    // Operations commands never create a database: `migrate` does.
    let missing = jobs(&["--database-url", &url, "stats"]).expect(1);
    assert!(
        missing.stderr.contains("no jobs database at") && missing.stderr.contains("`migrate`"),
        "{}",
        missing.stderr
    );
    assert!(!path.exists(), "stats created the file");
    let created = jobs(&["--database-url", &format!("sqlite:{url}"), "migrate"]).expect(0);
    assert!(created.stdout.contains("created, and at jobs schema version"), "{}", created.stdout);
    jobs(&["--database-url", &url, "migrate", "--print-sql"]).expect(4);

    let adapter = SqliteAdapter::open(&path).await.unwrap();
    let backend =
        Backend { name: "SQLite", args: vec!["--database-url".into(), url.clone()], adapter: Arc::new(adapter) };
    support::walk(&backend).await;
}

#[test]
fn settings_come_from_the_environment_and_a_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jobs.db");
    jobs(&["--database-url", &path.display().to_string(), "migrate"]).expect(0);

    let config = dir.path().join("jobs.toml");
    std::fs::write(&config, format!("database_url = {:?}\n", path.display().to_string())).unwrap();
    let run = jobs(&["--config", &config.display().to_string(), "stats"]).expect(0);
    assert!(run.stdout.contains(&format!("SQLite {}", path.display())), "{}", run.stdout);

    let output = std::process::Command::new(env!("CARGO_BIN_EXE_jobs"))
        .env("JOBS_DATABASE_URL", &path)
        .args(["stats", "--json"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stats: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(stats["queues"], serde_json::json!([]));

    std::fs::write(&config, "database_url = 'x.db'\nconcurrency = 3\n").unwrap();
    let bad = jobs(&["--config", &config.display().to_string(), "stats"]).expect(2);
    assert!(bad.stderr.contains("invalid config file") && bad.stderr.contains("concurrency"), "{}", bad.stderr);
}

#[test]
fn a_wrong_command_line_says_what_is_wrong_with_status_2() {
    let none = jobs(&["stats"]).expect(2);
    assert!(none.stderr.contains("--database-url") && none.stderr.contains("JOBS_DATABASE_URL"), "{}", none.stderr);

    let unknown = jobs(&["--database-url", "mysql://app:hunter2@db/app", "stats"]).expect(2);
    assert!(unknown.stderr.contains("unknown database URL mysql://app:***@db/app"), "{}", unknown.stderr);
    assert!(!unknown.stderr.contains("hunter2"));

    let state = jobs(&["--database-url", "x.db", "list", "--state", "lost"]).expect(2);
    assert!(state.stderr.contains("unknown job state `lost`"), "{}", state.stderr);

    let dir = tempfile::tempdir().unwrap();
    let url = dir.path().join("jobs.db").display().to_string();
    jobs(&["--database-url", &url, "migrate"]).expect(0);
    let which = jobs(&["--database-url", &url, "retry"]).expect(2);
    assert!(which.stderr.contains("say which jobs"), "{}", which.stderr);
    let both = jobs(&["--database-url", &url, "delete", "12", "--state", "dead"]).expect(2);
    assert!(both.stderr.contains("not both"), "{}", both.stderr);
    let when = jobs(&["--database-url", &url, "purge", "--completed-before", "last week"]).expect(2);
    assert!(when.stderr.contains("invalid time `last week`"), "{}", when.stderr);
    jobs(&["--database-url", &url, "show", "12"]).expect(3);
}

#[test]
fn the_standalone_binary_says_where_work_is() {
    let help = jobs(&["--help"]).expect(0);
    assert!(help.stdout.contains("There is no `work` command here"), "{}", help.stdout);
    assert!(help.stdout.contains("3  not found"), "{}", help.stdout);
    let work = jobs(&["work", "--queues", "default"]).expect(2);
    assert!(work.stderr.contains("jobs::cli::run()"), "{}", work.stderr);
}

#[test]
fn a_reader_that_goes_away_is_no_error() {
    let dir = tempfile::tempdir().unwrap();
    let url = dir.path().join("jobs.db").display().to_string();
    jobs(&["--database-url", &url, "migrate"]).expect(0);
    // `jobs stats | head -c0`: the pipe is closed before the command writes.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_jobs"))
        .args(["--database-url", &url, "stats"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{:?}: {}", output.status, String::from_utf8_lossy(&output.stderr));
}

#[tokio::test(flavor = "multi_thread")]
async fn recurring_lists_tasks_and_runs_one_now() {
    use jobs_core::adapter::Adapter;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jobs.db");
    let url = path.display().to_string();
    jobs(&["--database-url", &url, "migrate"]).expect(0);
    let empty = jobs(&["--database-url", &url, "recurring"]).expect(0);
    assert!(empty.stdout.contains("No recurring task"), "{}", empty.stdout);

    let adapter = SqliteAdapter::open(&path).await.unwrap();
    let tasks = jobs_core::parse_recurring(
        "[daily]\nclass = \"Report\"\nargs = [\"daily\"]\nschedule = \"0 3 * * *\"\ntime_zone = \"Europe/Paris\"\nqueue = \"reports\"\n",
    )
    .unwrap();
    adapter.recurring().unwrap().upsert_tasks(&tasks).await.unwrap();

    let listed = jobs(&["--database-url", &url, "recurring"]).expect(0);
    for expected in ["daily", "Report", "0 3 * * * (Europe/Paris)", "never", "static"] {
        assert!(listed.stdout.contains(expected), "{expected}: {}", listed.stdout);
    }
    let run = jobs(&["--database-url", &url, "recurring", "run", "daily"]).expect(0);
    assert!(run.stdout.contains("Enqueued Report") && run.stdout.contains("reports"), "{}", run.stdout);
    let json = jobs(&["--database-url", &url, "recurring", "--json"]).expect(0).json();
    let job_id = json[0]["last_job_id"].as_str().expect("the run is the last job").to_owned();
    assert!(run.stdout.contains(&job_id), "{}", run.stdout);
    assert!(json[0]["next_run_at"].is_string() && json[0]["last_run_at"].is_string(), "{json}");

    jobs(&["--database-url", &url, "recurring", "run", "nope"]).expect(3);
    jobs(&["--database-url", &url, "recurring", "pause", "daily"]).expect(0);
    let paused = jobs(&["--database-url", &url, "recurring", "run", "daily"]).expect(2);
    assert!(paused.stderr.contains("paused"), "{}", paused.stderr);
    jobs(&["--database-url", &url, "recurring", "resume", "daily"]).expect(0);
    jobs(&["--database-url", &url, "recurring", "pause", "nope"]).expect(3);
}
