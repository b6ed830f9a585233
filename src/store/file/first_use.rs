//! The first-use binding of a file-store entry, kept on this machine (docs/stores.md, "First
//! use"). An age file may be committed and shared (a CI runner reads what a developer stored):
//! rewriting it to record a binding would re-encrypt it to this machine's recipients only,
//! lock the others out and show the file as modified in git. So an entry stored without a
//! binding (or with the legacy one, without TLS trust) stays as it is, and the binding it gets
//! on first use, or from `rebind`, is recorded in `<data dir>/first-use/<name>.json`, beside the
//! store folder, as ssh's `known_hosts` records a host key: plaintext (no token), 0600 in a 0700
//! folder, read under strict modes. [`Store::get`] of the file store answers the entry with it
//! applied, so every reader checks the same binding; it applies while the stored entry still
//! has the binding it was made for (`was`), and `erase` removes it.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::FileStore;
use crate::entry::{Cluster, Entry};
use crate::error::{Error, Result};
use crate::fsutil::{self, FileKind};

/// One record: profile `profile`, stored with binding `was`, is bound to `cluster` here.
#[derive(Debug, Serialize, Deserialize)]
struct Record {
    v: u32,
    profile: String,
    was: Cluster,
    cluster: Cluster,
    bound_at: String,
}

/// The record of `profile` for the store folder `store_dir`: in `first-use/` beside it.
pub fn first_use_path(store_dir: &Path, profile: &str) -> PathBuf {
    store_dir
        .with_file_name("first-use")
        .join(format!("{}.json", crate::store::encode_profile(profile)))
}

/// Whether `cluster` is not a binding of the entry's own (none, or the legacy shape).
fn not_own(cluster: &Cluster) -> bool {
    cluster.is_empty() || cluster.is_legacy()
}

impl FileStore {
    /// `entry` with the binding recorded here on its first use, when the stored entry still
    /// has the binding the record was made for. A record that cannot be trusted or read is an
    /// error naming it (never skipped: it decides where the token may go).
    pub(super) fn with_first_use(&self, mut entry: Entry) -> Result<Entry> {
        if !not_own(&entry.cluster) {
            return Ok(entry);
        }
        let path = first_use_path(&self.dir, &entry.profile);
        let Some(bytes) = fsutil::read(&path, FileKind::Sidecar)? else { return Ok(entry) };
        let parsed =
            crate::error::shield(&path, || Ok(serde_json::from_slice::<Record>(&bytes).ok()))?;
        let record = parsed.filter(|r| r.v == 1 && r.profile == entry.profile).ok_or_else(|| {
            Error::Corrupt {
                store: "file",
                profile: entry.profile.clone(),
                reason: format!(
                    "its first-use binding record {} cannot be read; remove it to bind the entry again on its next use",
                    path.display()
                ),
            }
        })?;
        if record.was != entry.cluster {
            return Ok(entry);
        }
        // A legacy binding (no TLS trust recorded) is only completed here, never moved: the
        // record must name the same endpoint with no trust set, as the legacy binding matched.
        if entry.cluster.is_legacy()
            && entry.cluster.check(&entry.profile, &record.cluster).is_err()
        {
            return Err(Error::Corrupt {
                store: "file",
                profile: entry.profile.clone(),
                reason: format!(
                    "its first-use binding record {} names another endpoint than the entry's own binding ({}); a record may only complete a binding, never move it: remove the record, and use `influxctl-cred rebind -p {}` to move the binding",
                    path.display(),
                    entry.cluster.describe(),
                    entry.profile
                ),
            });
        }
        entry.cluster = record.cluster;
        Ok(entry)
    }

    /// [`crate::store::Store::bind_beside`] for the file store: records `entry.cluster` here
    /// when the stored entry has no binding of its own, still holds `entry.token` and, as
    /// [`Store::get`](crate::store::Store::get) answers it, the binding `was`.
    pub(super) fn bind_here(&self, entry: &Entry, was: &Cluster) -> Result<bool> {
        let changed = || Error::Other("the entry changed meanwhile".into());
        let stored = self.get_stored(&entry.profile)?.ok_or_else(changed)?;
        if !not_own(&stored.cluster) {
            return Ok(false);
        }
        // A legacy binding is completed here (same endpoint, trust added), never moved: a move
        // (`rebind` to another endpoint) rewrites the entry itself.
        if stored.cluster.is_legacy()
            && stored.cluster.check(&entry.profile, &entry.cluster).is_err()
        {
            return Ok(false);
        }
        let stored_binding = stored.cluster.clone();
        let now = self.with_first_use(stored)?;
        if now.token != entry.token || now.cluster != *was {
            return Err(changed());
        }
        let record = Record {
            v: 1,
            profile: entry.profile.clone(),
            was: stored_binding,
            cluster: entry.cluster.clone(),
            bound_at: jiff::Timestamp::now().to_string(),
        };
        let mut json = serde_json::to_vec_pretty(&record)
            .map_err(|e| Error::Other(format!("cannot encode a binding record: {e}")))?;
        json.push(b'\n');
        let path = first_use_path(&self.dir, &entry.profile);
        fsutil::write_atomic(&path, &json)?;
        if let Some(dir) = path.parent() {
            fsutil::sweep_temp_files(dir);
        }
        Ok(true)
    }

    /// Removes the record of `profile` (its entry was erased).
    pub(super) fn forget_first_use(&self, profile: &str) -> Result<()> {
        fsutil::remove(&first_use_path(&self.dir, profile)).map(drop)
    }
}
