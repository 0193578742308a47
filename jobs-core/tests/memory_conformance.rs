//! The conformance suite, run against the memory adapter on a manual clock.

use std::sync::Arc;

use jobs_core::ManualClock;
use jobs_core::adapters::MemoryAdapter;
use jobs_core::conformance::Fixture;

async fn memory() -> Fixture {
    let clock = ManualClock::new(chrono::Utc::now());
    let memory = MemoryAdapter::with_clock(Arc::new(clock.clone()));
    let raw = memory.clone();
    Fixture::new(memory).clock(clock).raw_enqueue(move |queue, payload| {
        let raw = raw.clone();
        async move { Ok(raw.push_raw(&queue, payload)) }
    })
}

jobs_core::conformance_suite!(memory_conformance, memory);
