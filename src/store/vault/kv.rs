//! The KV v2 side of the vault store, as data: where an entry lives, the wire format of reads,
//! writes and metadata, the token-less `custom_metadata` that `list` reads, and what an answer
//! means ([`refusal`]). Nothing here does I/O.
//!
//! Layout: the entry of profile `P` is the secret `<prefix>/<name>` of the KV v2 mount, where
//! `<name>` is the profile's file-store name ([`crate::store::encode_profile`]: `[A-Za-z0-9_-]`
//! and inner dots stay, every other byte is `%XX`), so no profile can leave the prefix (`..`
//! becomes `%2E.`, `a/b` becomes `a%2Fb`). Its `data` is the entry JSON (docs/spec.md §4); its
//! `custom_metadata` holds the same without the token, one key per field.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::{Error, Result};
use crate::secret::SecretBytes;
use crate::settings::VaultSettings;

mod hand;
mod meta;
pub use hand::entry_from_data;
pub use meta::{from_custom, metadata_body, to_custom, unlisted};

/// Where the entries of one `[vault]` setting live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    mount: String,
    prefix: String,
}

impl Layout {
    pub fn new(s: &VaultSettings) -> Layout {
        Layout { mount: s.mount.clone(), prefix: s.prefix.clone() }
    }

    /// The secret's name under the prefix: [`crate::store::encode_profile`].
    pub fn name(profile: &str) -> String {
        crate::store::encode_profile(profile)
    }

    /// `<mount>/data/<prefix>/<name>` as people and policies write it.
    pub fn data_path(&self, profile: &str) -> String {
        format!("{}/data/{}/{}", self.mount, self.prefix, Layout::name(profile))
    }

    /// `<mount>/<prefix>/<name>`, as the `bao kv` commands name the secret.
    pub fn kv_name(&self, profile: &str) -> String {
        format!("{}/{}/{}", self.mount, self.prefix, Layout::name(profile))
    }

    /// `<mount>/metadata/<prefix>/<name>`.
    pub fn metadata_path(&self, profile: &str) -> String {
        format!("{}/metadata/{}/{}", self.mount, self.prefix, Layout::name(profile))
    }

    /// `<mount>/metadata/<prefix>` (what `list` lists).
    pub fn list_path(&self) -> String {
        format!("{}/metadata/{}", self.mount, self.prefix)
    }

    /// `<mount>/metadata/<prefix>/<key>` for a key `list` returned.
    pub fn metadata_path_of_key(&self, key: &str) -> String {
        format!("{}/metadata/{}/{}", self.mount, self.prefix, key)
    }
}

/// A path as it goes into the URL: the `%` of encoded names escaped (the server decodes it
/// back), everything else is already URL-safe.
pub fn url_path(path: &str) -> String {
    path.replace('%', "%25")
}

/// `GET <mount>/data/…` → `data`.
#[derive(Deserialize)]
pub struct ReadBody<'a> {
    #[serde(borrow)]
    pub data: Option<ReadData<'a>>,
}

#[derive(Deserialize)]
pub struct ReadData<'a> {
    #[serde(borrow)]
    pub data: Option<&'a RawValue>,
    pub metadata: Option<VersionMeta>,
}

/// The metadata of one version.
#[derive(Debug, Deserialize)]
pub struct VersionMeta {
    #[serde(default)]
    pub version: u64,
    #[serde(default)]
    pub deletion_time: String,
    #[serde(default)]
    pub destroyed: bool,
    /// When the version was written (RFC 3339), as the server says.
    #[serde(default)]
    pub created_time: String,
}

impl VersionMeta {
    /// A deleted or destroyed version reads as absent.
    pub fn gone(&self) -> bool {
        self.destroyed || !self.deletion_time.is_empty()
    }
}

/// What a read of the data found.
pub enum Read {
    /// The current version's `data` (zeroized JSON), its number, and when it was written.
    Present(SecretBytes, u64, Option<jiff::Timestamp>),
    /// No live version; `u64` is the current version number (0: none at all, or not said).
    Absent(u64),
}

/// Parses the answer to `GET <mount>/data/…` (status 200 or 404).
pub fn parse_read(status: u16, body: &[u8]) -> Result<Read> {
    let parsed: Option<ReadBody> = serde_json::from_slice(body).ok();
    let data = parsed.and_then(|b| b.data);
    let version = data.as_ref().and_then(|d| d.metadata.as_ref()).map_or(0, |m| m.version);
    if status == 404 {
        return Ok(Read::Absent(version));
    }
    let Some(data) = data else { return Err(malformed("a read answered no `data`")) };
    let gone = data.metadata.as_ref().is_some_and(VersionMeta::gone);
    let created = data.metadata.as_ref().and_then(|m| m.created_time.parse().ok());
    match data.data {
        Some(raw) if !gone && raw.get() != "null" => {
            Ok(Read::Present(SecretBytes::new(raw.get().as_bytes().to_vec()), version, created))
        }
        _ => Ok(Read::Absent(version)),
    }
}

/// The body of `POST <mount>/data/…`: `{"options":{"cas":N},"data":<data>}`. `data` must be
/// a JSON object.
pub fn write_body(data: &[u8], cas: u64) -> Result<SecretBytes> {
    let parsed: std::result::Result<&RawValue, _> = serde_json::from_slice(data);
    if !parsed.is_ok_and(|r| r.get().starts_with('{')) {
        return Err(Error::InvalidRequest(
            "vault store: the data to write is not a JSON object".into(),
        ));
    }
    let head = format!("{{\"options\":{{\"cas\":{cas}}},\"data\":");
    let mut out = SecretBytes::new(Vec::with_capacity(head.len() + data.len() + 1));
    out.extend_from_slice(head.as_bytes());
    out.extend_from_slice(data);
    out.push(b'}');
    Ok(out)
}

