//! The `vault` store (docs/spec.md §12): each entry is a KV v2 secret of an OpenBao or HashiCorp Vault
//! server, `<mount>/data/<prefix>/<profile>`, shared by every workstation and runner that can
//! read it ([`kv`] has the layout and the wire format, [`client`] the HTTP and the HA retries,
//! [`auth`] the token).
//!
//! Construction is free: the HTTP client is built, the address resolved and the token found
//! on the first verb that needs the server, so no other store pays for this one. Every write is
//! a check-and-set (`cas` = the version read, 0 for a new entry): a lost race is
//! `Error::Conflict` (kind `locked`), never an overwrite. `erase` deletes the secret's metadata,
//! which removes every version. `may_hold` answers false: without the network it cannot know.

pub mod auth;
pub mod client;
mod doctor;
pub mod kv;
pub mod login;

use std::sync::{Mutex, OnceLock};

use self::auth::Source;
use self::client::{Client, Reply};
use self::kv::{Layout, Op, Read};
use super::versioned::Versioned;
use super::{Store, StoreKind};
use crate::entry::{Entry, EntryMeta};
use crate::error::{Error, Result};
use crate::paths::Paths;
use crate::secret::{SecretBytes, Token};
use crate::settings::{Settings, VaultAuth, VaultSettings};

pub use doctor::doctor_check;

const STORE: &str = "vault";

/// The vault store over one `[vault]` setting.
pub struct VaultStore {
    settings: VaultSettings,
    layout: Layout,
    client: OnceLock<Client>,
    /// The token of `auth = "token"`, once found.
    token: Mutex<Option<(Token, Source)>>,
    /// The login of `auth = "approle"` / `"jwt"` (it keeps its own token).
    login: Option<login::Login>,
}

/// One variable of the process environment (an empty value counts as unset where it is read).
fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

impl VaultStore {
    /// The store of `settings` (`[vault]`, or its defaults). No I/O happens here.
    pub fn new(paths: &Paths, settings: &Settings) -> VaultStore {
        let vault = settings.vault_settings();
        let login = (vault.auth != VaultAuth::Token).then(|| login::Login::new(settings, paths));
        VaultStore {
            login,
            layout: Layout::new(&vault),
            settings: vault,
            client: OnceLock::new(),
            token: Mutex::new(None),
        }
    }

    /// `[vault]` as this store uses it.
    pub fn settings(&self) -> &VaultSettings {
        &self.settings
    }

    /// Where the entries are.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The HTTP client, built on first use.
    pub fn client(&self) -> Result<&Client> {
        if let Some(c) = self.client.get() {
            return Ok(c);
        }
        let target = self.settings.resolve(&process_env)?;
        crate::ui::verbose(format!(
            "vault: {} ({})",
            target.addrs.iter().map(client::origin).collect::<Vec<_>>().join(", "),
            target.addrs_from
        ));
        // Another thread may have set it meanwhile; either client serves.
        let _ = self.client.set(Client::new(target, self.settings.timeout)?);
        self.client.get().ok_or_else(|| Error::Other("the vault client was not kept".into()))
    }

    /// The token to send, and where it came from: found once per process (`auth = "token"`),
    /// or the login's ([`login::Login::token`]: cached encrypted, else a fresh login).
    pub fn token(&self) -> Result<(Token, Source)> {
        if let Some(login) = &self.login {
            let token = login.token(self.client()?)?;
            return Ok((token, Source::Login(login.describe())));
        }
        let mut slot = self.token.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(t) = slot.as_ref() {
            return Ok(t.clone());
        }
        let found = auth::static_token(&process_env, dirs::home_dir().as_deref())?;
        crate::ui::verbose(format!("vault: {}", found.1));
        *slot = Some(found.clone());
        Ok(found)
    }

    /// Sends one request with the token. The reply is any answer the client did not retry. A
    /// 403 to a cached login token drops it and the request is sent once more after a fresh
    /// login ([`login::Login::refused`]).
    fn call(&self, f: impl Fn(&Client, &Token) -> Result<Reply>) -> Result<(Reply, Token)> {
        let client = self.client()?;
        let (token, _) = self.token()?;
        let reply = f(client, &token)?;
        if reply.status == 403 && self.login.as_ref().is_some_and(login::Login::refused) {
            let (token, _) = self.token()?;
            let reply = f(client, &token)?;
            return Ok((reply, token));
        }
        Ok((reply, token))
    }

    /// `Some` error when a 404 says the mount, not the secret, is missing.
    fn mount_missing(&self, reply: &Reply, path: &str) -> Option<Error> {
        kv::no_such_mount(reply.status, &reply.errors(None), path)
    }

