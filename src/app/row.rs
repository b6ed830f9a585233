//! A `list` row as JSON (`list --format json`, the helper's `list`): the entry's metadata
//! flattened, in the order of [`EntryMeta`], then `expiry` and `active`. A time the store does
//! not know is `null`, never a made-up one ([`ListRow::created_unknown`]).

use jiff::Timestamp;
use serde::ser::{Serialize, SerializeMap, Serializer};

use super::ListRow;
use crate::settings::StoreKind;

impl ListRow {
    /// Whether nothing records when the token or its expiry were made: an env entry
    /// (`$INFLUXCTL_CRED_TOKEN*`). Its `expires_at` is then null and `expiry` "unknown" too.
    pub fn times_unknown(&self) -> bool {
        self.store == StoreKind::Env
    }

    /// Whether the expiry is unknown: an env entry, or a row whose metadata could not be read
    /// (a file-store entry no identity opens, a vault secret written by hand): such a row
    /// has no expiry only because none could be read, so it shows "unknown", never "never".
    pub fn expiry_unknown(&self) -> bool {
        self.times_unknown()
            || (self.meta.origin == crate::entry::Origin::Unknown && self.meta.expires_at.is_none())
    }

    /// Whether the creation time is unknown: an env entry, or a row whose store had none to
    /// give (a secret written by hand into the vault store whose creation time the server did
    /// not say). Stores keep such a time as the Unix epoch; no entry was made in 1970.
    pub fn created_unknown(&self) -> bool {
        self.times_unknown() || self.meta.created_at == Timestamp::UNIX_EPOCH
    }
}

impl Serialize for ListRow {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let m = &self.meta;
        let times = !self.times_unknown();
        let mut map = s.serialize_map(Some(10))?;
        map.serialize_entry("store", &self.store)?;
        map.serialize_entry("profile", &m.profile)?;
        map.serialize_entry("token_id", &m.token_id)?;
        map.serialize_entry("description", &m.description)?;
        map.serialize_entry("created_at", &(!self.created_unknown()).then_some(m.created_at))?;
        map.serialize_entry("expires_at", &m.expires_at.filter(|_| times))?;
        map.serialize_entry("origin", &m.origin)?;
        map.serialize_entry("cluster", &m.cluster)?;
        let expiry = if self.expiry_unknown() { "unknown" } else { self.expiry.as_str() };
        map.serialize_entry("expiry", expiry)?;
        map.serialize_entry("active", &self.active)?;
        map.end()
    }
}
