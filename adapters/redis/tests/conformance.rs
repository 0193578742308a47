//! The conformance suite, run against Redis: a key prefix of its own per case, deleted at the
//! end; the server's clock, so the suite waits in real time (briefly).

mod support;

use jobs_conformance::Fixture;

async fn redis() -> Option<Fixture> {
    let (redis, cleanup) = support::adapter("the Redis conformance suite").await?;
    let raw = redis.clone();
    Some(Fixture::new(redis).guard(cleanup).raw_enqueue(move |queue, payload| {
        let raw = raw.clone();
        async move { raw.enqueue_raw(&queue, &payload).await }
    }))
}

jobs_conformance::conformance_suite!(redis_conformance, redis);
