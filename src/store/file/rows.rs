//! What `list` shows for an entry of the file store: its sidecar's metadata while the hash
//! matches, else the decrypted entry's, else a row that says why it cannot be read now.

use std::path::Path;

use super::{FileStore, Sidecar, read_store_file, sha256_hex};
use crate::fsutil;
use crate::identity::Identities;
use crate::ui;

use crate::entry::{EntryMeta, Origin};
use crate::error::{Error, Result};

impl FileStore {
    /// The metadata of one entry: from its sidecar when the hash matches, else by decrypting
    /// (never prompting), else a row that says why it is unavailable.
    pub(super) fn meta_of(
        &self,
        ids: &mut Option<Result<Identities>>,
        profile: &str,
        path: &Path,
    ) -> EntryMeta {
        let bytes = match read_store_file(path) {
            Ok(Some(b)) => b,
            Ok(None) => {
                return unavailable_meta(
                    profile,
                    path,
                    &Error::NotFound { profile: profile.to_owned() },
                );
            }
            Err(e) => return unavailable_meta(profile, path, &e),
        };
        let hash = sha256_hex(&bytes);
        if let Ok(Some(json)) = fsutil::read(&self.meta_path(profile), fsutil::FileKind::Sidecar)
            && let Ok(s) = crate::error::shield_or(
                || serde_json::from_slice::<Sidecar>(&json).map_err(drop),
                || (),
            )
            && s.v == 1
            && s.age_sha256 == hash
            && s.meta.profile == profile
        {
            return s.meta;
        }
        ui::verbose(format!("no current sidecar for {}; decrypting it", path.display()));
        let ids = ids.get_or_insert_with(|| self.need_identities(false));
        let opened = match ids {
            Ok(ids) => self.open(ids, profile, path, &bytes),
            Err(e) => Err(Error::Other(e.to_string())),
        };
        match opened {
            Ok(entry) => entry.meta(),
            Err(e) => unavailable_meta(profile, path, &e),
        }
    }
}

/// A `list` row for an entry whose metadata cannot be read now.
pub(super) fn unavailable_meta(profile: &str, path: &Path, err: &Error) -> EntryMeta {
    let created = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| jiff::Timestamp::try_from(t).ok())
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    EntryMeta {
        profile: profile.to_owned(),
        token_id: None,
        description: Some(format!("(metadata unavailable: {})", short_reason(err))),
        created_at: created,
        expires_at: None,
        origin: Origin::Unknown,
        cluster: Default::default(),
    }
}

/// Why an entry cannot be read, short enough for a `list` column (`doctor` gives the details).
fn short_reason(err: &Error) -> String {
    match err {
        Error::TooOpen { .. } => "the file is too open; run `influxctl-cred doctor`".to_owned(),
        Error::Corrupt { .. } => "the file is damaged".to_owned(),
        Error::Decrypt { .. } => "no identity can open it".to_owned(),
        Error::InteractionRequired { .. } => "its identity needs a passphrase".to_owned(),
        Error::StoreUnavailable { reason, .. } => reason.clone(),
        e => e.to_string(),
    }
}
