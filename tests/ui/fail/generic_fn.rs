use jobs::prelude::*;

#[job]
async fn generic_fn<T: std::fmt::Debug>(value: T) {
    let _ = value;
}

fn main() {}
