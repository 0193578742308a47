//! Schema migrations of durable adapters: the bookkeeping every store shares.
//!
//! A durable adapter owns its schema as a list of [`Migration`]s, oldest first, and records the
//! ones it applied (version and [`checksum`](Migration::checksum)) in its store. At start-up it
//! reads what is recorded and asks [`pending`] what to apply — which also refuses a store
//! migrated by a newer build, or one whose recorded migration differs from the shipped one.

use std::fmt;

/// One schema change, applied once per store; a shipped migration is never edited, only
/// followed by new ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Migration {
    /// Its version: 1, 2, 3, ... in the order they apply.
    pub version: i64,
    /// What it does, in a few words.
    pub description: &'static str,
    /// The SQL (or script) that applies it, as shipped.
    pub sql: &'static str,
}

impl Migration {
    /// FNV-1a of the shipped SQL, as 16 hex digits: recorded with the version, so that a store
    /// migrated by a different build is noticed.
    ///
    /// ```
    /// # use jobs_core::adapter::migrations::Migration;
    /// let m = Migration { version: 1, description: "jobs", sql: "CREATE TABLE jobs (id INTEGER)" };
    /// assert_eq!(m.checksum().len(), 16);
    /// assert_ne!(m.checksum(), Migration { sql: "CREATE TABLE jobs (id BIGINT)", ..m }.checksum());
    /// ```
    pub fn checksum(&self) -> String {
        let hash =
            self.sql.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
        format!("{hash:016x}")
    }
}

/// Why a store's recorded migrations do not fit the shipped ones.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Mismatch {
    /// The store was migrated by a newer build, up to version `found`.
    TooNew {
        /// The newest version recorded in the store.
        found: i64,
        /// The newest version shipped.
        supported: i64,
    },
    /// The migration recorded under `version` is not the shipped one (or none is shipped).
    Changed {
        /// The migration's version.
        version: i64,
        /// The checksum recorded in the store.
        found: String,
        /// The checksum of the shipped migration, `none` when no migration has that version.
        expected: String,
    },
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mismatch::TooNew { found, supported } => {
                write!(f, "schema version {found} is newer than version {supported}, the newest this build knows")
            }
            Mismatch::Changed { version, found, expected } => write!(
                f,
                "migration {version} differs from the one this build ships (checksum {found}, expected {expected})"
            ),
        }
    }
}

/// The shipped migrations not yet applied, oldest first, given what the store recorded as
/// `(version, checksum)` pairs; or why the store does not fit.
///
/// ```
/// # use jobs_core::adapter::migrations::{Migration, Mismatch, pending};
/// const SHIPPED: &[Migration] = &[
///     Migration { version: 1, description: "jobs", sql: "CREATE TABLE jobs (id INTEGER)" },
///     Migration { version: 2, description: "index", sql: "CREATE INDEX jobs_id ON jobs (id)" },
/// ];
/// assert_eq!(pending(SHIPPED, &[]).unwrap().len(), 2);
/// let applied = [(1, SHIPPED[0].checksum())];
/// assert_eq!(pending(SHIPPED, &applied).unwrap(), [&SHIPPED[1]]);
/// assert!(matches!(pending(SHIPPED, &[(3, "x".into())]), Err(Mismatch::TooNew { found: 3, .. })));
/// assert!(matches!(pending(SHIPPED, &[(1, "x".into())]), Err(Mismatch::Changed { version: 1, .. })));
/// ```
pub fn pending<'m>(shipped: &'m [Migration], applied: &[(i64, String)]) -> Result<Vec<&'m Migration>, Mismatch> {
    let supported = shipped.iter().map(|m| m.version).max().unwrap_or(0);
    if let Some(found) = applied.iter().map(|(v, _)| *v).max()
        && found > supported
    {
        return Err(Mismatch::TooNew { found, supported });
    }
    for (version, found) in applied {
        let expected = shipped.iter().find(|m| m.version == *version).map(Migration::checksum);
        if expected.as_ref() != Some(found) {
            return Err(Mismatch::Changed {
                version: *version,
                found: found.clone(),
                expected: expected.unwrap_or_else(|| "none".to_owned()),
            });
        }
    }
    Ok(shipped.iter().filter(|m| !applied.iter().any(|(v, _)| *v == m.version)).collect())
}
