use jobs::prelude::*;

struct Connection;

#[job]
async fn not_serializable(id: u64, connection: Connection) {
    let _ = (id, connection);
}

fn main() {}