    /// The error for a reply `op` did not want.
    fn refused(&self, reply: &Reply, token: &Token, op: Op, path: &str) -> Error {
        let ns = self.client.get().and_then(|c| c.target().namespace.clone());
        kv::refusal(reply.status, &reply.errors(Some(token)), op, path, ns.as_deref())
    }

    /// Reads the current version of `profile`'s secret.
    fn read(&self, profile: &str) -> Result<Read> {
        let path = self.layout.data_path(profile);
        let (reply, token) = self.call(|c, t| c.get_raw(&kv::url_path(&path), Some(t)))?;
        if let Some(e) = self.mount_missing(&reply, &path) {
            return Err(e);
        }
        match reply.status {
            200 | 404 => kv::parse_read(reply.status, &reply.body),
            _ => Err(self.refused(&reply, &token, Op::Read, &path)),
        }
    }

    /// The secret's metadata; `None` when it has none (never written, or erased).
    fn metadata_at(&self, path: &str) -> Result<Option<kv::Metadata>> {
        let (reply, token) = self.call(|c, t| c.get_raw(&kv::url_path(path), Some(t)))?;
        if let Some(e) = self.mount_missing(&reply, path) {
            return Err(e);
        }
        match reply.status {
            200 => kv::parse_metadata(&reply.body).map(Some),
            404 => Ok(None),
            _ => Err(self.refused(&reply, &token, Op::ReadMetadata, path)),
        }
    }

    /// The version a write must name (`cas`), and whether a live entry is there.
    fn current_version(&self, profile: &str) -> Result<(u64, bool)> {
        match self.read(profile)? {
            Read::Present(_, v, _) => Ok((v, true)),
            Read::Absent(v) if v > 0 => Ok((v, false)),
            Read::Absent(_) => {
                // A 404 that did not say which version is deleted: the metadata knows. Without
                // the right to read it, 0 is tried and a lost check-and-set says so.
                match self.metadata_at(&self.layout.metadata_path(profile)) {
                    Ok(Some(m)) => Ok((m.current_version, m.live())),
                    Ok(None) => Ok((0, false)),
                    Err(e) => {
                        crate::ui::verbose(format!("vault: {e}"));
                        Ok((0, false))
                    }
                }
            }
        }
    }

    /// After a lost check-and-set: whether no version newer than `cas` exists as far as the
    /// cluster now says. Another writer's version would be newer; none means the node that
    /// judged the write had older data than the one we read (a standby that serves requests
    /// itself and has not caught up, right after a failover), so the same write (the same
    /// `cas`: never anything we did not see) is tried again until `vault_timeout`.
    fn judged_on_older_data(&self, profile: &str, cas: u64) -> bool {
        match self.current_version(profile) {
            Ok((now, _)) if now <= cas => {
                crate::ui::verbose(format!(
                    "vault: check-and-set {cas} refused, but the newest version is {now}: a node behind the others judged it; trying again"
                ));
                true
            }
            _ => false,
        }
    }

    /// Writes `meta` as the secret's `custom_metadata`. A failure leaves the entry written: it
    /// is a warning (`list` shows the older metadata until the next write).
    fn write_metadata(&self, meta: &EntryMeta) {
        let path = self.layout.metadata_path(&meta.profile);
        let body = kv::metadata_body(meta);
        let outcome = self.call(|c, t| c.post_raw(&kv::url_path(&path), &body, Some(t)));
        let problem = match outcome {
            Ok((reply, _)) if reply.ok() => return,
            Ok((reply, token)) => self.refused(&reply, &token, Op::WriteMetadata, &path),
            Err(e) => e,
        };
        crate::ui::warn(format!(
            "the vault entry of profile {:?} was written, but not its metadata (list shows the previous one): {problem}",
            meta.profile
        ));
    }

    /// The names under the prefix that are our profiles.
    fn keys(&self) -> Result<Vec<(String, String)>> {
        let path = self.layout.list_path();
        let (reply, token) = self.call(|c, t| c.list_raw(&kv::url_path(&path), Some(t)))?;
        if let Some(e) = self.mount_missing(&reply, &path) {
            return Err(e);
        }
        let keys = match reply.status {
            200 => kv::parse_list(&reply.body)?,
            404 => Vec::new(),
            _ => return Err(self.refused(&reply, &token, Op::List, &path)),
        };
        Ok(keys
            .into_iter()
            .filter_map(|k| match super::decode_profile(&k) {
                Some(p) => Some((k, p)),
                None => {
                    crate::ui::verbose(format!("vault: {path}/{k} is not an entry name of ours"));
                    None
                }
            })
            .collect())
    }
}

impl Store for VaultStore {
    fn kind(&self) -> StoreKind {
        StoreKind::Vault
    }

