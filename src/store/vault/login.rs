//! Logins of the vault store for `auth = "approle"` and `auth = "jwt"` (docs/spec.md §12); the token of
//! `auth = "token"` is [`super::auth`]'s.
//!
//! - approle: `POST auth/<auth_mount or approle>/login {role_id, secret_id}`, the secret id
//!   from `secret_id_file` ([`source::secret_id`]).
//! - jwt: `POST auth/<auth_mount or jwt>/login {role, jwt}`, the JWT from `jwt_file`, the
//!   variable `jwt_env` names (GitLab `id_tokens`), or GitHub Actions' OIDC token service
//!   ([`source::jwt_source`]).
//!
//! A refused login (400, 403, any 4xx) is `store-unavailable` saying which login failed and
//! the server's reasons, with our credentials masked out of them. The token a login gives is
//! kept in the encrypted [`cache`] until shortly before its TTL ends; a cached token the server
//! refuses is dropped ([`Login::refused`]) and the caller logs in once more. [`Login::logout`]
//! revokes the cached token (`auth/token/revoke-self`) and deletes the cache (`lock`).

pub mod cache;
pub mod source;

use std::sync::{Mutex, MutexGuard};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::client::{Client, Reply};
use crate::error::{Error, Result};
use crate::paths::Paths;
use crate::secret::{SecretBytes, Token};
use crate::settings::{Settings, VaultAuth, VaultSettings};
use crate::ui;
use cache::{Cache, Key, LoginToken};

/// Reads one environment variable (the process's, or a map in tests).
type EnvFn = dyn Fn(&str) -> Option<String> + Send + Sync;

/// The login of one vault store: its settings, its cache, and the token of this process.
pub struct Login {
    cfg: VaultSettings,
    cache: Cache,
    /// The token in use, and the cache key when it came from the cache (file or agent).
    current: Mutex<Option<(Token, Option<String>)>>,
    env: Box<EnvFn>,
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Login({})", self.describe())
    }
}

impl Login {
    /// The login `[vault]` of `settings` describes, with its cache in the file store's folder.
    /// No I/O.
    pub fn new(settings: &Settings, paths: &Paths) -> Login {
        let cache = Cache::new(&paths.store_dir(), &paths.default_identity(), &settings.identities);
        Login {
            cfg: settings.vault_settings(),
            cache,
            current: Mutex::default(),
            env: Box::new(|k| std::env::var(k).ok()),
        }
    }

    /// The same login reading variables through `env` (tests).
    pub fn with_env(
        mut self,
        env: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    ) -> Login {
        self.env = Box::new(env);
        self
    }

