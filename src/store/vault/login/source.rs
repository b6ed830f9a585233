//! Where a login's credentials come from, read and checked before anything is sent: the AppRole
//! secret id from `secret_id_file`, and the JWT from `jwt_file`, from the variable `jwt_env`
//! names (GitLab's `id_tokens`), or on GitHub Actions from its OIDC token service. Secret files
//! are the user's (a symlink is followed) but trusted only under strict modes (docs/spec.md §2: a
//! regular file of the user's, not readable by group or others), read with a cap, trimmed and
//! zeroized. No error here ever carries a secret id, a JWT or the request token.

use std::io::Read;
use std::path::Path;

use reqwest::Url;
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderValue};
use serde::Deserialize;
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::settings::VaultSettings;

/// GitHub Actions: the OIDC token service's URL and its bearer token, set for a job with
/// `permissions: id-token: write`.
pub const GITHUB_URL: &str = "ACTIONS_ID_TOKEN_REQUEST_URL";
pub const GITHUB_TOKEN: &str = "ACTIONS_ID_TOKEN_REQUEST_TOKEN";

/// Longest secret id or JWT we accept (GitHub's and GitLab's JWTs are 1–2 KiB).
const MAX_SECRET: usize = 16 << 10;
/// Largest answer of the OIDC token service.
const MAX_ANSWER: u64 = 64 << 10;

/// A credential: zeroized on drop, never printed.
pub type Secret = Zeroizing<String>;

/// Where the JWT of a jwt login comes from.
#[derive(Debug)]
pub enum JwtSource {
    /// `jwt_file`.
    File(std::path::PathBuf),
    /// The variable `jwt_env` names.
    Env(String),
    /// GitHub Actions' OIDC token service: the request URL with the audience added.
    GitHub(Url),
}

impl JwtSource {
    /// For messages: where the JWT came from, never the JWT.
    pub fn describe(&self) -> String {
        match self {
            JwtSource::File(p) => format!("jwt_file {}", p.display()),
            JwtSource::Env(var) => format!("${var}"),
            JwtSource::GitHub(_) => "GitHub Actions' OIDC token".to_owned(),
        }
    }
}

/// The secret id of an AppRole login, from `secret_id_file`.
pub fn secret_id(cfg: &VaultSettings) -> Result<Secret> {
    let path = cfg.secret_id_file.as_deref().ok_or_else(|| Error::InvalidValue {
        what: "[vault] secret_id_file",
        message: "auth = \"approle\" needs secret_id_file (the file that holds the secret id)"
            .into(),
    })?;
    read_secret_file(path, "secret_id_file")
}

/// Where the JWT comes from: `jwt_file`, else `jwt_env`, else GitHub Actions when both of its
/// variables are set. `env` reads one variable.
pub fn jwt_source(cfg: &VaultSettings, env: &dyn Fn(&str) -> Option<String>) -> Result<JwtSource> {
    if let Some(p) = &cfg.jwt_file {
        return Ok(JwtSource::File(p.clone()));
    }
    if let Some(var) = &cfg.jwt_env {
        return Ok(JwtSource::Env(var.clone()));
    }
    let set = |v: &str| env(v).filter(|s| !s.trim().is_empty());
    match (set(GITHUB_URL), set(GITHUB_TOKEN)) {
        (Some(url), Some(_)) => Ok(JwtSource::GitHub(github_url(&url, cfg.audience.as_deref())?)),
        _ => Err(Error::StoreUnavailable {
            store: "vault",
            reason: "auth = \"jwt\" found no JWT: neither jwt_file nor jwt_env is set, and this is not a GitHub Actions job that may request an OIDC token".into(),
            hint: Some(format!(
                "set [vault] jwt_file, or jwt_env = \"VAR\" (GitLab: the variable of an `id_tokens` entry); on GitHub Actions give the job `permissions: id-token: write` (it sets {GITHUB_URL} and {GITHUB_TOKEN})"
            )),
        }),
    }
}

/// The OIDC token request of GitHub Actions: its URL (which already has a query) with
/// `audience` added. Only `https://`, or `http://` to a loopback address (tests).
pub fn github_url(request_url: &str, audience: Option<&str>) -> Result<Url> {
    let bad = |why: &str| Error::StoreUnavailable {
        store: "vault",
        reason: format!("{GITHUB_URL} is not usable: {why}"),
        hint: None,
    };
    let mut url = Url::parse(request_url.trim()).map_err(|_| bad("not a URL"))?;
    let host = url.host_str().unwrap_or("").to_owned();
    match url.scheme() {
        "https" => {}
        "http" if crate::settings::is_loopback(&host) => {}
        _ => return Err(bad("it must be an https:// URL")),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("it holds credentials"));
    }
    if let Some(aud) = audience {
        url.query_pairs_mut().append_pair("audience", aud);
    }
    Ok(url)
}

