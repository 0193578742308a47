//! A continuable job on SQLite: a SIGTERM interrupts it at a checkpoint and stores its cursor; a
//! SIGKILL mid-step loses only the work since the last stored progress, which the next worker
//! repeats. A worker stores a running job's progress under its claim at checkpoints (at most once
//! per `checkpoint_interval`, 50 ms here) and at each completed step: after a kill the rescued job
//! resumes from the last checkpoint stored, past the last interruption, and only the rows saved
//! since that checkpoint are saved again.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

const ROWS: u64 = 3_000;
const IMPORT: &str = env!("CARGO_BIN_EXE_sqlite-import");
const TIMEOUT: Duration = Duration::from_secs(180);

/// A worker process, killed if the test fails before it exits.
struct Process(Child);

impl Process {
    fn pid(&self) -> u32 {
        self.0.id()
    }

    fn wait(&mut self) -> std::process::ExitStatus {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(status) = self.0.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "worker {} did not exit", self.pid());
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn worker(db: &Path, dir: &Path) -> Process {
    Process(Command::new(IMPORT).arg("work").arg(db).arg(dir).spawn().expect("start a worker process"))
}

/// The lines a process logged as `kind` (`rows` or `steps`).
fn lines(dir: &Path, kind: &str, pid: u32) -> Vec<String> {
    std::fs::read_to_string(dir.join(format!("{kind}-{pid}.log")))
        .map(|text| text.lines().map(str::to_owned).collect())
        .unwrap_or_default()
}

fn rows(dir: &Path, pid: u32) -> Vec<u64> {
    lines(dir, "rows", pid).iter().map(|l| l.parse().expect("a row number")).collect()
}

fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + TIMEOUT;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_killed_import_resumes_from_its_last_stored_progress() {
    let dir = tempfile::tempdir().unwrap();
    let (dir, db) = (dir.path(), dir.path().join("jobs.db"));
    let status = Command::new(IMPORT).arg("enqueue").arg(&db).arg(ROWS.to_string()).status().unwrap();
    assert!(status.success(), "enqueueing failed: {status}");

    // SIGTERM: the import stops at its next checkpoint and is stored again at its cursor.
    let mut first = worker(&db, dir);
    wait_until("the first worker to save 500 rows", || rows(dir, first.pid()).len() >= 500);
    assert!(Command::new("kill").args(["-TERM", &first.pid().to_string()]).status().unwrap().success());
    assert!(first.wait().success(), "a SIGTERM'd worker exits cleanly");
    let stored_at = rows(dir, first.pid()).len() as u64;
    assert!(stored_at < ROWS, "the import finished before SIGTERM");
    assert_eq!(rows(dir, first.pid()), (0..stored_at).collect::<Vec<_>>());

    // SIGKILL mid-step: this run's progress reached the store at its checkpoints until the kill.
    let mut second = worker(&db, dir);
    wait_until("the second worker to save 500 rows", || rows(dir, second.pid()).len() >= 500);
    second.0.kill().expect("SIGKILL the worker");
    second.0.wait().unwrap();
    let killed = rows(dir, second.pid());
    assert_eq!(killed.first(), Some(&stored_at), "the second run resumed at the stored cursor");
    assert!(killed.len() < (ROWS - stored_at) as usize, "the import finished before SIGKILL");

    // The next worker rescues the job once its lease expires and resumes from the last checkpoint
    // the killed run stored, not from the last interruption: the rows the killed run saved after
    // that checkpoint are saved again, no others.
    let mut third = worker(&db, dir);
    assert!(third.wait().success(), "the third worker finished the import");
    let resumed = rows(dir, third.pid());
    let checkpoint = *resumed.first().expect("the third run saved rows");
    assert_eq!(resumed, (checkpoint..ROWS).collect::<Vec<_>>(), "resumed at a stored cursor, in order");
    assert!(
        checkpoint > stored_at,
        "the killed run's checkpoints were stored: resumed at {checkpoint}, its interruption was at {stored_at}"
    );
    let killed_up_to = stored_at + killed.len() as u64;
    assert!(checkpoint <= killed_up_to, "resumed at {checkpoint}, past the killed run's last row {killed_up_to}");

    let mut saved: BTreeMap<u64, usize> = BTreeMap::new();
    for pid in [first.pid(), second.pid(), third.pid()] {
        for row in rows(dir, pid) {
            *saved.entry(row).or_default() += 1;
        }
    }
    assert_eq!(saved.len() as u64, ROWS, "every row saved");
    let repeated: Vec<u64> = saved.iter().filter(|(_, n)| **n > 1).map(|(row, _)| *row).collect();
    let since_checkpoint: Vec<u64> = killed.iter().copied().filter(|row| *row >= checkpoint).collect();
    assert_eq!(repeated, since_checkpoint, "only the rows since the last stored checkpoint were saved twice");
    assert_eq!(lines(dir, "steps", first.pid()), ["prepare", "rows"]);
    assert_eq!(lines(dir, "steps", second.pid()), ["rows"], "a completed step never runs again");
    assert_eq!(lines(dir, "steps", third.pid()), ["rows", "finish"]);
}
