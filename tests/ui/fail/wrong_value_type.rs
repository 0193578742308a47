use jobs::prelude::*;

#[job(queue = 5, priority = "high", log_arguments = "no")]
async fn wrong_value_type(name: String) {
    let _ = name;
}

fn main() {}
