use std::time::Duration;

use jobs::prelude::*;
use jobs::{FlowKey, JobState, OnConflict};

#[job(limits_concurrency(to = 2, key = |job| job.account_id, duration = "5m", on_conflict = block, group = "billing"))]
async fn charge(account_id: i64, cents: u64) {
    let _ = (account_id, cents);
}

#[job(unique(by = [args, queue], for = "1h", while = [scheduled, ready]))]
async fn refresh(feed: String) {
    let _ = feed;
}

// The key borrows the field: no clone needed for a String.
#[job(unique(key = |job| job.email), throttle(limit = 10, period = "1s", key = |job| job.email))]
async fn welcome(email: String) {
    let _ = email;
}

fn tenant_of(job: &SyncTenant) -> String {
    format!("tenant-{}", job.tenant)
}

#[job(unique, limits_concurrency(to = 1, key = tenant_of, on_conflict = discard))]
async fn sync_tenant(tenant: u32) {
    let _ = tenant;
}

fn main() {
    let limit = <Charge as Job>::FLOW.concurrency.unwrap();
    assert_eq!((limit.to, limit.duration, limit.group), (2, Duration::from_secs(300), Some("billing")));
    assert_eq!(limit.on_conflict, OnConflict::Block);
    assert_eq!(Charge { account_id: 42, cents: 1 }.flow_key(FlowKey::Concurrency).as_deref(), Some("42"));
    assert_eq!(Charge { account_id: 42, cents: 1 }.flow_key(FlowKey::Throttle), None);

    let unique = <Refresh as Job>::FLOW.unique.unwrap();
    assert!(unique.by.args && unique.by.queue && !unique.by.class);
    assert_eq!(unique.period, Some(Duration::from_secs(3600)));
    assert_eq!(unique.states, &[JobState::Scheduled, JobState::Ready]);

    let welcome = Welcome { email: "a@b.c".into() };
    assert_eq!(welcome.flow_key(FlowKey::Unique).as_deref(), Some("a@b.c"));
    assert_eq!(<Welcome as Job>::FLOW.throttle.unwrap().limit, 10);

    assert_eq!(<SyncTenant as Job>::FLOW.unique.unwrap().states.len(), 5);
    assert_eq!(<SyncTenant as Job>::FLOW.concurrency.unwrap().on_conflict, OnConflict::Discard);
    assert_eq!(SyncTenant { tenant: 7 }.flow_key(FlowKey::Concurrency).as_deref(), Some("tenant-7"));
    assert!(<SyncTenant as Job>::FLOW.throttle.is_none());
}
