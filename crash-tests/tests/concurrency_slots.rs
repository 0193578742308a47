//! A worker process killed with SIGKILL while its two jobs hold both concurrency slots of their
//! key: the four jobs blocked on the key run once the slots' hold time (`duration`) is over — not
//! before, and without waiting for the killed jobs' leases to expire; no more than the limit run
//! at once throughout; the killed jobs run again once their leases expire; no job is lost.
//!
//! SQLite only: what the store promises here (a slot frees after its hold time, a blocked job
//! becomes ready then) is the conformance case `blocked_jobs_run_after_an_abandoned_slot_expires`,
//! run against every adapter (PostgreSQL and Redis included); this test adds what only real
//! processes show, a worker that dies holding slots and releases none of them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use jobs_core::{Inspect, JobState, ListParams};
use jobs_crash_tests::limited::{Entry, Event, HOLD, LEDGER, LIMIT};
use jobs_crash_tests::log::all_lines;
use jobs_crash_tests::process::{Process, wait_until};
use jobs_sqlite::SqliteAdapter;

const LIMITED: &str = env!("CARGO_BIN_EXE_sqlite-limited");
const KEY: &str = "account-7";
/// The jobs the killed worker runs, holding both slots until it dies: numbers 0 and 1.
const LONG: u64 = LIMIT as u64;
/// The jobs blocked behind them: numbers 2 to 5.
const BLOCKED: u64 = 4;
const TIMEOUT: Duration = Duration::from_secs(60);
const POLL: Duration = Duration::from_millis(20);

fn enqueue(db: &Path, first: u64, count: u64, long: bool) {
    let mut command = Command::new(LIMITED);
    command.arg("enqueue").arg(db).args([KEY, &first.to_string(), &count.to_string()]);
    if long {
        command.arg("--long");
    }
    let status = command.status().expect("run sqlite-limited enqueue");
    assert!(status.success(), "enqueueing failed: {status}");
}

fn worker(db: &Path, dir: &Path, hog: bool) -> Process {
    let mut command = Command::new(LIMITED);
    command.arg("work").arg(db).arg(dir);
    if hog {
        command.arg("--hog");
    }
    Process::spawn(&mut command)
}

/// Every ledger entry, with the pid of the process that wrote it.
fn ledger(dir: &Path) -> Vec<(u32, Entry)> {
    all_lines(dir, LEDGER).into_iter().map(|(pid, line)| (pid, Entry::parse(&line))).collect()
}

/// The entries of `event` the process `pid` wrote, as (job, time).
fn of(ledger: &[(u32, Entry)], pid: u32, event: Event) -> Vec<(u64, i64)> {
    ledger.iter().filter(|(p, e)| *p == pid && e.event == event).map(|(_, e)| (e.n, e.at)).collect()
}

/// The numbers of the jobs stored in `state`.
fn numbers(sqlite: &SqliteAdapter, tokio: &tokio::runtime::Runtime, state: JobState) -> BTreeSet<u64> {
    let jobs = tokio.block_on(sqlite.list(&ListParams::new().state(state).limit(100))).unwrap().jobs;
    jobs.iter().map(|job| job.data().unwrap().arguments[0].as_u64().expect("a job number")).collect()
}

/// The most runs in progress at one instant, given each run's (start, end).
fn most_at_once(runs: &[(i64, i64)]) -> usize {
    // At equal times an end sorts before a start: the ledger's end is written before the slot is
    // given back, the next start after it is taken.
    let mut edges: Vec<(i64, i32)> = runs.iter().flat_map(|(start, end)| [(*start, 1), (*end, -1)]).collect();
    edges.sort();
    let (mut now, mut most) = (0, 0);
    for (_, step) in edges {
        now += step;
        most = most.max(now);
    }
    usize::try_from(most).unwrap_or(0)
}

