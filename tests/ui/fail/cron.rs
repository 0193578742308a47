use jobs::prelude::*;

#[job(cron = "61 * * * *")]
async fn bad_minute() {}

#[job(cron = "* * *")]
async fn too_few_fields() {}

#[job(cron = 5)]
async fn not_a_string() {}

#[job(cron = "@daily")]
async fn with_arguments(name: String) {
    let _ = name;
}

fn main() {}
