use jobs::prelude::*;

#[job(queue_as = "mailers")]
async fn queue_as(name: String) {
    let _ = name;
}

fn main() {}
