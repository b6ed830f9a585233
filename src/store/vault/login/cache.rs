//! The login-token cache: the vault token an approle or jwt login gave, kept until shortly
//! before its TTL ends so that each command does not log in again. One age-encrypted file,
//! `vault-login.cache` in the file store's folder (0600, in the 0700 folder, written
//! atomically), encrypted to the user's own age identities only — not to the team's
//! `recipients`: a login token is this user's. Never plaintext anywhere.
//!
//! The file's JSON names what it belongs to ([`Key`]: server addresses, namespace, method,
//! mount, role, and for a jwt login who the JWT names), so a changed setting, or another
//! repository's job on the same runner, never reuses a token meant for another server, role or
//! identity. It is used only with identities that open without a passphrase (a prompt per command
//! would cost more than the login it saves); without such an identity there is no cache and
//! every command logs in (said under `-v`). Any problem with the file (unreadable, from another
//! identity, damaged) only means a fresh login; the next one replaces it.
//!
//! When an agent runs (docs/spec.md §13), the same JSON is held in the agent's memory under the key
//! instead ([`crate::agent::login_put`]): no file is written, and no identity is needed; `lock`
//! revokes what it holds before the agent forgets it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::Result;
use crate::identity::{self, Identities};
use crate::secret::{SecretBytes, Token};
use crate::settings::{VaultSettings, VaultTarget};
use crate::ui;

/// The cache file's name in the store folder (not `*.age`, which the file store would list as
/// an entry).
pub const FILE_NAME: &str = "vault-login.cache";

/// A login token, as a login answered it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginToken {
    /// `auth.client_token`.
    pub token: Token,
    /// When it expires: the login's time plus `auth.lease_duration`.
    pub expires_at: Timestamp,
    /// `auth.lease_duration`, in seconds.
    pub lease_secs: u64,
    pub renewable: bool,
}

impl LoginToken {
    /// A token `lease` long from `now`. A lease of 0 (a token without TTL) is kept for an hour.
    pub fn new(token: Token, now: Timestamp, lease_secs: u64, renewable: bool) -> LoginToken {
        let kept = if lease_secs == 0 { 3600 } else { lease_secs.min(366 * 86_400) };
        let expires_at =
            now.checked_add(SignedDuration::from_secs(kept as i64)).unwrap_or(Timestamp::MAX);
        LoginToken { token, expires_at, lease_secs, renewable }
    }

    /// How long before its end a token stops being used: a tenth of its lease, between 5 s
    /// and 5 min, so that a request never goes out with a token about to expire.
    pub fn margin(&self) -> Duration {
        Duration::from_secs((self.lease_secs / 10).clamp(5, 300))
    }

    /// Whether it may still be used at `now`.
    pub fn usable(&self, now: Timestamp) -> bool {
        let left = self.expires_at.duration_since(now);
        left.is_positive() && left.unsigned_abs() > self.margin()
    }
}

/// What the cache file holds (inside the encryption).
#[derive(Serialize, Deserialize)]
struct CacheFile {
    v: u32,
    /// [`Key::full`] of the login.
    key: String,
    /// [`Key::server`] of the login.
    server: String,
    login: LoginToken,
}

/// What a login token belongs to, as opaque strings (SHA-256).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    /// Server addresses, namespace, method, mount, role or role id, and who logged in (the
    /// JWT's issuer, subject and audience): a cached token is used only when all match.
    pub full: String,
    /// Server addresses and namespace: where the token may be sent (a logout revokes it only
    /// there).
    pub server: String,
}

impl Key {
    /// `who`: for a jwt login, the JWT's issuer, subject and audience (two jobs of different
    /// repositories on one runner must never share a token); empty for approle, whose role id
    /// is part of the key already.
    pub fn new(cfg: &VaultSettings, target: &VaultTarget, who: &str) -> Key {
        let server = digest(&server_parts(target));
        let mut parts = server_parts(target);
        parts.extend([
            cfg.auth.as_str().to_owned(),
            cfg.login_mount().to_owned(),
            cfg.role.clone().unwrap_or_default(),
            cfg.role_id.clone().unwrap_or_default(),
            who.to_owned(),
        ]);
        Key { full: digest(&parts), server }
    }
}

fn server_parts(target: &VaultTarget) -> Vec<String> {
    let mut parts = vec!["influxctl-cred vault login v1".to_owned()];
    parts.extend(target.addrs.iter().map(|a| a.as_str().to_owned()));
    parts.push("|".into());
    parts.push(target.namespace.clone().unwrap_or_default());
    parts
}