    /// "approle login", "jwt login" (for `doctor`, `-v`).
    pub fn describe(&self) -> &'static str {
        match self.cfg.auth {
            VaultAuth::Approle => "approle login",
            VaultAuth::Jwt => "jwt login",
            VaultAuth::Token => "token",
        }
    }

    fn current(&self) -> MutexGuard<'_, Option<(Token, Option<String>)>> {
        // A panic while holding it leaves a token or none, both fine to use.
        self.current.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The cache file (for `lock`, `doctor`).
    pub fn cache_path(&self) -> &std::path::Path {
        &self.cache.path
    }

    /// The vault token to send: the one in use, else a cached one that is still good, else a
    /// fresh login (then cached).
    pub fn token(&self, client: &Client) -> Result<Token> {
        let kept = self.current().clone();
        if let Some((t, _)) = kept {
            return Ok(t);
        }
        // A jwt login's JWT is read first: the cache is keyed by who it names.
        let jwt = match self.cfg.auth {
            VaultAuth::Jwt => Some(self.jwt(client)?),
            _ => None,
        };
        let who = jwt.as_ref().map(|j| jwt_who(j)).unwrap_or_default();
        let key = Key::new(&self.cfg, client.target(), &who);
        let now = Timestamp::now();
        if let Some(cached) = self.cache.load(&key, now) {
            ui::verbose(format!(
                "vault: using the cached {} (valid until {})",
                self.describe(),
                cached.expires_at
            ));
            *self.current() = Some((cached.token.clone(), Some(key.full.clone())));
            return Ok(cached.token);
        }
        let fresh = self.login(client, now, jwt)?;
        self.cache.save(&key, &fresh);
        *self.current() = Some((fresh.token.clone(), None));
        Ok(fresh.token)
    }

    /// The server refused the token [`Login::token`] gave (403 on use). A cached token is
    /// dropped, with its cache file, and the answer is `true`: call `token` again and retry
    /// once. A token fresh from a login is not the problem (the policy is): `false`.
    pub fn refused(&self) -> bool {
        let taken = self.current().take();
        match taken {
            Some((_, Some(key))) => {
                ui::verbose("vault: the server refused the cached login token; logging in again");
                self.cache.drop_from_agent(&key);
                if let Err(e) = self.cache.remove() {
                    ui::verbose(format!("vault: cannot delete the login cache: {e}"));
                }
                true
            }
            Some((token, None)) => {
                *self.current() = Some((token, None));
                false
            }
            None => false,
        }
    }

    /// Revokes the cached login tokens (`auth/token/revoke-self`) that belong to these
    /// settings' server: the ones the agent holds (before `lock` makes it forget them) and the
    /// file's; deletes the cache file. Answers what was done, in words.
    pub fn logout(&self, client: &Client) -> Result<String> {
        self.current().take();
        let here = Key::new(&self.cfg, client.target(), "").server;
        let mut said: Vec<String> = self
            .cache
            .agent_logins()
            .into_iter()
            .map(|(login, server)| {
                format!(
                    "vault login token held by the agent: {}",
                    revoke(client, &login, server == here)
                )
            })
            .collect();
        let path = self.cache.path.display().to_string();
        match self.cache.any()? {
            Some((login, server)) => {
                let revoked = revoke(client, &login, server == here);
                self.cache.remove()?;
                said.push(format!("vault login token: {revoked}; deleted {path}"));
            }
            None if self.cache.remove()? => said.push(format!(
                "deleted the vault login cache {path} (it could not be opened, so nothing was revoked)"
            )),
            None if said.is_empty() => said.push("no vault login was cached".to_owned()),
            None => {}
        }
        Ok(said.join("; "))
    }

    /// Deletes the cache file without revoking its token (no server to tell); answers whether
    /// there was one.
    pub fn forget(&self) -> Result<bool> {
        self.current().take();
        self.cache.remove()
    }

    /// The JWT of a jwt login, from where the settings say.
    fn jwt(&self, client: &Client) -> Result<source::Secret> {
        let from = source::jwt_source(&self.cfg, &*self.env)?;
        let http = match &from {
            source::JwtSource::GitHub(_) => client.http_outside()?,
            _ => client.http(),
        };
        let jwt = source::read_jwt(&from, &*self.env, http, client.timeout())?;
        ui::verbose(format!("vault: jwt login with {}", from.describe()));
        Ok(jwt)
    }

    /// Logs in by the configured method (`jwt`: the JWT already read, for a jwt login).
    fn login(
        &self,
        client: &Client,
        now: Timestamp,
        jwt: Option<source::Secret>,
    ) -> Result<LoginToken> {
        let method = self.cfg.auth;
        let mount = self.cfg.login_mount().to_owned();
        let path = format!("auth/{mount}/login");
        let (body, secret) = match method {
            VaultAuth::Approle => {
                let role_id = self.cfg.role_id.as_deref().ok_or_else(|| Error::InvalidValue {
                    what: "[vault] role_id",
                    message: "auth = \"approle\" needs role_id".into(),
                })?;
                let secret_id = source::secret_id(&self.cfg)?;
                let body = to_body(&ApproleBody { role_id, secret_id: &secret_id });
                (body, secret_id)
            }
            VaultAuth::Jwt => {
                let jwt = match jwt {
                    Some(jwt) => jwt,
                    None => self.jwt(client)?,
                };
                let body = to_body(&JwtBody { role: self.cfg.role.as_deref(), jwt: &jwt });
                (body, jwt)
            }
            VaultAuth::Token => {
                return Err(Error::Other("auth = \"token\" does not log in".into()));
            }
        };
        let reply = client.post_raw(&path, &body, None)?;
        drop(body);
        answer(method, &path, &reply, &secret, now)
    }
}

/// Revokes `login` on the server of `client` when `ours` (it was made there: never send a
/// token to a server it was not made for); says what happened.
fn revoke(client: &Client, login: &LoginToken, ours: bool) -> String {
    if !ours {
        return "it belongs to another server or namespace, so it was not revoked; it expires by itself"
            .to_owned();
    }
    if !login.usable(Timestamp::now()) {
        return "it had expired".to_owned();
    }
    match client.post_raw("auth/token/revoke-self", b"{}", Some(&login.token)) {
        Ok(r) if r.ok() => "revoked it".to_owned(),
        Ok(r) if r.status == 403 => "the server no longer knew it".to_owned(),
        Ok(r) => format!(
            "revoking it failed (HTTP {}: {}); it expires at {}",
            r.status,
            r.errors(Some(&login.token)).join("; "),
            login.expires_at
        ),
        Err(e) => format!("revoking it failed ({e}); it expires at {}", login.expires_at),
    }
}

#[derive(Serialize)]
struct ApproleBody<'a> {
    role_id: &'a str,
    secret_id: &'a str,
}

#[derive(Serialize)]
struct JwtBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<&'a str>,
    jwt: &'a str,
}

