//! Connecting: an unreachable server fails fast and says where and why.

mod support;

use std::error::Error as _;
use std::time::{Duration, Instant};

use jobs_postgres::PostgresAdapter;

/// The error's `Display`, then each `source()` in turn, as an error reporter prints them.
fn chain(error: &jobs_core::Error) -> Vec<String> {
    let mut lines = vec![error.to_string()];
    let mut source = error.source();
    while let Some(cause) = source {
        lines.push(cause.to_string());
        source = cause.source();
    }
    lines
}

#[tokio::test]
async fn a_refused_connection_fails_fast_naming_the_address() {
    let started = Instant::now();
    let error = PostgresAdapter::builder()
        .url("postgres://app:hunter2@127.0.0.1:1/app")
        .connect()
        .await
        .expect_err("nothing listens on port 1");
    let elapsed = started.elapsed();
    let shown = error.to_string();
    assert!(shown.contains("connection refused") && shown.contains("127.0.0.1:1"), "{shown}");
    assert!(!shown.contains("pool timed out"), "{shown}");
    // The pool used to retry for the whole 10 s acquire timeout.
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
    let chain = chain(&error);
    assert!(chain.len() <= 2, "{chain:#?}");
    assert!(chain.iter().all(|line| !line.contains("hunter2")), "{chain:#?}");
}

#[tokio::test]
async fn a_missing_database_is_the_servers_message_once_without_its_source_line() {
    if support::TestSchema::new("connect::a_missing_database").await.is_none() {
        return;
    }
    let mut url = support::url();
    let db_start = url.rfind('/').expect("a database in the URL") + 1;
    url.replace_range(db_start.., "jobs_no_such_database");
    let error = PostgresAdapter::builder().url(url).connect().await.expect_err("the database does not exist");
    let chain = chain(&error);
    assert!(chain[0].contains("\"jobs_no_such_database\" does not exist"), "{chain:#?}");
    assert!(chain.iter().all(|line| !line.contains(" at line ")), "{chain:#?}");
    assert!(chain.len() <= 2, "{chain:#?}");
}
