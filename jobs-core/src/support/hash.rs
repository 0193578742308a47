//! A hasher for keys that are the program's own words (sequential ids, addresses): they only
//! need spreading, so one multiplication per word does, where SipHash, the default, guards a map
//! against keys chosen to collide.

use std::hash::{BuildHasherDefault, Hasher};

/// Builds [`WordHasher`]s: the `S` of a `HashMap` keyed by the program's own words.
pub(crate) type Words = BuildHasherDefault<WordHasher>;

/// Fibonacci hashing of each word written.
#[derive(Debug, Default)]
pub(crate) struct WordHasher(u64);

impl Hasher for WordHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.write_u64(u64::from(*byte));
        }
    }

    fn write_usize(&mut self, word: usize) {
        self.write_u64(word as u64);
    }

    fn write_u64(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}
