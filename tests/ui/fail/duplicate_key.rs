use jobs::prelude::*;

#[job(queue = "mailers", queue = "low")]
async fn duplicate_key(name: String) {
    let _ = name;
}

fn main() {}
