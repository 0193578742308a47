//! Connecting: an unreachable server fails fast and says where and why.

use std::error::Error as _;
use std::time::{Duration, Instant};

use jobs_redis::RedisAdapter;

#[tokio::test]
async fn a_refused_connection_names_the_address_once() {
    let started = Instant::now();
    let error = RedisAdapter::builder()
        .url("redis://:hunter2@127.0.0.1:1/0")
        .connect()
        .await
        .expect_err("nothing listens on port 1");
    let elapsed = started.elapsed();
    let shown = error.to_string();
    assert!(shown.contains("127.0.0.1:1") && shown.contains("connection refused"), "{shown}");
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
    let mut chain = vec![shown];
    let mut source = error.source();
    while let Some(cause) = source {
        chain.push(cause.to_string());
        source = cause.source();
    }
    assert!(chain.len() <= 2, "{chain:#?}");
    assert!(chain.iter().all(|line| !line.contains("hunter2")), "{chain:#?}");
}
