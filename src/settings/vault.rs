//! The `[vault]` table of our settings (docs/spec.md §12): where the OpenBao / Vault server is, which
//! KV v2 mount and prefix hold the entries, and how we log in. The environment of the `bao` and
//! `vault` CLIs overrides it (`BAO_*` first, then `VAULT_*`): [`VaultSettings::resolve`].
//!
//! ```toml
//! [vault]
//! addr = "https://bao.example.com:8200"   # or addrs = ["https://a:8200", "https://b:8200"]
//! mount = "secret"                        # the KV v2 mount (default "secret")
//! prefix = "influxctl-cred"               # entry of profile P at <mount>/data/<prefix>/<P>
//! namespace = "team-a"                    # X-Vault-Namespace
//! ca = "/etc/ssl/bao-ca.pem"              # extra CA certificates (PEM)
//! auth = "token"                          # token | approle | jwt
//! role_id = "…"                           # approle
//! secret_id_file = "/run/secrets/bao-secret-id"
//! role = "ci"                             # jwt
//! jwt_file = "/var/run/secrets/token"     # or jwt_env = "VAR"
//! audience = "https://bao.example.com"    # GitHub Actions' OIDC token audience
//! auth_mount = "approle"                  # default: "approle" or "jwt"
//! vault_timeout = "10s"                   # retries across addrs (503, 307, upgrading) stop here
//! ```

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::error::{Error, Result};

/// How we log in to the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VaultAuth {
    /// A token from `BAO_TOKEN` / `VAULT_TOKEN`, else `~/.vault-token`.
    Token,
    /// AppRole: `role_id` and the secret id read from `secret_id_file`.
    Approle,
    /// JWT / OIDC: `role` and a JWT from `jwt_file`, `jwt_env`, or GitHub Actions.
    Jwt,
}

impl VaultAuth {
    pub fn as_str(self) -> &'static str {
        match self {
            VaultAuth::Token => "token",
            VaultAuth::Approle => "approle",
            VaultAuth::Jwt => "jwt",
        }
    }
}

/// `[vault]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawVault {
    addr: Option<String>,
    addrs: Option<Vec<String>>,
    mount: Option<String>,
    prefix: Option<String>,
    namespace: Option<String>,
    ca: Option<String>,
    auth: Option<VaultAuth>,
    role_id: Option<String>,
    secret_id_file: Option<String>,
    role: Option<String>,
    jwt_file: Option<String>,
    jwt_env: Option<String>,
    audience: Option<String>,
    auth_mount: Option<String>,
    vault_timeout: Option<String>,
}

/// The default KV v2 mount.
pub const DEFAULT_MOUNT: &str = "secret";
/// The default folder of our entries inside the mount.
pub const DEFAULT_PREFIX: &str = "influxctl-cred";
/// The default of `vault_timeout`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// `[vault]` checked, with defaults filled in; the environment is not applied yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VaultSettings {
    /// `addr`, or `addrs`; empty when neither is set (then `BAO_ADDR` / `VAULT_ADDR` must be).
    pub addrs: Vec<String>,
    pub mount: String,
    pub prefix: String,
    pub namespace: Option<String>,
    pub ca: Option<PathBuf>,
    pub auth: VaultAuth,
    pub role_id: Option<String>,
    pub secret_id_file: Option<PathBuf>,
    pub role: Option<String>,
    pub jwt_file: Option<PathBuf>,
    pub jwt_env: Option<String>,
    pub audience: Option<String>,
    pub auth_mount: Option<String>,
    pub timeout: Duration,
}

