//! Redis: Sidekiq's key layout under an optional prefix; no schema, but a server setting that
//! decides whether jobs can be lost.

use std::sync::Arc;

use jobs_redis::RedisAdapter;
use jobs_redis::redis;

use super::{Finding, Store};
use crate::exit::Failure;

pub(super) async fn open(url: &str, prefix: Option<&str>) -> Result<Store, Failure> {
    Ok(connect(url, prefix).await?.0)
}

async fn connect(url: &str, prefix: Option<&str>) -> Result<(Store, RedisAdapter), Failure> {
    let mut builder = RedisAdapter::builder().url(url);
    if let Some(prefix) = prefix {
        builder = builder.prefix(prefix);
    }
    let redis = builder.connect().await.map_err(|e| Failure::Failed(e.to_string()))?;
    let shown = match redis.prefix() {
        "" => format!("Redis {}", redis.url()),
        prefix => format!("Redis {}, prefix {prefix}", redis.url()),
    };
    Ok((Store::new(Arc::new(redis.clone()), shown), redis))
}

pub(super) async fn check(url: &str, prefix: Option<&str>) -> (Option<Store>, Vec<Finding>) {
    let (store, redis) = match connect(url, prefix).await {
        Ok(connected) => connected,
        Err(failure) => return (None, vec![Finding::failed("connection", failure.to_string())]),
    };
    let info: Result<String, _> = redis::cmd("INFO").query_async(&mut redis.connection()).await;
    let info = match info {
        Ok(info) => info,
        Err(error) => {
            let finding =
                Finding::failed("connection", format!("connected to {}, but INFO failed: {error}", store.shown()));
            return (Some(store), vec![finding]);
        }
    };
    let field = |name: &str| {
        info.lines().find_map(|line| line.strip_prefix(name)?.strip_prefix(':')).map(str::trim).unwrap_or("unknown")
    };
    let mut findings =
        vec![Finding::ok("connection", format!("connected to {} (Redis {})", store.shown(), field("redis_version")))];
    findings.push(policy_finding(field("maxmemory_policy")));
    (Some(store), findings)
}

/// `noeviction` is the only policy under which Redis never drops a job to free memory.
fn policy_finding(policy: &str) -> Finding {
    if policy == "noeviction" {
        Finding::ok("maxmemory-policy", "noeviction: Redis refuses writes rather than evict jobs when memory runs out")
    } else {
        Finding::failed(
            "maxmemory-policy",
            format!(
                "{policy}: when memory runs out Redis may evict keys, and jobs with them; set \
                 `maxmemory-policy noeviction` on a server that holds jobs (as Sidekiq advises)"
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_noeviction_keeps_every_job() {
        assert!(policy_finding("noeviction").ok);
        for policy in ["allkeys-lru", "volatile-lru", "allkeys-random", "volatile-ttl", "unknown"] {
            let finding = policy_finding(policy);
            assert!(!finding.ok && finding.detail.starts_with(policy), "{policy}");
        }
    }
}