/// Reads the JWT from `source`; `http` makes the request to GitHub Actions (within `timeout`).
pub fn read_jwt(
    source: &JwtSource,
    env: &dyn Fn(&str) -> Option<String>,
    http: &reqwest::blocking::Client,
    timeout: std::time::Duration,
) -> Result<Secret> {
    let jwt = match source {
        JwtSource::File(p) => read_secret_file(p, "jwt_file")?,
        JwtSource::Env(var) => {
            let value = Zeroizing::new(env(var).unwrap_or_default());
            let trimmed = Zeroizing::new(value.trim().to_owned());
            if trimmed.is_empty() {
                return Err(Error::StoreUnavailable {
                    store: "vault",
                    reason: format!("[vault] jwt_env names ${var}, which is not set or empty"),
                    hint: Some(format!(
                        "GitLab: declare it under `id_tokens:` of the job (`{var}: {{aud: …}}`); elsewhere export it"
                    )),
                });
            }
            trimmed
        }
        JwtSource::GitHub(url) => github_jwt(url, env, http, timeout)?,
    };
    check_jwt(&jwt, &source.describe())?;
    Ok(jwt)
}

/// `GET <url>` with `Authorization: bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN`; the JWT is the
/// answer's `value`.
fn github_jwt(
    url: &Url,
    env: &dyn Fn(&str) -> Option<String>,
    http: &reqwest::blocking::Client,
    timeout: std::time::Duration,
) -> Result<Secret> {
    let failed = |why: String| {
        Error::StoreUnavailable {
        store: "vault",
        reason: format!("GitHub Actions' OIDC token request failed: {why}"),
        hint: Some(
            "the job needs `permissions: id-token: write`; check [vault] audience against the jwt role's bound_audiences".into(),
        ),
    }
    };
    let bearer = Zeroizing::new(format!("bearer {}", env(GITHUB_TOKEN).unwrap_or_default().trim()));
    let mut auth = HeaderValue::from_str(&bearer)
        .map_err(|_| failed(format!("{GITHUB_TOKEN} cannot be sent in an HTTP header")))?;
    auth.set_sensitive(true);
    let resp = http
        .get(url.clone())
        .header(AUTHORIZATION, auth)
        .header(ACCEPT, "application/json; api-version=2.0")
        .timeout(timeout)
        .send()
        .map_err(|e| failed(if e.is_timeout() { "timed out".into() } else { without_url(&e) }))?;
    let status = resp.status().as_u16();
    let mut body = Zeroizing::new(Vec::new());
    resp.take(MAX_ANSWER + 1)
        .read_to_end(&mut body)
        .map_err(|e| failed(format!("reading the answer: {e}")))?;
    if body.len() as u64 > MAX_ANSWER {
        return Err(failed("the answer is too large".into()));
    }
    if !(200..300).contains(&status) {
        return Err(failed(format!("HTTP {status}")));
    }
    #[derive(Deserialize)]
    struct Answer {
        value: Option<String>,
    }
    let parsed =
        crate::error::shield_or(|| serde_json::from_slice::<Answer>(&body).map_err(drop), || ());
    match parsed {
        Ok(Answer { value: Some(v) }) => Ok(Zeroizing::new(v)),
        _ => Err(failed("the answer has no `value`".into())),
    }
}

/// A reqwest error without its URL (the URL is GitHub's, but keep messages short and plain).
fn without_url(e: &reqwest::Error) -> String {
    let mut out = String::new();
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(s) = source {
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&s.to_string());
        source = s.source();
    }
    if out.is_empty() { "the request failed".to_owned() } else { out }
}

/// A JWT's shape: three base64url parts (header, claims, signature), nothing else, the header
/// a JSON object (base64url of `{"` or `{ ` starts with `ey`).
fn check_jwt(jwt: &str, from: &str) -> Result<()> {
    let parts: Vec<&str> = jwt.split('.').collect();
    let b64 = |p: &&str| p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    let shaped = jwt.len() <= MAX_SECRET
        && parts.len() == 3
        && parts[0].starts_with("ey")
        && !parts[1].is_empty()
        && parts.iter().all(b64);
    if !shaped {
        return Err(Error::StoreUnavailable {
            store: "vault",
            reason: format!("{from} does not hold a JWT (three base64url parts separated by dots)"),
            hint: None,
        });
    }
    Ok(())
}

/// A secret from a file of the user's: strict modes, capped, UTF-8, trimmed, one word.
fn read_secret_file(path: &Path, key: &'static str) -> Result<Secret> {
    let bytes =
        crate::fsutil::read(path, crate::fsutil::FileKind::UserSecret)?.ok_or_else(|| {
            Error::StoreUnavailable {
                store: "vault",
                reason: format!("[vault] {key} {} does not exist", path.display()),
                hint: None,
            }
        })?;
    let bad = |why: &str| Error::StoreUnavailable {
        store: "vault",
        reason: format!("[vault] {key} {}: {why}", path.display()),
        hint: None,
    };
    let text = std::str::from_utf8(&bytes).map_err(|_| bad("not UTF-8 text"))?;
    let value = Zeroizing::new(text.trim().to_owned());
    if value.is_empty() {
        return Err(bad("the file is empty"));
    }
    if value.len() > MAX_SECRET {
        return Err(bad("longer than a credential can be"));
    }
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad("holds more than one word (a credential is one line without spaces)"));
    }
    Ok(value)
}
