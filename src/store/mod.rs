//! The stores (docs/spec.md §3) behind one small trait, and the names users give them.
//!
//! Contract of every [`Store`]:
//! - construction is free: no D-Bus connection, no decryption, no identity is loaded until a
//!   verb needs it (so `get` on one store never pays for another);
//! - "absent" is a value: `get` answers `Ok(None)`, `erase` answers `Ok(false)`;
//! - a store that cannot be used now (no D-Bus, locked keyring, no identity, not built for this
//!   OS) answers `Error::StoreUnavailable` (kind `store-unavailable`), quickly. The driver skips
//!   a bare `StoreUnavailable` from a store that is not the profile's own on its way to
//!   "not found", so a failure about an entry that *exists* (too open, no identity to open it)
//!   is wrapped with context (`Error::context`) to keep its kind and still be reported;
//! - writes are atomic; the caller holds the store lock around them ([`crate::lock`]).

pub mod env;
pub mod file;
pub mod keyring;
pub mod memory;
pub mod vault;
pub mod versioned;

use crate::check::{Check, Status};
use crate::entry::{Entry, EntryMeta};
use crate::error::{Error, Result};
use crate::settings::StoreKind;

/// One place where entries live.
pub trait Store {
    /// Which store this is.
    fn kind(&self) -> StoreKind;

    /// `Ok(())` when the store can be used now; otherwise `StoreUnavailable` saying why. Bounded
    /// in time (the keyring probe has a timeout).
    fn probe(&self) -> Result<()>;

    /// The entry of `profile`, or `Ok(None)`.
    fn get(&self, profile: &str) -> Result<Option<Entry>>;

    /// Writes `entry` (keyed by `entry.profile`); answers whether an entry was replaced.
    fn set(&self, entry: &Entry) -> Result<bool>;

    /// Removes the entry of `profile`; answers whether there was one.
    fn erase(&self, profile: &str) -> Result<bool>;

    /// The metadata of every entry, without decrypting when the store keeps an index.
    fn list(&self) -> Result<Vec<EntryMeta>>;

    /// Whether this store may hold an entry of `profile`, answered without reaching the store
    /// itself (the file store looks for the file, the keyring at its index), so it also answers
    /// while the store is locked. Used to avoid a second, stale copy in another store and to
    /// tell "cannot reach it" from "nothing there".
    fn may_hold(&self, _profile: &str) -> bool {
        false
    }

    /// Whether this store's verbs go over the network (the vault store). Checks that only
    /// refine an answer another store already gave (the env store's ambiguity check) skip such
    /// a store, so an unreachable server never delays them.
    fn remote(&self) -> bool {
        false
    }

    /// Asks the store to keep what it read for the rest of a long session (the helper), as long
    /// as the files it came from are unchanged. One-shot commands never call it.
    fn keep_for_session(&self) {}

    /// Records `entry.cluster` as the binding of the stored entry of `entry.profile` without
    /// rewriting the entry, when this store keeps such bindings beside its entries (the file
    /// store, whose files may be shared: docs/stores.md, "First use"). The stored entry must
    /// still hold `entry.token` and, as [`Store::get`] answers it, the binding `was`.
    /// `Ok(false)`: not kept beside, the caller rewrites the entry.
    fn bind_beside(&self, _entry: &Entry, _was: &crate::entry::Cluster) -> Result<bool> {
        Ok(false)
    }

    /// The profile names this store holds, as cheaply as it can (no decryption).
    fn names(&self) -> Result<Vec<String>> {
        Ok(self.list()?.into_iter().map(|m| m.profile).collect())
    }

    /// Check-and-set access to the raw entries, for a store shared between machines (the
    /// rotation claim, [`versioned::Versioned`]); `None` for the others.
    fn versioned(&self) -> Option<&dyn versioned::Versioned> {
        None
    }
}

/// The longest file-name stem ([`encode_profile`]) a profile may have, so that its longest file
/// name (`<stem>.meta.json`) fits the 255 bytes of common file systems.
pub const MAX_FILE_STEM: usize = 240;

/// Whether the files of `profile` can have names on disk (see [`MAX_FILE_STEM`]).
pub fn file_stem_fits(profile: &str) -> bool {
    encode_profile(profile).len() <= MAX_FILE_STEM
}

