//! Opening: a database that cannot be opened names its path and says why.

use std::error::Error as _;

use jobs_core::Error;
use jobs_sqlite::SqliteAdapter;

/// The error's `Display`, then each `source()` in turn, as an error reporter prints them.
fn chain(error: &Error) -> Vec<String> {
    let mut lines = vec![error.to_string()];
    let mut source = error.source();
    while let Some(cause) = source {
        lines.push(cause.to_string());
        source = cause.source();
    }
    lines
}

#[tokio::test]
async fn an_empty_path_is_an_error_not_a_temporary_database() {
    let error = SqliteAdapter::open("").await.expect_err("an empty path");
    assert!(matches!(error, Error::Config(_)), "{error}");
    assert!(error.to_string().contains("needs a file path"), "{error}");
}

#[tokio::test]
async fn a_missing_directory_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing").join("jobs.db");
    let error = SqliteAdapter::open(&path).await.expect_err("the directory does not exist");
    let chain = chain(&error);
    let missing = dir.path().join("missing").display().to_string();
    assert!(chain[0].contains(&path.display().to_string()), "{chain:#?}");
    assert!(chain[0].contains(&format!("the directory {missing} does not exist")), "{chain:#?}");
    assert!(chain.len() <= 2, "{chain:#?}");
}

#[tokio::test]
async fn a_directory_is_not_a_database_file() {
    let dir = tempfile::tempdir().unwrap();
    let error = SqliteAdapter::open(dir.path()).await.expect_err("a directory");
    let shown = error.to_string();
    assert!(shown.contains(&dir.path().display().to_string()) && shown.contains("is a directory"), "{shown}");
}
