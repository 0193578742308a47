//! The conformance suite, run against the PostgreSQL adapter: a schema of its own per case,
//! dropped at the end; the server's clock, so the suite waits in real time.

mod support;

use jobs_conformance::Fixture;
use support::TestSchema;

async fn postgres() -> Option<Fixture> {
    let schema = TestSchema::new("postgres_conformance").await?;
    let postgres = schema.adapter().await;
    let raw = postgres.clone();
    Some(Fixture::new(postgres).guard(schema).raw_enqueue(move |queue, payload| {
        let raw = raw.clone();
        async move { raw.enqueue_raw(&queue, 0, &payload).await }
    }))
}

jobs_conformance::conformance_suite!(postgres_conformance, postgres);
