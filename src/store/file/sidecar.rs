//! The sidecar `<name>.meta.json` of an entry, and the recipients the entry was encrypted to,
//! recorded in it (`recipients`: the public
//! keys, never a secret), so that a rewrite can say which of them it drops. An age file itself
//! does not name its X25519 recipients, so without this record nobody could tell that a write
//! on a CI runner (which knows only its own key and the settings) locked the developer out.
//! Every rewrite (store, rotate, annotate, rebind of a bound entry, rekey) encrypts to the
//! current recipients and names each recorded one it no longer includes (docs/stores.md).

use serde::{Deserialize, Serialize};

use super::{FileStore, read_store_file, sha256_hex};
use crate::entry::EntryMeta;
use crate::fsutil;
use crate::identity::Recipient;
use crate::ui;

/// What a sidecar holds: the metadata of the entry in the age file whose bytes hash to
/// `age_sha256`.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Sidecar {
    pub(super) v: u32,
    pub(super) age_sha256: String,
    pub(super) meta: EntryMeta,
    /// The public keys the age file was encrypted to (docs/stores.md).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) recipients: Vec<String>,
}

/// Decodes a sidecar as `list` reads it (`None` unless it is a v1 sidecar). An entry point for
/// the fuzz targets in fuzz/, not an API.
#[doc(hidden)]
pub fn decode_sidecar(json: &[u8]) -> Option<(String, EntryMeta)> {
    let s = serde_json::from_slice::<Sidecar>(json).ok().filter(|s| s.v == 1)?;
    Some((s.age_sha256, s.meta))
}

impl FileStore {
    /// The recipients recorded for the current age file of `profile`: empty when there is no
    /// file, no sidecar, a sidecar of another file (its hash differs) or one without the record.
    pub(super) fn recorded_recipients(&self, profile: &str) -> Vec<String> {
        let Ok(Some(age)) = read_store_file(&self.age_path(profile)) else { return Vec::new() };
        let Ok(Some(json)) = fsutil::read(&self.meta_path(profile), fsutil::FileKind::Sidecar)
        else {
            return Vec::new();
        };
        let parsed = crate::error::shield_or(
            || serde_json::from_slice::<Sidecar>(&json).map_err(drop),
            || (),
        );
        match parsed {
            Ok(s) if s.v == 1 && s.age_sha256 == sha256_hex(&age) && s.meta.profile == profile => {
                s.recipients
            }
            _ => Vec::new(),
        }
    }

    /// Says which recipients the entry of `profile` had that a rewrite to `now` drops: a
    /// warning, or a note for `rekey`, whose purpose that is.
    pub(super) fn tell_dropped(&self, profile: &str, now: &[Recipient], rekey: bool) {
        let now: Vec<String> = now.iter().map(Recipient::to_string).collect();
        let dropped: Vec<String> =
            self.recorded_recipients(profile).into_iter().filter(|r| !now.contains(r)).collect();
        if dropped.is_empty() {
            return;
        }
        let path = self.age_path(profile);
        let list = dropped.join(", ");
        if rekey {
            ui::note(format!(
                "{} is no longer encrypted to {list} (not among the recipients now)",
                path.display()
            ));
        } else {
            ui::warn(format!(
                "{} is no longer encrypted to {list}, which it was: the recipients here are this machine's identities and `recipients` in {}. Add the missing ones there and run `influxctl-cred rekey`, or they cannot read this entry",
                path.display(),
                self.settings_path.display()
            ));
        }
    }
}
