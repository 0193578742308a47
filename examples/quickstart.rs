//! Quick start: declare jobs, enqueue some now and some for later, run a worker until every job
//! is done, and print what happened.
//!
//! ```text
//! cargo run --example quickstart
//! ```

use std::sync::Mutex;
use std::time::Duration;

use jobs::prelude::*;

/// What the jobs did, shared with them as application state.
#[derive(Default)]
struct Journal {
    lines: Mutex<Vec<String>>,
}

impl Journal {
    fn write(&self, line: String) {
        println!("  {line}");
        self.lines.lock().unwrap().push(line);
    }
}

/// Sends a welcome email (here: writes a line in the journal).
#[job(queue = "mailers")]
async fn send_welcome_email(address: String, journal: State<Journal>, ctx: &JobContext) {
    journal.write(format!("welcome email sent to {address} (job {}, attempt {})", ctx.job_id(), ctx.executions()));
}

/// Adds up an invoice; fails for an empty one.
#[job(queue = "billing", priority = 5)]
async fn bill_customer(customer_id: u64, amounts: Vec<u32>, journal: State<Journal>) -> Result<(), String> {
    if amounts.is_empty() {
        return Err(format!("customer {customer_id} has nothing to bill"));
    }
    journal.write(format!("billed customer {customer_id}: {} cents", amounts.iter().sum::<u32>()));
    Ok(())
}

/// A nightly clean-up, scheduled for later.
#[job]
async fn clean_up(table: String, journal: State<Journal>) {
    journal.write(format!("cleaned up {table}"));
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let memory = MemoryAdapter::new();
    let runtime = Runtime::builder().adapter(memory.clone()).state(Journal::default()).build()?;
    runtime.install();

    println!("Enqueueing jobs on {}:", runtime.adapter().name());
    let job = SendWelcomeEmail::perform_later("ada@example.com".into()).await?;
    println!("  SendWelcomeEmail -> job id {} on queue {}", job.job_id, job.queue);
    BillCustomer::perform_later(42, vec![1999, 500]).await?;
    let later = CleanUp::set().wait(Duration::from_secs(2)).perform_later("sessions".into()).await?;
    println!("  CleanUp -> scheduled at {}", later.scheduled_at.expect("scheduled"));
    perform_all_later([
        PendingJob::new(SendWelcomeEmail { address: "grace@example.com".into() }),
        PendingJob::new(BillCustomer { customer_id: 7, amounts: vec![250] }),
    ])
    .await?;

    println!("Performing now, without a queue:");
    BillCustomer::perform_now(1, vec![100]).await?;

    println!("Running a worker until every job is done:");
    let worker = Worker::builder()
        .queues(["mailers", "billing", "default"])
        .concurrency(4)
        .poll_interval(Duration::from_millis(100))
        .build()?
        .start();
    let journal = runtime.state::<Journal>()?;
    while journal.lines.lock().unwrap().len() < 6 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    worker.shutdown().await?;
    println!("Done: {} jobs performed, {} left in the queue.", journal.lines.lock().unwrap().len(), memory.pending());
    Ok(())
}
