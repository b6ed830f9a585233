//! Our own settings file (`config.toml` in our config folder). Every key is optional; an unknown
//! key is an error (exit 2) so that a typo never silently changes where a token goes.
//!
//! ```toml
//! store = "file"                 # where writes go when --store is not given
//! identities = ["~/.ssh/age.txt"] # age identity files (passphrase-encrypted ones prompt)
//! recipients = ["age1…", "ssh-ed25519 AAAA… ci"]
//! ttl = "90d"                    # default lifetime of created tokens
//! renew_before = "7d"            # warn (or auto-rotate) when less is left
//! auto_rotate = false
//! keyring_timeout = "5s"
//! lock_timeout = "10s"
//! api_url = "https://console.influxdata.com/api/v0"
//! activation_timeout = "2m"     # how long `rotate` retries a new token before giving up
//! allow_disk = false             # exec --inject file may write on a disk file system
//! agent_ttl = "8h"               # how long `unlock` keeps identities in the agent
//! agent_idle = "1h"              # the agent forgets and exits after this long unused
//! [vault]                        # the vault store (docs/spec.md §12): see settings/vault.rs
//! addr = "https://bao.example.com:8200"
//! [profiles.prod]
//! store = "keyring"
//! insecure_http = false          # allow sending this profile's token over plain http://
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use jiff::SignedDuration;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

mod vault;
pub use vault::{VaultAuth, VaultSettings, VaultTarget, is_loopback, parse_addr};

/// The names of the stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreKind {
    Keyring,
    File,
    Env,
    /// A KV v2 secret in OpenBao or HashiCorp Vault (docs/spec.md §12).
    Vault,
    /// In-memory, for tests only; never offered to users.
    Memory,
}

impl StoreKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StoreKind::Keyring => "keyring",
            StoreKind::File => "file",
            StoreKind::Env => "env",
            StoreKind::Vault => "vault",
            StoreKind::Memory => "memory",
        }
    }
}

impl fmt::Display for StoreKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for StoreKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "keyring" => Ok(StoreKind::Keyring),
            "file" => Ok(StoreKind::File),
            "env" => Ok(StoreKind::Env),
            "vault" => Ok(StoreKind::Vault),
            _ => Err(Error::InvalidValue {
                what: "store",
                message: format!("{s:?} (choose keyring, file, env or vault)"),
            }),
        }
    }
}

/// Parsed settings with defaults filled in.
#[derive(Debug, Clone)]
pub struct Settings {
    pub store: Option<StoreKind>,
    pub identities: Vec<PathBuf>,
    pub recipients: Vec<String>,
    pub ttl: SignedDuration,
    pub renew_before: SignedDuration,
    pub auto_rotate: bool,
    pub keyring_timeout: Duration,
    pub lock_timeout: Duration,
    pub api_url: Option<String>,
    /// How long `rotate` keeps testing a new token that is not active yet.
    pub activation_timeout: Duration,
    /// `exec --inject file` may write the derived config on a disk file system.
    pub allow_disk: bool,
    /// How long the agent holds unlocked identities (`unlock --ttl` overrides it).
    pub agent_ttl: Duration,
    /// The agent forgets everything and exits after this long without a request.
    pub agent_idle: Duration,
    pub profiles: BTreeMap<String, ProfileSettings>,
    /// Profiles with `insecure_http = true`: their token may go over plain `http://` to a host
    /// that is not loopback (docs/spec.md §9), with a warning every time.
    pub insecure_http: std::collections::BTreeSet<String>,
    /// `[vault]`, when present (it enables the vault store).
    pub vault: Option<VaultSettings>,
}

/// Per-profile settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileSettings {
    pub store: Option<StoreKind>,
}

/// `store = "…"` as a user may write it: keyring, file or env (the test-only `memory` store is
/// refused here, at parse time, naming the choices).
fn user_store<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<StoreKind>, D::Error> {
    let name = String::deserialize(d)?;
    name.parse().map(Some).map_err(|e: Error| serde::de::Error::custom(e.to_string()))
}

