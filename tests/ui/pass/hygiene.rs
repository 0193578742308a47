// The caller shadows names the expansion might use, and has no serde or inventory of its own.
#![allow(dead_code)]

mod core {}
mod serde {}
mod inventory {}
type Result = ();
type Option = ();
struct Vec;
struct Box;

use jobs::prelude::*;

#[derive(Default)]
struct Mailer;

/// A documented job.
#[job(queue = "mailers", priority = -3, name = "HygieneJob", log_arguments = false)]
async fn deliver(to: String, copies: u8, tags: std::vec::Vec<String>, mailer: State<Mailer>, ctx: &JobContext) {
    let _ = (to, copies, tags, mailer, ctx.job_id());
}

#[derive(Debug)]
struct Account;

impl GlobalId for Account {
    const MODEL: &'static str = "Account";
    fn model_id(&self) -> std::string::String {
        "1".into()
    }
    async fn locate(_: &str, _: &JobContext) -> std::result::Result<std::option::Option<Self>, jobs::BoxError> {
        std::result::Result::Ok(std::option::Option::Some(Account))
    }
}

/// Rich types and records expand hygienically too.
#[job]
async fn rich(at: chrono::DateTime<chrono::Utc>, every: std::time::Duration, account: Global<Account>) {
    let _ = (at, every, account);
}

#[job(crate = "::jobs")]
async fn no_arguments() -> std::result::Result<(), std::io::Error> {
    Ok(())
}

fn main() {
    let tokio = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    tokio.block_on(async {
        let adapter = jobs::adapters::TestAdapter::new();
        let runtime = Runtime::builder().adapter(adapter.clone()).state(Mailer).build().unwrap();
        runtime
            .scope(async {
                Deliver::perform_later("a@b.c".into(), 2, vec!["x".into()]).await.unwrap();
                Deliver::set().priority(1).perform_later("d@e.f".into(), 1, vec![]).await.unwrap();
                NoArguments::perform_later().await.unwrap();
                Deliver::perform_now("g@h.i".into(), 1, vec![]).await.unwrap();
            })
            .await;
        let enqueued = adapter.enqueued_jobs();
        assert_eq!(enqueued.len(), 3);
        assert_eq!(enqueued[0].job_class, "HygieneJob");
        assert_eq!(enqueued[0].queue_name, "mailers");
        assert_eq!(enqueued[0].priority, Some(-3));
    });
}
