//! The test side: a worker process that dies with the test, and waiting on a condition.

use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

/// A child process, killed (SIGKILL) and reaped when dropped, so that a failing test leaves no
/// worker behind.
pub struct Process(Child);

impl Process {
    /// Starts `command`.
    ///
    /// # Panics
    /// When it cannot be started.
    pub fn spawn(command: &mut Command) -> Process {
        Process(command.spawn().expect("start a worker process"))
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.0.id()
    }

    /// Kills it with SIGKILL and reaps it.
    ///
    /// # Panics
    /// When it cannot be signalled.
    pub fn kill(&mut self) {
        self.0.kill().expect("SIGKILL the process");
        self.0.wait().expect("reap the process");
    }

    /// Sends it SIGTERM.
    ///
    /// # Panics
    /// When `kill -TERM` fails.
    pub fn terminate(&self) {
        let status = Command::new("kill").args(["-TERM", &self.pid().to_string()]).status().expect("run kill");
        assert!(status.success(), "kill -TERM {} failed: {status}", self.pid());
    }

    /// Waits for it to exit, at most `timeout`.
    ///
    /// # Panics
    /// When it is still running after `timeout`.
    pub fn wait(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.0.try_wait().expect("poll the process") {
                return status;
            }
            assert!(Instant::now() < deadline, "process {} did not exit within {timeout:?}", self.pid());
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

/// Polls `condition` every `every` until it holds.
///
/// # Panics
/// When it still does not hold after `timeout`, naming `what` was awaited.
pub fn wait_until(what: &str, timeout: Duration, every: Duration, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out after {timeout:?} waiting for {what}");
        std::thread::sleep(every);
    }
}
