//! Versioned check-and-set access to a store's raw entries, for the rotation claim of the
//! `vault` store (docs/spec.md §12, [`crate::lifecycle::claim`]): a rotator reads the entry with its
//! version, writes the same entry plus a `rotating` marker with `cas` = that version, and later
//! the new entry with `cas` = the claim's version. A store that is shared between machines
//! offers it ([`super::Store::versioned`]); the local stores do not need it (the store lock
//! already makes their rotation single-flight).

use crate::entry::EntryMeta;
use crate::error::Result;
use crate::secret::SecretBytes;

/// Check-and-set reads and writes of one entry's stored JSON object.
pub trait Versioned {
    /// The entry's JSON object as stored (zeroized bytes) and its current version; `None`
    /// when there is none (never written, or its latest version deleted).
    fn read_versioned(&self, profile: &str) -> Result<Option<(SecretBytes, u64)>>;

    /// Writes `data` (a JSON object) only if the current version is `cas` (0: only if there is
    /// none); when `meta` is `Some`, the token-less metadata too, as `Store::set` does. Answers
    /// the new version. A lost race (the version moved) is an error of kind `locked`, never an
    /// overwrite.
    fn write_cas(
        &self,
        profile: &str,
        data: &[u8],
        cas: u64,
        meta: Option<&EntryMeta>,
    ) -> Result<u64>;
}
