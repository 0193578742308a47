use jobs::prelude::*;

#[job(queue = "mailers", retries = 3)]
async fn unknown_key(name: String) {
    let _ = name;
}

fn main() {}
