//! The conformance suite, run against the memory adapter: once on a manual clock that the suite
//! moves, once on the system clock, as for an adapter whose store owns the clock.

use std::sync::Arc;

use jobs_conformance::Fixture;
use jobs_core::adapters::MemoryAdapter;
use jobs_core::{Clock, ManualClock, SystemClock};

fn fixture(clock: Arc<dyn Clock>) -> Fixture {
    let memory = MemoryAdapter::with_clock(clock);
    let raw = memory.clone();
    Fixture::new(memory).raw_enqueue(move |queue, payload| {
        let raw = raw.clone();
        async move { Ok(raw.push_raw(&queue, payload)) }
    })
}

async fn memory() -> Fixture {
    let clock = ManualClock::new(chrono::Utc::now());
    fixture(Arc::new(clock.clone())).clock(clock)
}

async fn memory_on_system_clock() -> Fixture {
    fixture(Arc::new(SystemClock))
}

jobs_conformance::conformance_suite!(memory_conformance, memory);
jobs_conformance::conformance_suite!(memory_conformance_system_clock, memory_on_system_clock);
