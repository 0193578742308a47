use jobs::prelude::*;

struct Connection;

#[job]
async fn global_not_a_record(connection: Global<Connection>) {
    let _ = connection;
}

fn main() {}