    /// The address resolves, a token is there, and the server answers unsealed (`sys/health`;
    /// bounded by `vault_timeout`: a sealed server is retried until then).
    fn probe(&self) -> Result<()> {
        let client = self.client()?;
        self.token()?;
        let reply = client.get_raw("sys/health?standbyok=true&perfstandbyok=true", None)?;
        match reply.status {
            200 | 429 | 472 | 473 => Ok(()),
            status => Err(Error::StoreUnavailable {
                store: STORE,
                reason: format!("the server's health check answered {status}"),
                hint: Some("`bao status` says why".into()),
            }),
        }
    }

    fn get(&self, profile: &str) -> Result<Option<Entry>> {
        match self.read(profile)? {
            Read::Present(bytes, _, created) => {
                let secret = self.layout.kv_name(profile);
                kv::entry_from_data(&bytes, profile, created, &secret).map(Some)
            }
            Read::Absent(_) => Ok(None),
        }
    }

    fn set(&self, entry: &Entry) -> Result<bool> {
        let (cas, replaced) = self.current_version(&entry.profile)?;
        self.write_cas(&entry.profile, &entry.to_secret_json(), cas, Some(&entry.meta()))?;
        Ok(replaced)
    }

    /// Deletes the secret's metadata: every version goes (`bao kv metadata delete`).
    fn erase(&self, profile: &str) -> Result<bool> {
        let path = self.layout.metadata_path(profile);
        let existed = match self.metadata_at(&path) {
            Ok(None) => return Ok(false),
            Ok(Some(m)) => m.live(),
            // A policy may allow the delete without the read: then it is said to have existed.
            Err(e) if e.kind() == crate::error::ErrorKind::StoreUnavailable => true,
            Err(e) => return Err(e),
        };
        let (reply, token) = self.call(|c, t| c.delete_raw(&kv::url_path(&path), Some(t)))?;
        match reply.status {
            200 | 204 => Ok(existed),
            404 => Ok(false),
            _ => Err(self.refused(&reply, &token, Op::Delete, &path)),
        }
    }

    /// LIST on the prefix's metadata, then each secret's metadata (no data read, so a policy
    /// with `list` and `read` on `<mount>/metadata/<prefix>/*` is enough).
    fn list(&self) -> Result<Vec<EntryMeta>> {
        let mut out = Vec::new();
        for (key, profile) in self.keys()? {
            let Some(m) = self.metadata_at(&self.layout.metadata_path_of_key(&key))? else {
                continue;
            };
            if !m.live() {
                continue;
            }
            let meta = m.custom_metadata.as_ref().and_then(kv::from_custom);
            out.push(match meta {
                Some(meta) if meta.profile == profile => meta,
                _ => kv::unlisted(&profile, &m),
            });
        }
        Ok(out)
    }

    fn remote(&self) -> bool {
        true
    }

    fn names(&self) -> Result<Vec<String>> {
        Ok(self.keys()?.into_iter().map(|(_, p)| p).collect())
    }

    fn versioned(&self) -> Option<&dyn Versioned> {
        Some(self)
    }
}

impl Versioned for VaultStore {
    fn read_versioned(&self, profile: &str) -> Result<Option<(SecretBytes, u64)>> {
        match self.read(profile)? {
            Read::Present(bytes, v, _) => Ok(Some((bytes, v))),
            Read::Absent(_) => Ok(None),
        }
    }

    fn write_cas(
        &self,
        profile: &str,
        data: &[u8],
        cas: u64,
        meta: Option<&EntryMeta>,
    ) -> Result<u64> {
        crate::store::check_writable_name(profile)?;
        let path = self.layout.data_path(profile);
        let body = kv::write_body(data, cas)?;
        let deadline = std::time::Instant::now() + self.client()?.timeout();
        let reply = loop {
            let (reply, token) =
                self.call(|c, t| c.post_raw(&kv::url_path(&path), &body, Some(t)))?;
            if reply.ok() {
                break reply;
            }
            let err = self.refused(&reply, &token, Op::Write { new: cas == 0 }, &path);
            if err.kind() != crate::error::ErrorKind::Locked
                || std::time::Instant::now() >= deadline
                || !self.judged_on_older_data(profile, cas)
            {
                return Err(err);
            }
            std::thread::sleep(std::time::Duration::from_millis(250));
        };
        if reply.status == 204 {
            // KV version 1 stores any path and answers nothing: the entry now sits there.
            return Err(Error::StoreUnavailable {
                store: STORE,
                reason: format!(
                    "the mount answered as KV version 1 (204, no version); the entry was stored there as the plain secret {path}"
                ),
                hint: Some(format!(
                    "remove it (`bao delete {path}`) and point [vault] mount at a KV version 2 engine (`bao secrets enable -version=2 kv`)"
                )),
            });
        }
        let version = kv::parse_written(&reply.body)?;
        if let Some(meta) = meta {
            self.write_metadata(meta);
        }
        Ok(version)
    }
}

#[cfg(test)]
mod tests;