/// SHA-256 over length-prefixed parts, hex.
fn digest(parts: &[String]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_be_bytes());
        h.update(p.as_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Where the cache lives and the identities that open it.
#[derive(Debug, Clone)]
pub struct Cache {
    pub path: PathBuf,
    default_identity: PathBuf,
    identities: Vec<PathBuf>,
}

impl Cache {
    pub fn new(store_dir: &Path, default_identity: &Path, identities: &[PathBuf]) -> Cache {
        Cache {
            path: store_dir.join(FILE_NAME),
            default_identity: default_identity.to_owned(),
            identities: identities.to_vec(),
        }
    }

    /// The identities for the cache: found, and needing no passphrase; else why not.
    fn identities(&self) -> std::result::Result<Identities, String> {
        match Identities::find(&self.default_identity, &self.identities, None) {
            Ok(Some(ids)) if ids.needs_no_passphrase() => Ok(ids),
            Ok(Some(_)) => Err("the age identity needs a passphrase".into()),
            Ok(None) => Err("there is no age identity".into()),
            Err(e) => Err(format!("the age identity cannot be used ({e})")),
        }
    }

    /// The cached token for `key` while it is usable: the agent's when one runs and holds it,
    /// else the file's; `None` (said under `-v`) otherwise.
    pub fn load(&self, key: &Key, now: Timestamp) -> Option<LoginToken> {
        if let Some(plain) = crate::agent::login_get(&key.full) {
            match decode(&plain).filter(|f| f.key == key.full) {
                Some(f) if f.login.usable(now) => {
                    ui::verbose("vault: the agent holds the login");
                    return Some(f.login);
                }
                _ => crate::agent::login_drop(&key.full),
            }
        }
        match self.try_load(key, now) {
            Ok(found) => found,
            Err(why) => {
                ui::verbose(format!("vault login cache {}: {why}", self.path.display()));
                None
            }
        }
    }

    fn try_load(
        &self,
        key: &Key,
        now: Timestamp,
    ) -> std::result::Result<Option<LoginToken>, String> {
        let Some(bytes) = crate::fsutil::read(&self.path, crate::fsutil::FileKind::StoreEntry)
            .map_err(|e| e.to_string())?
        else {
            return Ok(None);
        };
        let ids = self.identities()?;
        let plain = crate::error::shield_or(
            || ids.decrypt(&bytes),
            || identity::Failure::Corrupt("damaged"),
        )
        .map_err(|_| "cannot be opened with the current identity; logging in again".to_owned())?;
        let file = decode(&plain).ok_or("is damaged; logging in again")?;
        if file.key != key.full {
            return Err("holds the login of other settings; logging in again".into());
        }
        if !file.login.usable(now) {
            return Err("holds an expired login; logging in again".into());
        }
        Ok(Some(file.login))
    }

    /// Keeps `login` for `key`; a failure only costs the next command a login (said under
    /// `-v`).
    pub fn save(&self, key: &Key, login: &LoginToken) {
        if let Err(why) = self.try_save(key, login) {
            ui::verbose(format!("not caching the vault login ({why}); every command logs in"));
        }
    }

    /// Keeps `login` in the agent when one runs (memory only: no file is written), else in the
    /// encrypted file.
    fn try_save(&self, key: &Key, login: &LoginToken) -> std::result::Result<(), String> {
        let file = CacheFile {
            v: 1,
            key: key.full.clone(),
            server: key.server.clone(),
            login: login.clone(),
        };
        // Plain structs of strings, numbers and timestamps serialize without failing.
        let plain = SecretBytes::new(serde_json::to_vec(&file).map_err(|e| e.to_string())?);
        if crate::agent::login_put(&key.full, &plain) {
            ui::verbose(format!("the agent holds the vault login until {}", login.expires_at));
            return Ok(());
        }
        let ids = self.identities()?;
        let own = ids.recipients().map_err(|e| e.to_string())?;
        let recipients = identity::merge_recipients(own, Vec::new()).map_err(|e| e.to_string())?;
        let cipher = identity::encrypt(&recipients, &plain).map_err(|e| e.to_string())?;
        let dir = self.path.parent().ok_or("the cache has no folder")?;
        crate::fsutil::private_dir(dir).map_err(|e| e.to_string())?;
        // As the file store: never into a folder that others may use.
        crate::fsutil::check_private(dir).map_err(|e| e.to_string())?;
        crate::fsutil::write_atomic(&self.path, &cipher).map_err(|e| e.to_string())?;
        ui::verbose(format!("cached the vault login until {}", login.expires_at));
        Ok(())
    }

    /// The cached token whatever its key or age, for a logout: `(token, Key::server)`.
    pub fn any(&self) -> Result<Option<(LoginToken, String)>> {
        let Some(bytes) = crate::fsutil::read(&self.path, crate::fsutil::FileKind::StoreEntry)?
        else {
            return Ok(None);
        };
        let Ok(ids) = self.identities() else { return Ok(None) };
        let Ok(plain) = crate::error::shield_or(
            || ids.decrypt(&bytes),
            || identity::Failure::Corrupt("damaged"),
        ) else {
            return Ok(None);
        };
        Ok(decode(&plain).map(|f| (f.login, f.server)))
    }

    /// Every login the running agent holds, whatever its key or age, for a logout:
    /// `(token, Key::server)` each.
    pub fn agent_logins(&self) -> Vec<(LoginToken, String)> {
        let Some(plain) = crate::agent::logins() else { return Vec::new() };
        // Parsed straight into the zeroizing types (no plain `Value` copy of a token).
        let files: Vec<CacheFile> = crate::error::shield_or(
            || serde_json::from_slice::<Vec<CacheFile>>(&plain).map_err(drop),
            || (),
        )
        .unwrap_or_default();
        files.into_iter().filter(|f| f.v == 1).map(|f| (f.login, f.server)).collect()
    }

    /// Makes the running agent forget the login of `key` (the server refused it).
    pub fn drop_from_agent(&self, key: &str) {
        crate::agent::login_drop(key);
    }

    /// Deletes the cache file; answers whether there was one.
    pub fn remove(&self) -> Result<bool> {
        crate::fsutil::remove(&self.path)
    }
}

fn decode(plain: &[u8]) -> Option<CacheFile> {
    crate::error::shield_or(|| serde_json::from_slice::<CacheFile>(plain).map_err(drop), || ())
        .ok()
        .filter(|f| f.v == 1)
}
