use jobs::prelude::*;

struct Mailer;

impl Mailer {
    #[job]
    async fn deliver(&self, to: String) {
        let _ = to;
    }
}

fn main() {}
