use jobs::prelude::*;

#[job(continuable = 3)]
async fn import(file: String) {
    let _ = file;
}

#[job(continuable(max_resumptions = "many", resume_after = "5s"))]
async fn export(file: String) {
    let _ = file;
}

fn main() {}
