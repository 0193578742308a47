//! The redis adapter: each run gets a key prefix of its own on the server at
//! `JOBS_BENCH_REDIS_URL` (default: the local server), deleted by the teardown.

use std::sync::Arc;

use jobs::redis::RedisAdapter;

use crate::cli::AdapterKind;
use crate::target::{Target, Unavailable};

/// A fresh, empty redis store, or why there is none.
pub(crate) async fn open() -> Result<Target, Unavailable> {
    let url = std::env::var("JOBS_BENCH_REDIS_URL").ok().filter(|u| !u.is_empty());
    let url = url.unwrap_or_else(|| jobs::redis::DEFAULT_URL.to_owned());
    let prefix = format!("jobs-bench:{}:{:08x}:", std::process::id(), nonce());
    let redis = RedisAdapter::builder()
        .url(&url)
        .prefix(prefix)
        .connect()
        .await
        .map_err(|error| Unavailable::Unreachable { adapter: AdapterKind::Redis, reason: error.to_string() })?;
    let mut conn = redis.connection();
    let info: String = jobs::redis::redis::cmd("INFO").arg("server").query_async(&mut conn).await.unwrap_or_default();
    let server = info.lines().find_map(|l| l.strip_prefix("redis_version:")).unwrap_or("?").trim().to_owned();
    let teardown = redis.clone();
    Ok(Target {
        adapter: Arc::new(redis),
        version: format!("jobs-redis {}, Redis {server}", env!("CARGO_PKG_VERSION")),
        teardown: Some(Box::new(move || {
            Box::pin(async move {
                let _ = teardown.close().await;
                let _ = teardown.clear().await;
            })
        })),
        settle: None,
    })
}

fn nonce() -> u32 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now()) as u32
}