impl Default for VaultSettings {
    fn default() -> Self {
        VaultSettings {
            addrs: Vec::new(),
            mount: DEFAULT_MOUNT.to_owned(),
            prefix: DEFAULT_PREFIX.to_owned(),
            namespace: None,
            ca: None,
            auth: VaultAuth::Token,
            role_id: None,
            secret_id_file: None,
            role: None,
            jwt_file: None,
            jwt_env: None,
            audience: None,
            auth_mount: None,
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

/// Where the server is and how to reach it, after the environment overrode the settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VaultTarget {
    /// The server addresses, tried in order (HA: the others on 503, redirects, refusals).
    pub addrs: Vec<reqwest::Url>,
    /// Where the addresses came from: `BAO_ADDR`, `VAULT_ADDR` or `[vault] addr(s)`.
    pub addrs_from: &'static str,
    pub namespace: Option<String>,
    pub ca: Option<PathBuf>,
}

impl VaultSettings {
    /// Checks `[vault]`; `bad` makes the error naming the settings file (exit 2).
    pub(super) fn from_raw(
        raw: RawVault,
        base: &Path,
        bad: &dyn Fn(String) -> Error,
    ) -> Result<VaultSettings> {
        let d = VaultSettings::default();
        let addrs = match (raw.addr, raw.addrs) {
            (Some(_), Some(_)) => {
                return Err(bad("[vault]: set addr or addrs, not both".into()));
            }
            (Some(a), None) => vec![a],
            (None, Some(list)) if list.is_empty() => {
                return Err(bad("[vault] addrs: the list is empty".into()));
            }
            (None, Some(list)) => list,
            (None, None) => Vec::new(),
        };
        for a in &addrs {
            parse_addr(a).map_err(|m| bad(format!("[vault] addr {a:?}: {m}")))?;
        }
        let mount = raw.mount.unwrap_or(d.mount);
        check_path("mount", &mount).map_err(&bad)?;
        let prefix = raw.prefix.unwrap_or(d.prefix);
        check_path("prefix", &prefix).map_err(&bad)?;
        if let Some(m) = &raw.auth_mount {
            check_path("auth_mount", m).map_err(&bad)?;
        }
        if let Some(ns) = &raw.namespace {
            check_namespace(ns).map_err(&bad)?;
        }
        if let Some(var) = &raw.jwt_env
            && (var.is_empty() || !var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        {
            return Err(bad("[vault] jwt_env must be an environment variable's name".into()));
        }
        if raw.jwt_file.is_some() && raw.jwt_env.is_some() {
            return Err(bad("[vault]: set jwt_file or jwt_env, not both".into()));
        }
        let timeout = match raw.vault_timeout {
            None => d.timeout,
            Some(s) => {
                let t = crate::duration::parse(&s)
                    .map_err(|e| bad(format!("[vault] vault_timeout: {e}")))?;
                if !t.is_positive() {
                    return Err(bad("[vault] vault_timeout must be longer than 0s".into()));
                }
                Duration::from_secs(t.as_secs().unsigned_abs())
            }
        };
        let path =
            |p: Option<String>| p.filter(|s| !s.is_empty()).map(|s| super::expand_path(&s, base));
        Ok(VaultSettings {
            addrs,
            mount,
            prefix,
            namespace: raw.namespace.filter(|s| !s.is_empty()),
            ca: path(raw.ca),
            auth: raw.auth.unwrap_or(VaultAuth::Token),
            role_id: raw.role_id.filter(|s| !s.is_empty()),
            secret_id_file: path(raw.secret_id_file),
            role: raw.role.filter(|s| !s.is_empty()),
            jwt_file: path(raw.jwt_file),
            jwt_env: raw.jwt_env,
            audience: raw.audience.filter(|s| !s.is_empty()),
            auth_mount: raw.auth_mount,
            timeout,
        })
    }

    /// The server to talk to: `BAO_ADDR`, else `VAULT_ADDR`, else `addr`/`addrs` (and the same
    /// order for `*_NAMESPACE` and `*_CACERT`), as the `bao` CLI reads them. `env` reads one
    /// variable (the process environment, or a map in tests); an empty value counts as unset.
    pub fn resolve(&self, env: &dyn Fn(&str) -> Option<String>) -> Result<VaultTarget> {
        let var = |a: &'static str, b: &'static str| {
            let get = |n: &'static str| env(n).filter(|v| !v.is_empty()).map(|v| (n, v));
            get(a).or_else(|| get(b))
        };
        let (addrs_from, texts) = match var("BAO_ADDR", "VAULT_ADDR") {
            Some((name, v)) => (name, vec![v]),
            None if self.addrs.is_empty() => {
                return Err(Error::StoreUnavailable {
                    store: "vault",
                    reason: "it is not configured: no server address ([vault] addr or addrs in influxctl-cred's config.toml, BAO_ADDR or VAULT_ADDR)".into(),
                    hint: Some("add `[vault]` with `addr = \"https://bao.example.com:8200\"` to influxctl-cred's config.toml (docs/vault.md), or export BAO_ADDR".into()),
                });
            }
            None => ("[vault] addr", self.addrs.clone()),
        };
        let mut addrs = Vec::with_capacity(texts.len());
        for t in &texts {
            let url = parse_addr(t).map_err(|m| Error::InvalidValue {
                what: "vault address",
                message: format!("{addrs_from} {t:?}: {m}"),
            })?;
            addrs.push(url);
        }
        let namespace = match var("BAO_NAMESPACE", "VAULT_NAMESPACE") {
            Some((name, ns)) => {
                check_namespace(&ns).map_err(|m| Error::InvalidValue {
                    what: "vault namespace",
                    message: format!("{name}: {m}"),
                })?;
                Some(ns)
            }
            None => self.namespace.clone(),
        };
        let ca =
            var("BAO_CACERT", "VAULT_CACERT").map(|(_, p)| PathBuf::from(p)).or(self.ca.clone());
        Ok(VaultTarget { addrs, addrs_from, namespace, ca })
    }

    /// The auth method's mount: `auth_mount`, else the method's usual one.
    pub fn login_mount(&self) -> &str {
        match (&self.auth_mount, self.auth) {
            (Some(m), _) => m,
            (None, VaultAuth::Approle) => "approle",
            (None, VaultAuth::Jwt) => "jwt",
            (None, VaultAuth::Token) => "token",
        }
    }
}

/// A server address: `http(s)://host[:port]`, nothing after the authority but `/`. Plain
/// `http://` only to a loopback address: a token (ours, and the one stored) would cross the
/// network in clear text.
pub fn parse_addr(text: &str) -> std::result::Result<reqwest::Url, String> {
    let url = reqwest::Url::parse(text.trim()).map_err(|e| format!("not a URL ({e})"))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err("the scheme must be https:// (or http:// to a loopback address)".into());
    }
    let host = url.host_str().unwrap_or("");
    if host.is_empty() {
        return Err("no host".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("credentials in the address are not allowed".into());
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err("give only scheme, host and port (the API path /v1/ is added)".into());
    }
    if url.scheme() == "http" && !is_loopback(host) {
        return Err(format!(
            "plain http:// to {host}, which is not a loopback address: the vault token and the stored management token would cross the network unencrypted; use https://"
        ));
    }
    Ok(url)
}

/// Exactly `localhost`, or a literal `127.0.0.0/8` or `::1`. Nothing that goes to DNS:
/// `localhost.` (a fully qualified name) or `localhost.example` may resolve anywhere.
pub fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// A mount or prefix: `/`-separated segments of `[A-Za-z0-9_.@+=:-]`, none empty, `.` or `..`,
/// so it goes into a URL path as it is and can never climb out of the mount.
fn check_path(key: &str, value: &str) -> std::result::Result<(), String> {
    let seg_ok = |s: &str| {
        !s.is_empty()
            && s != "."
            && s != ".."
            && s.chars().all(|c| c.is_ascii_alphanumeric() || "_.@+=:-".contains(c))
    };
    if value.len() > 256 || !value.split('/').all(seg_ok) {
        return Err(format!(
            "[vault] {key} {value:?}: use `/`-separated names of letters, digits and `_.@+=:-`, without empty, `.` or `..` parts, and no leading or trailing `/`"
        ));
    }
    Ok(())
}

fn check_namespace(ns: &str) -> std::result::Result<(), String> {
    if ns.len() > 256 || ns.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err("a namespace is a path without spaces or control characters".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests;
