//! What `list` shows for an entry of the file store whose metadata cannot be read now.

use std::path::Path;

use crate::entry::{EntryMeta, Origin};
use crate::error::Error;

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