/// `[profiles.NAME]` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    #[serde(default, deserialize_with = "user_store")]
    store: Option<StoreKind>,
    #[serde(default)]
    insecure_http: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default, deserialize_with = "user_store")]
    store: Option<StoreKind>,
    #[serde(default)]
    identities: Vec<String>,
    #[serde(default)]
    recipients: Vec<String>,
    ttl: Option<String>,
    renew_before: Option<String>,
    auto_rotate: Option<bool>,
    keyring_timeout: Option<String>,
    lock_timeout: Option<String>,
    api_url: Option<String>,
    activation_timeout: Option<String>,
    allow_disk: Option<bool>,
    agent_ttl: Option<String>,
    agent_idle: Option<String>,
    #[serde(default)]
    profiles: BTreeMap<String, RawProfile>,
    vault: Option<vault::RawVault>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            store: None,
            identities: Vec::new(),
            recipients: Vec::new(),
            ttl: SignedDuration::from_hours(90 * 24),
            renew_before: SignedDuration::from_hours(7 * 24),
            auto_rotate: false,
            keyring_timeout: Duration::from_secs(5),
            lock_timeout: Duration::from_secs(10),
            api_url: None,
            activation_timeout: Duration::from_secs(120),
            allow_disk: false,
            agent_ttl: Duration::from_secs(8 * 3600),
            agent_idle: Duration::from_secs(3600),
            profiles: BTreeMap::new(),
            insecure_http: Default::default(),
            vault: None,
        }
    }
}

impl Settings {
    /// Loads `path`; a missing file gives the defaults. Strict modes (docs/spec.md §2): our home (the
    /// settings file's folder) and every folder above it must be ours or root's and not
    /// writable by others (else exit 5); the file must be a regular file of ours, not writable
    /// by others, at most 1 MiB, UTF-8 (else exit 2).
    pub fn load(path: &Path) -> Result<Settings> {
        if let Some(home) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            crate::fsutil::check_folders(home, crate::error::ErrorKind::StoreUnavailable)?;
        }
        match crate::fsutil::read(path, crate::fsutil::FileKind::Settings)? {
            None => Ok(Settings::default()),
            Some(bytes) => {
                let text = std::str::from_utf8(&bytes).map_err(|_| Error::ParseConfig {
                    path: path.to_owned(),
                    message: "it is not UTF-8 text".into(),
                })?;
                Settings::parse(text, path)
            }
        }
    }

    /// Parses settings text; `path` is only used in messages and to resolve relative paths.
    pub fn parse(text: &str, path: &Path) -> Result<Settings> {
        let bad = |message: String| Error::ParseConfig { path: path.to_owned(), message };
        let parsed = crate::error::shield(path, || Ok(toml::from_str::<Raw>(text)))?;
        let raw: Raw = parsed.map_err(|e| bad(e.message().to_owned()))?;
        let defaults = Settings::default();
        let dur =
            |v: Option<String>, key: &str, default: SignedDuration| -> Result<SignedDuration> {
                match v {
                    None => Ok(default),
                    Some(s) => crate::duration::parse(&s).map_err(|e| bad(format!("{key}: {e}"))),
                }
            };
        let std_dur = |d: SignedDuration| Duration::from_secs(d.as_secs().max(0) as u64);
        let positive = |d: SignedDuration, key: &str| -> Result<SignedDuration> {
            if d.is_positive() { Ok(d) } else { Err(bad(format!("{key} must be longer than 0s"))) }
        };
        let base = path.parent().unwrap_or(Path::new("."));
        let vault = match raw.vault {
            Some(v) => Some(VaultSettings::from_raw(v, base, &bad)?),
            None => None,
        };
        Ok(Settings {
            vault,
            store: raw.store,
            identities: raw.identities.iter().map(|p| expand_path(p, base)).collect(),
            recipients: raw.recipients,
            ttl: dur(raw.ttl, "ttl", defaults.ttl)?,
            renew_before: dur(raw.renew_before, "renew_before", defaults.renew_before)?,
            auto_rotate: raw.auto_rotate.unwrap_or(false),
            keyring_timeout: std_dur(positive(
                dur(raw.keyring_timeout, "keyring_timeout", SignedDuration::from_secs(5))?,
                "keyring_timeout",
            )?),
            lock_timeout: std_dur(dur(
                raw.lock_timeout,
                "lock_timeout",
                SignedDuration::from_secs(10),
            )?),
            api_url: raw.api_url.filter(|s| !s.is_empty()),
            activation_timeout: std_dur(dur(
                raw.activation_timeout,
                "activation_timeout",
                SignedDuration::from_secs(120),
            )?),
            allow_disk: raw.allow_disk.unwrap_or(false),
            agent_ttl: std_dur(positive(
                dur(raw.agent_ttl, "agent_ttl", SignedDuration::from_hours(8))?,
                "agent_ttl",
            )?),
            agent_idle: std_dur(positive(
                dur(raw.agent_idle, "agent_idle", SignedDuration::from_hours(1))?,
                "agent_idle",
            )?),
            insecure_http: raw
                .profiles
                .iter()
                .filter(|(_, p)| p.insecure_http)
                .map(|(name, _)| name.clone())
                .collect(),
            profiles: raw
                .profiles
                .into_iter()
                .map(|(name, p)| (name, ProfileSettings { store: p.store }))
                .collect(),
        })
    }

    /// The store configured for `profile`, else the global one.
    pub fn store_for(&self, profile: &str) -> Option<StoreKind> {
        self.profiles.get(profile).and_then(|p| p.store).or(self.store)
    }

    /// Whether the vault store takes part in this run (docs/spec.md §12): `[vault]` exists, or a
    /// setting names the `vault` store. `BAO_ADDR` alone never enables it: a shell set up for
    /// other work with OpenBao must not change where tokens go.
    pub fn vault_enabled(&self) -> bool {
        self.vault.is_some()
            || self.store == Some(StoreKind::Vault)
            || self.profiles.values().any(|p| p.store == Some(StoreKind::Vault))
    }

    /// `[vault]`, or its defaults when the vault store is enabled by name only.
    pub fn vault_settings(&self) -> VaultSettings {
        self.vault.clone().unwrap_or_default()
    }

    /// Whether `[profiles.NAME] insecure_http = true` allows plain HTTP for `profile`.
    pub fn insecure_http(&self, profile: &str) -> bool {
        self.insecure_http.contains(profile)
    }
}

