use jobs::prelude::*;

#[job]
async fn bad_return_type(id: u64) -> u64 {
    id
}

fn main() {}
