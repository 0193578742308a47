//! What the limited worker (`sqlite-limited`) and its test (`tests/concurrency_slots.rs`) agree
//! on: the concurrency limit its job class declares, the lease of the worker the test kills, and
//! the lines of its ledger.

use std::time::Duration;

/// How many jobs of one key run at once (`limits_concurrency(to = 2, ..)`).
pub const LIMIT: u32 = 2;

/// How long a slot is held at most (`limits_concurrency(duration = "5s", ..)`): a slot whose
/// holder died frees this long after it was taken.
pub const HOLD: Duration = Duration::from_secs(5);

/// The lease of the worker the test kills (`work --hog`): far longer than [`HOLD`], so that its
/// killed jobs are rescued (and their reruns release their slots) well after their slots expired,
/// and the test can tell the two apart.
pub const HOG_LEASE: Duration = Duration::from_secs(20);

/// The lease of the other workers.
pub const LEASE: Duration = Duration::from_secs(2);

/// How long a job that does not hog its slot runs.
pub const RUN: Duration = Duration::from_millis(300);

/// The ledger's name: each process appends to `DIR/ledger-PID.log`.
pub const LEDGER: &str = "ledger";

/// What a ledger line records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// A run of the job started (it holds a slot).
    Start,
    /// A run of the job ended (it is about to give its slot back).
    End,
}

/// One line of the ledger: job `n` started or ended a run at `at` (microseconds since the Unix
/// epoch, the machine's clock).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Start or end.
    pub event: Event,
    /// The job's number.
    pub n: u64,
    /// When, in microseconds since the Unix epoch.
    pub at: i64,
}

impl Entry {
    /// The entry for job `n` now.
    pub fn now(event: Event, n: u64) -> Entry {
        Entry { event, n, at: chrono::Utc::now().timestamp_micros() }
    }

    /// The line it is written as: `start 3 1765000000000000`.
    pub fn to_line(self) -> String {
        let event = match self.event {
            Event::Start => "start",
            Event::End => "end",
        };
        format!("{event} {} {}", self.n, self.at)
    }

    /// Reads a line written by [`Entry::to_line`].
    ///
    /// # Panics
    /// When the line is not one: the ledger is torn or from another program.
    pub fn parse(line: &str) -> Entry {
        let fields: Vec<&str> = line.split(' ').collect();
        let [event, n, at] = fields.as_slice() else { panic!("not a ledger line: {line:?}") };
        let event = match *event {
            "start" => Event::Start,
            "end" => Event::End,
            _ => panic!("not a ledger event: {line:?}"),
        };
        Entry { event, n: n.parse().expect("a job number"), at: at.parse().expect("a time") }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_reads_back_as_written() {
        for entry in [Entry { event: Event::Start, n: 3, at: 1_765_000_000_123_456 }, Entry::now(Event::End, 0)] {
            assert_eq!(Entry::parse(&entry.to_line()), entry);
        }
    }
}
