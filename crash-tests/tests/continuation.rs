//! A continuable job on SQLite: a SIGTERM interrupts it at a checkpoint and stores its cursor; a
//! SIGKILL mid-step loses only the work since the last stored progress, which the next worker
//! repeats. Progress reaches the store when the job is interrupted (enqueued again with its
//! cursor), not at every checkpoint, as in Rails: after a kill the job resumes from the last
//! interruption, and the rows saved since then are saved again.

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

    // SIGKILL mid-step: nothing of this run's progress reaches the store.
    let mut second = worker(&db, dir);
    wait_until("the second worker to save 500 rows", || rows(dir, second.pid()).len() >= 500);
    second.0.kill().expect("SIGKILL the worker");
    second.0.wait().unwrap();
    let killed = rows(dir, second.pid());
    assert_eq!(killed.first(), Some(&stored_at), "the second run resumed at the stored cursor");
    assert!(killed.len() < (ROWS - stored_at) as usize, "the import finished before SIGKILL");

    // The next worker rescues the job once its lease expires and resumes from the stored cursor:
    // the rows the killed run saved are saved again, no others.
    let mut third = worker(&db, dir);
    assert!(third.wait().success(), "the third worker finished the import");
    assert_eq!(rows(dir, third.pid()), (stored_at..ROWS).collect::<Vec<_>>(), "resumed at the stored cursor");

    let mut saved: BTreeMap<u64, usize> = BTreeMap::new();
    for pid in [first.pid(), second.pid(), third.pid()] {
        for row in rows(dir, pid) {
            *saved.entry(row).or_default() += 1;
        }
    }
    assert_eq!(saved.len() as u64, ROWS, "every row saved");
    let repeated: Vec<u64> = saved.iter().filter(|(_, n)| **n > 1).map(|(row, _)| *row).collect();
    assert_eq!(repeated, killed, "only the killed run's rows were saved twice");
    assert_eq!(lines(dir, "steps", first.pid()), ["prepare", "rows"]);
    assert_eq!(lines(dir, "steps", second.pid()), ["rows"], "a completed step never runs again");
    assert_eq!(lines(dir, "steps", third.pid()), ["rows", "finish"]);
}
