use jobs::prelude::*;

#[job]
async fn reference_param(name: &str, bytes: &[u8]) {
    let _ = (name, bytes);
}

fn main() {}
