use jobs::prelude::*;

#[job(limits_concurrency(to = 0, key = |a, b| a, on_conflict = wait, grup = "x"))]
async fn charge(account_id: i64) {
    let _ = account_id;
}

#[job(limits_concurrency(key = |job| job.account_id))]
async fn refund(account_id: i64) {
    let _ = account_id;
}

#[job(unique(by = [args, user], while = [done], for = "soon", key = |job| job.feed))]
async fn refresh(feed: String) {
    let _ = feed;
}

#[job(throttle(limit = 10), unique = true)]
async fn ping(host: String) {
    let _ = host;
}

fn main() {}
