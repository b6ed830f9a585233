//! The stores (SPEC §3) behind one small trait, and the names users give them.
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

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::entry::{Entry, EntryMeta};
use crate::error::{Error, Result};

/// The names of the stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreKind {
    Keyring,
    File,
    Env,
    /// In-memory, for tests only; never offered to users.
    Memory,
}

impl StoreKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StoreKind::Keyring => "keyring",
            StoreKind::File => "file",
            StoreKind::Env => "env",
            StoreKind::Memory => "memory",
        }
    }
}

impl fmt::Display for StoreKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for StoreKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "keyring" => Ok(StoreKind::Keyring),
            "file" => Ok(StoreKind::File),
            "env" => Ok(StoreKind::Env),
            _ => Err(Error::InvalidValue {
                what: "store",
                message: format!("{s:?} (choose keyring, file or env)"),
            }),
        }
    }
}

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
    fn store_names_parse() {
        assert_eq!("file".parse::<StoreKind>().unwrap(), StoreKind::File);
        assert_eq!("memory".parse::<StoreKind>().unwrap_err().exit_code(), 2);
    }
}
