//! The first-use binding of a file-store entry, kept on this machine (docs/stores.md, "First
//! use"). An age file may be committed and shared (a CI runner reads what a developer stored):
//! rewriting it to record a binding would re-encrypt it to this machine's recipients only,
//! lock the others out and show the file as modified in git. So an entry stored without a
//! binding (or with the legacy one, without TLS trust) stays as it is, and the binding it gets
//! on first use, or from `rebind`, is recorded in `<data dir>/first-use/<name>.json`, outside
//! the store folder, as ssh's `known_hosts` records a host key: a plaintext file (no token),
//! 0600 in a 0700 folder, read under strict modes. It applies while the stored entry still
//! has the binding it was made for (`was`); `erase` removes it.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::Vault;
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

impl Vault {
    /// The folder of the records: beside the store folder, never inside it.
    pub fn first_use_dir(&self) -> PathBuf {
        self.paths.store_dir().with_file_name("first-use")
    }

    /// The record of `profile`.
    pub fn first_use_path(&self, profile: &str) -> PathBuf {
        self.first_use_dir().join(format!("{}.json", crate::store::encode_profile(profile)))
    }

    /// Gives a file-store `entry` the binding recorded here on its first use, when the entry
    /// still has the binding the record was made for. A record that cannot be trusted or read
    /// is an error naming it (never ignored: it decides where the token may go).
    pub(super) fn apply_first_use(&self, entry: &mut Entry) -> Result<()> {
        if !(entry.cluster.is_empty() || entry.cluster.is_legacy())
            || !crate::store::file_stem_fits(&entry.profile)
        {
            return Ok(());
        }
        let path = self.first_use_path(&entry.profile);
        let Some(bytes) = fsutil::read(&path, FileKind::Sidecar)? else { return Ok(()) };
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
        if record.was == entry.cluster {
            crate::ui::verbose(format!(
                "profile {:?}: binding recorded on this machine in {}",
                entry.profile,
                path.display()
            ));
            entry.cluster = record.cluster;
        }
        Ok(())
    }

    /// Records that the file-store entry of `profile`, stored with binding `was`, is bound to
    /// `cluster` on this machine.
    pub(super) fn record_first_use(
        &self,
        profile: &str,
        was: &Cluster,
        cluster: &Cluster,
    ) -> Result<()> {
        let record = Record {
            v: 1,
            profile: profile.to_owned(),
            was: was.clone(),
            cluster: cluster.clone(),
            bound_at: jiff::Timestamp::now().to_string(),
        };
        let mut json = serde_json::to_vec_pretty(&record)
            .map_err(|e| Error::Other(format!("cannot encode a binding record: {e}")))?;
        json.push(b'\n');
        fsutil::write_atomic(&self.first_use_path(profile), &json)?;
        fsutil::sweep_temp_files(&self.first_use_dir());
        Ok(())
    }

    /// Removes the record of `profile` (its entry was erased from the file store).
    pub(super) fn forget_first_use(&self, profile: &str) -> Result<()> {
        if crate::store::file_stem_fits(profile) {
            fsutil::remove(&self.first_use_path(profile))?;
        }
        Ok(())
    }
}
