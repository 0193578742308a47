//! The claims a worker holds and has not settled: what its heartbeats renew and what a shutdown
//! hands back.
//!
//! Each claimed job gets a place in a slab, found again by its index: no key is cloned or hashed
//! per job, and the lock is held for a few instructions.

use std::sync::{Mutex, MutexGuard};

use crate::contract::Ticket;

/// Where a claimed job sits in [`Running`], until its run ends or it is handed back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Place(usize);

/// The worker's unsettled claims.
#[derive(Debug, Default)]
pub(super) struct Running {
    slab: Mutex<Slab>,
}

#[derive(Debug, Default)]
struct Slab {
    entries: Vec<Option<Ticket>>,
    /// Indexes of `entries` that are `None`, reused first.
    free: Vec<usize>,
    len: usize,
}

impl Running {
    fn slab(&self) -> MutexGuard<'_, Slab> {
        self.slab.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Holds a claim for each ticket, under one lock; returns their places, in order.
    pub(super) fn insert_all<'a>(&self, tickets: impl Iterator<Item = &'a Ticket>) -> Vec<Place> {
        let mut slab = self.slab();
        tickets
            .map(|ticket| {
                slab.len += 1;
                let ticket = Some(ticket.clone());
                match slab.free.pop() {
                    Some(index) => {
                        slab.entries[index] = ticket;
                        Place(index)
                    }
                    None => {
                        slab.entries.push(ticket);
                        Place(slab.entries.len() - 1)
                    }
                }
            })
            .collect()
    }

    /// Lets go of the claim at `place` and returns its ticket; `None` if it was taken already
    /// (handed back at shutdown).
    pub(super) fn remove(&self, place: Place) -> Option<Ticket> {
        let mut slab = self.slab();
        let ticket = slab.entries.get_mut(place.0).and_then(Option::take)?;
        slab.len -= 1;
        slab.free.push(place.0);
        Some(ticket)
    }

    /// The tickets of the claims held now.
    pub(super) fn tickets(&self) -> Vec<Ticket> {
        self.slab().entries.iter().flatten().cloned().collect()
    }

    /// How many claims are held.
    pub(super) fn len(&self) -> usize {
        self.slab().len
    }

    /// Takes every claim held: no later [`remove`](Running::remove) finds them.
    pub(super) fn drain(&self) -> Vec<Ticket> {
        let mut slab = self.slab();
        let tickets: Vec<Ticket> = slab.entries.iter_mut().filter_map(Option::take).collect();
        *slab = Slab::default();
        tickets
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticket(id: &str) -> Ticket {
        Ticket { id: id.to_owned(), token: 1 }
    }

    #[test]
    fn holds_removes_once_and_reuses_places() {
        let running = Running::default();
        let (a, b) = (ticket("a"), ticket("b"));
        let places = running.insert_all([&a, &b].into_iter());
        assert_eq!(running.len(), 2);
        assert_eq!(running.remove(places[0]), Some(a));
        assert_eq!(running.remove(places[0]), None, "a claim is let go of once");
        assert_eq!(running.tickets(), vec![b.clone()]);
        let c = ticket("c");
        let again = running.insert_all(std::iter::once(&c));
        assert_eq!(again, vec![places[0]], "the freed place is reused");
        assert_eq!(running.len(), 2);
    }

    #[test]
    fn a_drain_takes_everything_and_later_removes_find_nothing() {
        let running = Running::default();
        let (a, b) = (ticket("a"), ticket("b"));
        let places = running.insert_all([&a, &b].into_iter());
        let mut drained = running.drain();
        drained.sort_by(|x, y| x.id.cmp(&y.id));
        assert_eq!(drained, vec![a, b]);
        assert_eq!(running.len(), 0);
        assert_eq!(running.remove(places[1]), None, "handed back at shutdown");
    }
}
