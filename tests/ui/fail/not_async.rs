use jobs::prelude::*;

#[job]
fn not_async(name: String) {
    let _ = name;
}

fn main() {}
