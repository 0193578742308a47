//! The memory adapter's registry of worker processes, and the commands left for them.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::contract::{ProcessCommand, ProcessInfo};

/// The processes that beat, by id, each alive until its time to live runs out.
#[derive(Debug, Default)]
pub(super) struct Processes {
    live: BTreeMap<String, Registered>,
}

#[derive(Debug)]
struct Registered {
    info: ProcessInfo,
    expires_at: DateTime<Utc>,
    command: Option<ProcessCommand>,
}

impl Processes {
    /// Registers or refreshes `info` at `now`, alive for `ttl`; takes the command left for it.
    pub(super) fn beat(&mut self, info: &ProcessInfo, ttl: Duration, now: DateTime<Utc>) -> Option<ProcessCommand> {
        self.forget_expired(now);
        let info = ProcessInfo { last_heartbeat: now, ..info.clone() };
        let expires_at = super::after(now, ttl);
        match self.live.get_mut(&info.id) {
            Some(registered) => {
                registered.info = info;
                registered.expires_at = expires_at;
                registered.command.take()
            }
            None => {
                self.live.insert(info.id.clone(), Registered { info, expires_at, command: None });
                None
            }
        }
    }

    /// The processes alive at `now`, by id.
    pub(super) fn list(&mut self, now: DateTime<Utc>) -> Vec<ProcessInfo> {
        self.forget_expired(now);
        self.live.values().map(|registered| registered.info.clone()).collect()
    }

    /// Leaves `command` for the process `id`, if it is alive at `now`.
    pub(super) fn signal(&mut self, id: &str, command: ProcessCommand, now: DateTime<Utc>) -> bool {
        self.forget_expired(now);
        match self.live.get_mut(id) {
            Some(registered) => {
                registered.command = Some(command);
                true
            }
            None => false,
        }
    }

    /// Forgets the process `id`.
    pub(super) fn remove(&mut self, id: &str) {
        self.live.remove(id);
    }

    fn forget_expired(&mut self, now: DateTime<Utc>) {
        self.live.retain(|_, registered| registered.expires_at > now);
    }
}
