// A wrong key is the only error: the struct and its methods are still generated, so the call
// sites below compile and report nothing more.
use jobs::prelude::*;

#[job(queue = "mailers", retries = 3)]
async fn send_welcome(user_id: u64, name: String) {
    let _ = (user_id, name);
}

async fn enqueue() -> Result<(), jobs::Error> {
    SendWelcome::perform_later(1, "Ada".into()).await?;
    SendWelcome::set().priority(1).perform_later(2, "Grace".into()).await?;
    SendWelcome::perform_now(3, "Edsger".into()).await?;
    Ok(())
}

fn main() {
    let _ = enqueue();
}
