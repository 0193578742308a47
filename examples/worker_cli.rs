//! An application whose binary is also its jobs command line: `main` hands over to
//! `jobs::cli::run()`, which gives it `work` (a worker over the jobs compiled in) and every
//! operations command (`stats`, `list`, `show`, `retry`, `pause`, ...).
//!
//! ```text
//! export JOBS_DATABASE_URL=demo.db
//! cargo run --example worker_cli -- seed                  # this app's own command: store some jobs
//! cargo run --example worker_cli -- work --queues mailers,billing --max-retries 0
//! cargo run --example worker_cli -- stats                 # or the standalone `jobs` binary
//! cargo run --example worker_cli -- list --state dead
//! cargo run --example worker_cli -- --help
//! ```
//!
//! `seed` shows how an application keeps commands of its own beside the jobs ones: it looks at
//! its first argument before handing the command line over.

use jobs::prelude::*;
use jobs::sqlite::SqliteAdapter;

/// Why a card was declined.
#[derive(Debug, thiserror::Error)]
#[error("card declined for customer {0}: insufficient funds")]
struct Declined(u64);

/// Sends a welcome email (here: prints it).
#[job(queue = "mailers")]
async fn send_welcome_email(address: String) {
    println!("welcome email sent to {address}");
}

/// Charges a customer; customer 13's card is always declined.
#[job(queue = "billing")]
async fn charge_customer(customer_id: u64, cents: u64) -> Result<(), Declined> {
    if customer_id == 13 {
        return Err(Declined(customer_id));
    }
    println!("charged customer {customer_id}: {cents} cents");
    Ok(())
}

#[tokio::main]
async fn main() -> jobs::cli::Exit {
    if std::env::args().nth(1).as_deref() == Some("seed") {
        return match seed().await {
            Ok(()) => jobs::cli::Exit::Ok,
            Err(error) => {
                eprintln!("error: {error}");
                jobs::cli::Exit::Error
            }
        };
    }
    jobs::cli::Cli::new().name("worker_cli").version(env!("CARGO_PKG_VERSION")).run().await
}

/// Stores a few jobs in the SQLite file `JOBS_DATABASE_URL` names (default `jobs.db`).
async fn seed() -> Result<(), jobs::Error> {
    let path = std::env::var("JOBS_DATABASE_URL").unwrap_or_else(|_| "jobs.db".into());
    Runtime::builder().adapter(SqliteAdapter::open(&path).await?).build()?.install();
    SendWelcomeEmail::perform_later("ada@example.com".into()).await?;
    SendWelcomeEmail::perform_later("grace@example.com".into()).await?;
    for (customer, cents) in [(7, 1_250), (13, 990), (21, 4_000)] {
        ChargeCustomer::perform_later(customer, cents).await?;
    }
    ChargeCustomer::set().wait(std::time::Duration::from_secs(3_600)).perform_later(34, 500).await?;
    println!("stored 6 jobs in {path}: 2 on mailers, 4 on billing (one in an hour)");
    Ok(())
}