/// Refuses, before anything is written in any store, a profile whose file names would be too
/// long: a name that one store can hold and another cannot would be stored, then fail, and
/// could never be erased cleanly.
pub fn check_writable_name(profile: &str) -> Result<()> {
    validate_profile(profile)?;
    if !file_stem_fits(profile) {
        return Err(Error::InvalidRequest(format!(
            "the profile name is too long to store: it needs a {}-byte file name, at most {MAX_FILE_STEM} fit (each character outside A-Z, a-z, 0-9, `_`, `-`, `.` takes 3 bytes per UTF-8 byte)",
            encode_profile(profile).len()
        )));
    }
    Ok(())
}

/// Error for a write to a read-only store.
pub fn read_only(kind: StoreKind) -> Error {
    Error::OperationNotSupported(format!("writing to the {kind} store (it is read-only)"))
}

/// Profile names become file names: `[A-Za-z0-9_-]` and inner dots stay, every other byte is
/// `%XX`, so any influxctl profile name maps to exactly one safe file name and back.
pub fn encode_profile(profile: &str) -> String {
    let mut out = String::with_capacity(profile.len());
    for (i, b) in profile.bytes().enumerate() {
        let keep = b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || (b == b'.' && i > 0);
        if keep {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The inverse of [`encode_profile`]; `None` for names we did not write.
pub fn decode_profile(name: &str) -> Option<String> {
    let bytes = name.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = name.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    let decoded = String::from_utf8(out).ok()?;
    (encode_profile(&decoded) == name).then_some(decoded)
}

/// Checks a profile name given by a user or a protocol peer.
pub fn validate_profile(profile: &str) -> Result<()> {
    if profile.is_empty() || profile.len() > 256 || profile.chars().any(char::is_control) {
        return Err(Error::InvalidRequest(
            "a profile name must be 1 to 256 characters without control characters".into(),
        ));
    }
    if crate::error::redact(profile) != profile {
        return Err(Error::InvalidRequest(
            "the profile name looks like a management token (M.V1.…); give the profile's name with -p, and the token on stdin".into(),
        ));
    }
    Ok(())
}

/// The `doctor` line of one store: usable, or why not (with the way out).
pub fn probe_check(kind: StoreKind, store: &dyn Store) -> Check {
    match store.probe() {
        Ok(()) => Check::new(format!("store {kind}"), Status::Ok, "usable"),
        // An empty env store is the normal case off CI: not in use, nothing wrong.
        Err(_) if kind == StoreKind::Env => Check::new(
            "store env",
            Status::Ok,
            "not in use (neither INFLUXCTL_CRED_TOKEN nor INFLUXCTL_CRED_TOKEN_<PROFILE> is set)",
        ),
        Err(e) => {
            let detail = match e.hint() {
                Some(h) => format!("{e} ({h})"),
                None => e.to_string(),
            };
            Check::new(format!("store {kind}"), Status::Warn, detail)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_names_round_trip_through_file_names() {
        for p in ["default", "prod-eu.1", "with space", ".hidden", "a/b", "ü", "..", "%41"] {
            let enc = encode_profile(p);
            assert!(!enc.contains('/') && !enc.starts_with('.') && !enc.contains(' '), "{enc}");
            assert_eq!(decode_profile(&enc).as_deref(), Some(p));
        }
        assert_eq!(decode_profile("%4"), None);
        assert_eq!(decode_profile("%41"), None, "not canonical: we would have written A");
    }

    #[test]
    fn long_names_are_refused_for_writes_only() {
        let fits = "a".repeat(MAX_FILE_STEM);
        assert!(check_writable_name(&fits).is_ok());
        let long = "a".repeat(MAX_FILE_STEM + 1);
        assert!(validate_profile(&long).is_ok());
        assert_eq!(check_writable_name(&long).unwrap_err().exit_code(), 2);
        // 41 two-byte characters: 82 bytes, 246 once encoded.
        assert_eq!(check_writable_name(&"ü".repeat(41)).unwrap_err().exit_code(), 2);
    }

    #[test]
    fn store_names_parse() {
        assert_eq!("file".parse::<StoreKind>().unwrap(), StoreKind::File);
        assert_eq!("memory".parse::<StoreKind>().unwrap_err().exit_code(), 2);
    }
}
