//! A hasher for keys that are the program's own (sequential ids, addresses, the names of its job
//! classes): they only need spreading, so one multiplication per word does, where SipHash, the
//! default, guards a map against keys chosen to collide.

use std::hash::{BuildHasherDefault, Hasher};

/// Builds [`WordHasher`]s: the `S` of a `HashMap` keyed by the program's own words.
pub(crate) type Words = BuildHasherDefault<WordHasher>;

/// Fibonacci hashing of each word written; bytes are read eight to a word.
#[derive(Debug, Default)]
pub(crate) struct WordHasher(u64);

impl Hasher for WordHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for word in words.by_ref() {
            self.write_u64(u64::from_le_bytes(word.try_into().unwrap_or_default()));
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            let mut word = [0; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.write_u64(u64::from_le_bytes(word));
        }
    }

    fn write_usize(&mut self, word: usize) {
        self.write_u64(word as u64);
    }

    fn write_u64(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

#[cfg(test)]
mod tests {
    use std::hash::{BuildHasher, Hash};

    use super::*;

    fn hash(value: impl Fn(&mut WordHasher)) -> u64 {
        let mut hasher = Words::default().build_hasher();
        value(&mut hasher);
        hasher.finish()
    }

    fn distinct(mut hashes: Vec<u64>) -> bool {
        let count = hashes.len();
        hashes.sort_unstable();
        hashes.dedup();
        hashes.len() == count
    }

    #[test]
    fn spreads_names() {
        let names = ["SendWelcomeEmail", "SendWelcomeEmails", "Send", "Sent", "", "a", "b", "ChargeCustomerAccount"];
        assert!(distinct(names.iter().map(|name| hash(|h| name.hash(h))).collect()));
    }

    #[test]
    fn spreads_ids() {
        assert!(distinct((0..10_000_u64).map(|id| hash(|h| h.write_u64(id))).collect()));
    }
}