#[test]
fn jobs_blocked_behind_a_killed_worker_run_once_its_slots_expire() {
    let dir = tempfile::tempdir().unwrap();
    let (dir, db) = (dir.path(), dir.path().join("jobs.db"));
    let tokio = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();

    // The long jobs first, so that they are the ones holding the slots.
    enqueue(&db, 0, LONG, true);
    let mut hog = worker(&db, dir, true);
    wait_until("the hog to start the long jobs", TIMEOUT, POLL, || {
        of(&ledger(dir), hog.pid(), Event::Start).len() as u64 == LONG
    });
    enqueue(&db, LONG, BLOCKED, false);
    let sqlite = tokio.block_on(SqliteAdapter::open(&db)).unwrap();
    wait_until("the other jobs to be blocked", TIMEOUT, POLL, || {
        tokio.block_on(sqlite.counts()).unwrap().total(JobState::Blocked) == BLOCKED
    });
    assert_eq!(numbers(&sqlite, &tokio, JobState::Running), (0..LONG).collect());
    assert_eq!(numbers(&sqlite, &tokio, JobState::Blocked), (LONG..LONG + BLOCKED).collect());

    hog.kill();
    let killed_at = chrono::Utc::now().timestamp_micros();
    let survivor_pid = {
        let mut survivor = worker(&db, dir, false);
        let status = survivor.wait(TIMEOUT);
        assert!(status.success(), "the surviving worker failed: {status}");
        survivor.pid()
    };

    let ledger = ledger(dir);
    let hog_starts = of(&ledger, hog.pid(), Event::Start);
    assert_eq!(
        (hog_starts.iter().map(|(n, _)| *n).collect::<BTreeSet<_>>(), of(&ledger, hog.pid(), Event::End)),
        ((0..LONG).collect(), Vec::new()),
        "the killed worker ran only the long jobs, which never ended (if it ran a blocked job, it \
         outlived the slots' hold of {HOLD:?}: the machine was too slow for this test)"
    );
    // The slots were taken before the long jobs logged their start.
    let taken = hog_starts.iter().map(|(_, at)| *at).min().unwrap();
    let starts = of(&ledger, survivor_pid, Event::Start);
    let ends: BTreeMap<u64, i64> = of(&ledger, survivor_pid, Event::End).into_iter().collect();

    // Nothing lost: every job ran to its end, the store agrees.
    assert_eq!(ends.keys().copied().collect::<BTreeSet<_>>(), (0..LONG + BLOCKED).collect(), "{ledger:?}");
    let counts = tokio.block_on(sqlite.counts()).unwrap();
    assert_eq!(
        (counts.total(JobState::Completed), counts.pending(), counts.total(JobState::Dead)),
        (LONG + BLOCKED, 0, 0)
    );
    tokio.block_on(sqlite.close());

    // Each blocked job ran once, not before the slots' hold was over (less a second for the time
    // between taking a slot and logging the start).
    let blocked: Vec<(u64, i64)> = starts.iter().copied().filter(|(n, _)| *n >= LONG).collect();
    let mut once: Vec<u64> = blocked.iter().map(|(n, _)| *n).collect();
    once.sort_unstable();
    assert_eq!(once, (LONG..LONG + BLOCKED).collect::<Vec<_>>(), "each blocked job ran once: {ledger:?}");
    let hold = i64::try_from(HOLD.as_micros()).unwrap();
    let earliest = taken + hold - 1_000_000;
    for (n, at) in &blocked {
        assert!(
            *at >= earliest,
            "job {n} ran {} ms after the slots were taken, before their hold of {HOLD:?} was over",
            (at - taken) / 1000
        );
    }

    // The killed jobs ran again (their leases expired), after the blocked jobs had started: the
    // slots' hold freed the key, not the reruns' releases.
    let reruns: Vec<(u64, i64)> = starts.iter().copied().filter(|(n, _)| *n < LONG).collect();
    assert_eq!(reruns.iter().map(|(n, _)| *n).collect::<BTreeSet<_>>(), (0..LONG).collect(), "{ledger:?}");
    let first_rerun = reruns.iter().map(|(_, at)| *at).min().unwrap();
    assert!(
        blocked.iter().all(|(_, at)| *at < first_rerun),
        "the blocked jobs waited for the killed jobs' rescue: {ledger:?}"
    );

    // At most LIMIT runs at once: the killed runs lasted until the kill.
    let mut runs: Vec<(i64, i64)> = hog_starts.iter().map(|(_, at)| (*at, killed_at)).collect();
    for (n, at) in &starts {
        runs.push((*at, ends[n]));
    }
    let most = most_at_once(&runs);
    assert!(most <= LIMIT as usize, "{most} runs of one key at once under a limit of {LIMIT}: {ledger:?}");
}
