//! The token-less metadata of an entry in the secret's `custom_metadata`: one key per field
//! (`profile`, `token_id`, `description`, `created_at`, `expires_at`, `origin`, `cluster` as
//! JSON) and `influxctl-cred` = the format, values over the servers' 512 bytes split over
//! `key`, `key~2`, …. What `list` reads, never a token.

use std::collections::BTreeMap;

use super::Metadata;
use crate::entry::{EntryMeta, Origin};

/// Longest value of one `custom_metadata` key (the servers' limit); longer fields are split
/// over `key`, `key~2`, `key~3`, ….
const MAX_META_VALUE: usize = 512;

/// The format of our `custom_metadata`, in its key `influxctl-cred`.
const META_FORMAT: &str = "1";

/// The `custom_metadata` of an entry: one key per field of its metadata (never the token),
/// `cluster` as JSON, plus `influxctl-cred` = the format. Long values are split.
pub fn to_custom(meta: &EntryMeta) -> BTreeMap<String, String> {
    let mut fields: Vec<(&str, Option<String>)> = vec![
        ("influxctl-cred", Some(META_FORMAT.to_owned())),
        ("profile", Some(meta.profile.clone())),
        ("token_id", meta.token_id.clone()),
        ("description", meta.description.clone()),
        ("created_at", Some(meta.created_at.to_string())),
        ("expires_at", meta.expires_at.map(|t| t.to_string())),
    ];
    let origin = serde_json::to_value(meta.origin).ok().and_then(|v| v.as_str().map(str::to_owned));
    fields.push(("origin", origin));
    if !meta.cluster.is_empty() {
        fields.push(("cluster", serde_json::to_string(&meta.cluster).ok()));
    }
    let mut out = BTreeMap::new();
    for (key, value) in fields {
        let Some(value) = value else { continue };
        for (i, chunk) in split(&value).into_iter().enumerate() {
            let k = if i == 0 { key.to_owned() } else { format!("{key}~{}", i + 1) };
            out.insert(k, chunk);
        }
    }
    out
}

/// The metadata back from `custom_metadata`; `None` when it is not ours (written by another
/// tool, or a format we do not know).
pub fn from_custom(custom: &BTreeMap<String, String>) -> Option<EntryMeta> {
    if custom.get("influxctl-cred").map(String::as_str) != Some(META_FORMAT) {
        return None;
    }
    let field = |key: &str| -> Option<String> {
        let mut value = custom.get(key)?.clone();
        for i in 2.. {
            match custom.get(&format!("{key}~{i}")) {
                Some(more) => value.push_str(more),
                None => break,
            }
        }
        Some(value)
    };
    let mut obj = serde_json::Map::new();
    for key in ["profile", "token_id", "description", "created_at", "expires_at", "origin"] {
        obj.insert(key.to_owned(), field(key).map_or(serde_json::Value::Null, Into::into));
    }
    if let Some(c) = field("cluster") {
        obj.insert("cluster".to_owned(), serde_json::from_str(&c).ok()?);
    }
    serde_json::from_value(serde_json::Value::Object(obj)).ok()
}

/// `value` in pieces of at most [`MAX_META_VALUE`] bytes, cut between characters.
fn split(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for c in value.chars() {
        if cur.len() + c.len_utf8() > MAX_META_VALUE {
            out.push(std::mem::take(&mut cur));
        }
        cur.push(c);
    }
    out.push(cur);
    out
}

/// The body of `POST <mount>/metadata/…`.
pub fn metadata_body(meta: &EntryMeta) -> Vec<u8> {
    // A map of strings always serializes.
    serde_json::to_vec(&serde_json::json!({ "custom_metadata": to_custom(meta) }))
        .unwrap_or_else(|_| b"{}".to_vec())
}

/// The `list` row of a secret under our prefix whose `custom_metadata` is not ours (written by
/// hand with `bao kv put`, say): listed, with what is known.
pub fn unlisted(profile: &str, m: &Metadata) -> EntryMeta {
    EntryMeta {
        profile: profile.to_owned(),
        token_id: None,
        description: Some("(no influxctl-cred metadata; `get` reads it)".into()),
        created_at: m.created_time.parse().unwrap_or(jiff::Timestamp::UNIX_EPOCH),
        expires_at: None,
        origin: Origin::Unknown,
        cluster: Default::default(),
    }
}
