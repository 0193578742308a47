use jobs::prelude::*;

struct Account;

#[job(limits_concurrency(to = 2, key = |job| Account))]
async fn charge(account_id: i64) {
    let _ = account_id;
}

fn main() {}