fn to_body(body: &impl Serialize) -> SecretBytes {
    // Structs of strings serialize into a Vec without failing.
    SecretBytes::new(serde_json::to_vec(body).expect("login body serializes"))
}

/// The login token of a login's answer, or `store-unavailable` saying why there is none.
pub fn answer(
    method: VaultAuth,
    path: &str,
    reply: &Reply,
    secret: &str,
    now: Timestamp,
) -> Result<LoginToken> {
    if !reply.ok() {
        return Err(refusal(method, path, reply.status, &reply.errors(None), secret));
    }
    #[derive(Deserialize)]
    struct Auth {
        client_token: Token,
        #[serde(default)]
        lease_duration: u64,
        #[serde(default)]
        renewable: bool,
    }
    #[derive(Deserialize)]
    struct Body {
        auth: Option<Auth>,
    }
    let none = |why: &str| Error::StoreUnavailable {
        store: "vault",
        reason: format!("the {} at {path} answered {why}", method_name(method)),
        hint: None,
    };
    let parsed = crate::error::shield_or(
        || serde_json::from_slice::<Body>(&reply.body).map_err(drop),
        || (),
    );
    let auth = parsed.ok().and_then(|b| b.auth).ok_or_else(|| none("no usable token"))?;
    Ok(LoginToken::new(auth.client_token, now, auth.lease_duration, auth.renewable))
}

/// A refused login: which one, the HTTP status, and the server's reasons with `secret` (the
/// secret id or JWT) and anything JWT-shaped masked.
pub fn refusal(
    method: VaultAuth,
    path: &str,
    status: u16,
    errors: &[String],
    secret: &str,
) -> Error {
    let reasons: Vec<String> =
        errors.iter().map(|e| mask(e, secret)).filter(|e| !e.is_empty()).collect();
    let why = if reasons.is_empty() { "no reason given".to_owned() } else { reasons.join("; ") };
    let hint = match method {
        VaultAuth::Approle => {
            "check role_id and the secret id in secret_id_file (a secret id can expire or run out of uses: `bao write -f auth/approle/role/ROLE/secret-id` makes a new one)"
        }
        _ => {
            "check [vault] role, the role's bound_audiences / bound_claims / bound_subject against the JWT's claims, and that the JWT is fresh"
        }
    };
    Error::StoreUnavailable {
        store: "vault",
        reason: format!("the {} at {path} was refused (HTTP {status}): {why}", method_name(method)),
        hint: Some(hint.to_owned()),
    }
}

fn method_name(method: VaultAuth) -> &'static str {
    match method {
        VaultAuth::Approle => "approle login",
        VaultAuth::Jwt => "jwt login",
        VaultAuth::Token => "token",
    }
}

/// `text` with every word that holds a piece of `secret` (8 characters or more: a server may
/// quote a JWT's parts, or the start of a secret id) or looks like a JWT masked.
pub fn mask(text: &str, secret: &str) -> String {
    const PIECE: usize = 8;
    let pieces: Vec<&str> = if secret.len() >= PIECE {
        (0..=secret.len() - PIECE).filter_map(|i| secret.get(i..i + PIECE)).collect()
    } else {
        Vec::new()
    };
    let short = secret.len() >= 4 && secret.len() < PIECE;
    text.split(' ')
        .map(|w| {
            if looks_like_jwt(w) {
                "<redacted jwt>"
            } else if pieces.iter().any(|p| w.contains(p)) || (short && w.contains(secret)) {
                "<redacted>"
            } else {
                w
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Who a JWT names, for the cache key: its `iss`, `sub` and `aud` claims (read, not verified:
/// the server verifies it; this only keeps two identities' tokens apart). Empty when the claims
/// cannot be read.
pub fn jwt_who(jwt: &str) -> String {
    use base64::Engine;
    #[derive(Deserialize)]
    struct Claims {
        iss: Option<String>,
        sub: Option<String>,
        aud: Option<serde_json::Value>,
    }
    let Some(payload) = jwt.split('.').nth(1) else { return String::new() };
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let Ok(bytes) = engine.decode(payload.trim_end_matches('=')) else { return String::new() };
    let bytes = Zeroizing::new(bytes);
    let parsed =
        crate::error::shield_or(|| serde_json::from_slice::<Claims>(&bytes).map_err(drop), || ());
    match parsed {
        Ok(c) => serde_json::json!([c.iss, c.sub, c.aud]).to_string(),
        Err(()) => String::new(),
    }
}

/// `eyJ…` with at least two dots: a JWT (its header is base64url JSON).
fn looks_like_jwt(word: &str) -> bool {
    let w = word.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    w.starts_with("eyJ") && w.matches('.').count() >= 2
}

#[cfg(test)]
mod tests;