/// `~/x` → home/x; a relative path is taken relative to the settings file's folder.
fn expand_path(p: &str, base: &Path) -> PathBuf {
    if let Some(rest) = p.strip_prefix("~/")
        && let Some(home) = dirs::home_dir()
    {
        return home.join(rest);
    }
    let path = PathBuf::from(p);
    if path.is_absolute() { path } else { base.join(path) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_settings_give_defaults() {
        let s = Settings::parse("", Path::new("/x/config.toml")).unwrap();
        assert_eq!(s.ttl.as_secs(), 90 * 86_400);
        assert_eq!(s.keyring_timeout, Duration::from_secs(5));
        assert!(!s.auto_rotate);
    }

    #[test]
    fn memory_store_is_refused_at_parse_time_naming_the_choices() {
        for text in ["store = \"memory\"", "[profiles.prod]\nstore = \"memory\"", "store = \"tmp\""]
        {
            let err = Settings::parse(text, Path::new("/x/config.toml")).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{text}");
            let msg = err.to_string();
            assert!(
                msg.contains("keyring, file, env or vault") && msg.contains("config.toml"),
                "{text}: {msg}"
            );
        }
        let s = Settings::parse("store = \"env\"", Path::new("/x/config.toml")).unwrap();
        assert_eq!(s.store, Some(StoreKind::Env));
    }

    #[test]
    fn full_settings_parse() {
        let text = r#"
            store = "file"
            identities = ["id.txt", "/abs/id"]
            recipients = ["age1xyz"]
            ttl = "30d"
            renew_before = "2d"
            auto_rotate = true
            keyring_timeout = "2s"
            activation_timeout = "5s"
            [profiles.prod]
            store = "keyring"
            insecure_http = true
        "#;
        let s = Settings::parse(text, Path::new("/x/config.toml")).unwrap();
        assert_eq!(s.identities, vec![PathBuf::from("/x/id.txt"), PathBuf::from("/abs/id")]);
        assert_eq!(s.store_for("prod"), Some(StoreKind::Keyring));
        assert_eq!(s.store_for("other"), Some(StoreKind::File));
        assert_eq!(s.renew_before.as_secs(), 2 * 86_400);
        assert_eq!(s.activation_timeout, Duration::from_secs(5));
        assert!(s.insecure_http("prod") && !s.insecure_http("other"));
    }

    #[test]
    fn unknown_key_and_bad_duration_are_usage_errors() {
        for text in [
            "colour = 1",
            "ttl = \"soon\"",
            "store = \"plaintext\"",
            "ttl = [",
            "keyring_timeout = \"0s\"",
            "agent_ttl = \"0s\"",
            "agent_idle = \"later\"",
        ] {
            let err = Settings::parse(text, Path::new("/x/config.toml")).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{text}");
        }
    }

    #[test]
    fn agent_ttl_and_idle_default_to_8h_and_1h_and_parse() {
        let s = Settings::parse("", Path::new("/x/config.toml")).unwrap();
        assert_eq!((s.agent_ttl.as_secs(), s.agent_idle.as_secs()), (8 * 3600, 3600));
        let text = "agent_ttl = \"12h\"\nagent_idle = \"15m\"\n";
        let s = Settings::parse(text, Path::new("/x/config.toml")).unwrap();
        assert_eq!((s.agent_ttl.as_secs(), s.agent_idle.as_secs()), (12 * 3600, 900));
    }
}