#[derive(Deserialize)]
struct WriteBody {
    data: WriteData,
}

#[derive(Deserialize)]
struct WriteData {
    version: u64,
}

/// The new version from the answer to a write.
pub fn parse_written(body: &[u8]) -> Result<u64> {
    serde_json::from_slice::<WriteBody>(body)
        .map(|b| b.data.version)
        .map_err(|_| malformed("a write answered no version"))
}

/// `GET <mount>/metadata/…` → `data`.
#[derive(Debug, Deserialize)]
pub struct Metadata {
    #[serde(default)]
    pub current_version: u64,
    #[serde(default)]
    pub custom_metadata: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub versions: BTreeMap<String, VersionMeta>,
    /// When the secret was first written (RFC 3339).
    #[serde(default)]
    pub created_time: String,
}

impl Metadata {
    /// Whether the current version is live (not deleted, not destroyed).
    pub fn live(&self) -> bool {
        self.current_version > 0
            && self.versions.get(&self.current_version.to_string()).is_none_or(|v| !v.gone())
    }
}

#[derive(Deserialize)]
struct MetadataBody {
    data: Metadata,
}

/// Parses the answer to a metadata read.
pub fn parse_metadata(body: &[u8]) -> Result<Metadata> {
    serde_json::from_slice::<MetadataBody>(body)
        .map(|b| b.data)
        .map_err(|_| malformed("a metadata read answered no `data`"))
}

#[derive(Deserialize)]
struct ListBody {
    data: ListData,
}

#[derive(Deserialize)]
struct ListData {
    #[serde(default)]
    keys: Vec<String>,
}

/// The secret names of a LIST answer (folders, ending in `/`, are left out).
pub fn parse_list(body: &[u8]) -> Result<Vec<String>> {
    let body: ListBody =
        serde_json::from_slice(body).map_err(|_| malformed("a list answered no keys"))?;
    Ok(body.data.keys.into_iter().filter(|k| !k.ends_with('/')).collect())
}

/// What a request was for, to name the capability a 403 says the policy lacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Read,
    /// A data write: `create` when there was no version, else `update`.
    Write {
        new: bool,
    },
    ReadMetadata,
    WriteMetadata,
    List,
    Delete,
}

impl Op {
    /// The ACL capability the request needs.
    pub fn capability(self) -> &'static str {
        match self {
            Op::Read | Op::ReadMetadata => "read",
            Op::Write { new: true } => "create",
            Op::Write { new: false } | Op::WriteMetadata => "update",
            Op::List => "list",
            Op::Delete => "delete",
        }
    }
}

/// The error for an answer that is not what `op` wanted (404 is handled by the callers):
/// 403 names the path and capability, a lost check-and-set is a conflict (`locked`), the rest
/// names the status and the server's words (`errors`, already cleaned: [`super::client::clean`]).
pub fn refusal(
    status: u16,
    errors: &[String],
    op: Op,
    path: &str,
    namespace: Option<&str>,
) -> Error {
    let said = if errors.is_empty() { String::new() } else { format!(": {}", errors.join("; ")) };
    let lower = said.to_ascii_lowercase();
    let ns = namespace.map(|n| format!(" (namespace {n:?})")).unwrap_or_default();
    match status {
        403 if lower.contains("invalid token") || lower.contains("token expired") => Error::StoreUnavailable {
            store: "vault",
            reason: format!("the server refused the vault token as invalid or expired{said}"),
            hint: Some("log in again (`bao login`, or BAO_TOKEN), or check [vault] auth".into()),
        },
        403 => Error::StoreUnavailable {
            store: "vault",
            reason: format!(
                "permission denied: the token's policy lacks {:?} on {path}{ns}",
                op.capability()
            ),
            hint: Some(format!(
                "grant it: path \"{path}\" {{ capabilities = [\"{}\"] }} (docs/vault.md has reader and rotator policies), or use a token of a role that has it",
                op.capability()
            )),
        },
        400 if lower.contains("check-and-set") => Error::Conflict(format!(
            "another writer changed the vault entry {path}{ns} first (check-and-set); nothing was overwritten: read it again and retry"
        )),
        _ => Error::StoreUnavailable {
            store: "vault",
            reason: format!("the server answered {status} to {} on {path}{ns}{said}", op.capability()),
            hint: match status {
                400 | 404 | 405 => Some("check that a KV version 2 engine is mounted at [vault] mount (`bao secrets list`)".into()),
                _ => None,
            },
        },
    }
}

/// A 404 that is not "no such secret" but "no such mount" (`no handler for route`): the
/// settings name a mount that is not there, which must not read as "not found".
pub fn no_such_mount(status: u16, errors: &[String], path: &str) -> Option<Error> {
    let missing = status == 404 && errors.iter().any(|e| e.contains("no handler for route"));
    missing.then(|| Error::StoreUnavailable {
        store: "vault",
        reason: format!("nothing is mounted at {path} (the server: no handler for route)"),
        hint: Some(
            "check [vault] mount (a KV version 2 engine: `bao secrets list`) and namespace".into(),
        ),
    })
}

fn malformed(what: &str) -> Error {
    Error::StoreUnavailable {
        store: "vault",
        reason: format!("the server's answer is not KV version 2 JSON ({what})"),
        hint: Some(
            "check that [vault] mount names a KV version 2 engine (`bao secrets list -detailed`)"
                .into(),
        ),
    }
}

#[cfg(test)]
mod tests;
