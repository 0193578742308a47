//! The conformance suite, run against the PostgreSQL adapter: a schema of its own per case,
//! dropped at the end; the server's clock, so the suite waits in real time.

mod support;

use jobs_conformance::Fixture;
use support::TestSchema;

async fn postgres() -> Option<Fixture> {
    let schema = TestSchema::new("postgres_conformance").await?;
    // The adapter's default pool size, not the 5 of the other tests: the flow cases run four
    // workers at concurrency 20 on this one pool, whose throttle reservations and delayed
    // enqueues go through it, as a process of that concurrency would have.
    let postgres = schema.builder().max_connections(10).connect().await.expect("connect to the test server");
    let raw = postgres.clone();
    Some(Fixture::new(postgres).guard(schema).raw_enqueue(move |queue, payload| {
        let raw = raw.clone();
        async move { raw.enqueue_raw(&queue, 0, &payload).await }
    }))
}

jobs_conformance::conformance_suite!(postgres_conformance, postgres);
