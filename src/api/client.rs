//! The HTTP side of the Management API: a blocking reqwest client over rustls (ring provider,
//! no OpenSSL), `Authorization: Bearer <management token>`, bounded connect and total timeouts,
//! no redirects (a redirect could carry the token elsewhere), capped response bodies, and the
//! mapping of every failure to a typed [`Error`]:
//!
//! | what happened | error | kind (exit) |
//! |---|---|---|
//! | 401 / 403 | [`Error::ApiRejected`] (invalid / under-privileged token) | `api-error` (9) |
//! | any other non-2xx, or a 2xx body that is not the documented JSON | [`Error::Api`] with the server's `{code, message}` | `api-error` (9) |
//! | no answer: DNS, connect, TLS, timeout | [`Error::ApiUnreachable`] | `other` (1) |
//!
//! Neither the management token nor a created `accessToken` is ever logged or put in an error;
//! server messages are cleaned of control characters, shortened, and have our token masked.

use std::io::Read;
use std::sync::{Arc, Once};
use std::time::Duration;

use reqwest::Method;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use serde::de::DeserializeOwned;
use zeroize::Zeroizing;

use super::endpoint::Endpoint;
use super::types::{ApiErrorBody, CreateDatabaseToken, CreatedDatabaseToken, Database};
use crate::error::{Error, Result};
use crate::secret::{SecretBytes, Token};

/// Largest response body we read.
const MAX_BODY: u64 = 1 << 20;

/// Longest server message we repeat.
const MAX_MESSAGE: usize = 300;

/// The environment variable that sets the total timeout of one request (`30s`, `2m`).
pub const TIMEOUT_ENV: &str = "INFLUXCTL_CRED_API_TIMEOUT";

/// How long we wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// TCP connect plus TLS handshake.
    pub connect: Duration,
    /// The whole request, body included.
    pub total: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts { connect: Duration::from_secs(10), total: Duration::from_secs(30) }
    }
}

impl Timeouts {
    /// The defaults, with the total from `INFLUXCTL_CRED_API_TIMEOUT` when set (connect is
    /// then capped by it too).
    pub fn from_env() -> Result<Timeouts> {
        let mut t = Timeouts::default();
        if let Some(text) = std::env::var(TIMEOUT_ENV).ok().filter(|s| !s.trim().is_empty()) {
            let d = crate::duration::parse(&text).map_err(|e| e.context(TIMEOUT_ENV))?;
            let secs = u64::try_from(d.as_secs()).unwrap_or(0).max(1);
            t.total = Duration::from_secs(secs);
            t.connect = t.connect.min(t.total);
        }
        Ok(t)
    }
}

/// A client for one profile's Management API. Cheap to clone (the connection pool is shared).
#[derive(Debug, Clone)]
pub struct ApiClient {
    http: reqwest::blocking::Client,
    endpoint: Arc<Endpoint>,
    token: Token,
    profile: String,
}

impl ApiClient {
    /// Builds the HTTP client: TLS options of the profile, timeouts, no redirects.
    pub fn new(endpoint: Endpoint, token: Token, profile: &str, t: Timeouts) -> Result<ApiClient> {
        install_crypto_provider();
        let mut b = reqwest::blocking::Client::builder()
            .connect_timeout(t.connect)
            .timeout(t.total)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("influxctl-cred/", env!("CARGO_PKG_VERSION")));
        if let Some(ca) = &endpoint.tls.ca {
            b = b.tls_certs_merge(pem_certificates(ca, "[profile.tls] ca")?);
        }
        if endpoint.tls.insecure {
            crate::ui::warn(format!(
                "profile {profile:?} has [profile.tls] insecure = true: the server's certificate is not checked"
            ));
            b = b.tls_danger_accept_invalid_certs(true);
        }
        if endpoint.tls.cert.is_some() || endpoint.tls.key.is_some() {
            crate::ui::verbose("[profile.tls] cert/key are not used for the Management API");
        }
        let http =
            b.build().map_err(|e| Error::Other(format!("cannot set up HTTPS: {}", chain(&e))))?;
        Ok(ApiClient { http, endpoint: Arc::new(endpoint), token, profile: profile.to_owned() })
    }

    /// Where requests go.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The profile whose management token this client sends.
    pub fn profile(&self) -> &str {
        &self.profile
    }

    /// `GET …/databases` (`GetClusterDatabases`).
    pub fn list_databases(&self) -> Result<Vec<Database>> {
        let body = self.send(Method::GET, "/databases", None, None)?;
        self.parse(&body, 200)
    }

    /// `POST …/tokens` (`CreateDatabaseToken`). The answer holds the new token's secret.
    pub fn create_database_token(&self, req: &CreateDatabaseToken) -> Result<CreatedDatabaseToken> {
        let json = serde_json::to_vec(req).map_err(|e| Error::Other(e.to_string()))?;
        let body = self.send(Method::POST, "/tokens", Some(json), None)?;
        self.parse(&body, 200)
    }

    /// `DELETE …/tokens/{id}` (`DeleteDatabaseToken`). `Ok(false)` when the server no longer
    /// knows the token (404), which is what we wanted anyway.
    pub fn delete_database_token(&self, id: &str, timeout: Option<Duration>) -> Result<bool> {
        check_id(id)?;
        match self.send(Method::DELETE, &format!("/tokens/{id}"), None, timeout) {
            Ok(_) => Ok(true),
            Err(Error::Api { status: Some(404), .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// One request; the body of a 2xx answer, or the mapped error.
    fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
        timeout: Option<Duration>,
    ) -> Result<SecretBytes> {
        let url = self.endpoint.url(path);
        crate::ui::verbose(format!("{method} {url}"));
        let mut auth = Zeroizing::new(String::with_capacity(self.token.expose().len() + 7));
        auth.push_str("Bearer ");
        auth.push_str(self.token.expose());
        let mut value = HeaderValue::from_str(&auth).map_err(|_| Error::InvalidToken {
            reason: "the token cannot be sent in an HTTP header",
        })?;
        value.set_sensitive(true);
        let mut req = self
            .http
            .request(method, &url)
            .header(AUTHORIZATION, value)
            .header(ACCEPT, "application/json");
        if let Some(body) = body {
            req = req.header(CONTENT_TYPE, "application/json").body(body);
        }
        if let Some(t) = timeout {
            req = req.timeout(t);
        }
        let unreachable = |e: &reqwest::Error| Error::ApiUnreachable {
            url: url.clone(),
            reason: if e.is_timeout() { "timed out".to_owned() } else { chain(e) },
        };
        let resp = req.send().map_err(|e| unreachable(&e))?;
        let status = resp.status().as_u16();
        let cap = resp.content_length().unwrap_or(0).min(MAX_BODY) as usize;
        let mut buf = Zeroizing::new(Vec::with_capacity(cap.max(1024)));
        resp.take(MAX_BODY + 1).read_to_end(&mut buf).map_err(|e| Error::ApiUnreachable {
            url: url.clone(),
            reason: format!("reading the answer: {e}"),
        })?;
        if buf.len() as u64 > MAX_BODY {
            return Err(Error::Api {
                status: Some(status),
                code: None,
                message: format!("the answer is larger than {MAX_BODY} bytes"),
            });
        }
        if (200..300).contains(&status) {
            return Ok(buf);
        }
        Err(status_error(status, &buf, &self.profile, &self.token))
    }

    /// Parses a 2xx body. The error names where the JSON broke, never what it held.
    fn parse<T: DeserializeOwned>(&self, body: &[u8], status: u16) -> Result<T> {
        serde_json::from_slice(body).map_err(|e| Error::Api {
            status: Some(status),
            code: None,
            message: format!(
                "the answer is not the documented JSON ({:?} error at line {}, column {})",
                e.classify(),
                e.line(),
                e.column()
            ),
        })
    }
}

/// rustls needs one process-wide crypto provider; ours is ring (no C toolchain beyond ring's,
/// no OpenSSL).
fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Err means another provider was installed first, which serves as well.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// The error for a non-2xx answer.
pub fn status_error(status: u16, body: &[u8], profile: &str, token: &Token) -> Error {
    let parsed: Option<ApiErrorBody> = serde_json::from_slice(body).ok();
    let (code, message) = match parsed {
        Some(b) => (b.code, b.message),
        None => (None, None),
    };
    let reason = reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("error");
    let message = match message.map(|m| clean(&m, token)).filter(|m| !m.is_empty()) {
        Some(m) => m,
        None => reason.to_lowercase(),
    };
    let code = code.map(|c| clean(&c, token));
    match status {
        401 | 403 => Error::ApiRejected { profile: profile.to_owned(), status, code, message },
        _ => Error::Api { status: Some(status), code, message },
    }
}

/// A server's text made safe to print: one line, no control or invisible characters, our
/// token masked (also when the server split it with control or zero-width characters, or
/// echoed only a long prefix of it), at most [`MAX_MESSAGE`] characters.
fn clean(text: &str, token: &Token) -> String {
    let masked = mask_token(text, token.expose());
    let mut out: String = masked
        .chars()
        .filter(|c| !crate::error::is_invisible(*c))
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_MESSAGE)
        .collect();
    if masked.chars().count() > MAX_MESSAGE {
        out.push('…');
    }
    out.trim().to_owned()
}

/// The shortest run of `token` that counts as the token when a server echoes only its start:
/// `M.V1.` and 12 more characters.
const MIN_ECHOED_PREFIX: usize = 5 + 12;

/// `text` with every echo of `token` replaced by `<redacted>`: the whole token, or a prefix of
/// at least [`MIN_ECHOED_PREFIX`] characters (or all of a shorter token), where control and
/// invisible characters inside the echo are skipped.
pub fn mask_token(text: &str, token: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let tok: Vec<char> = token.chars().collect();
    let Some(&first) = tok.first() else { return text.to_owned() };
    let need = MIN_ECHOED_PREFIX.min(tok.len());
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == first {
            // Match as much of the token as possible, skipping what shows nothing.
            let (mut j, mut k) = (i, 0);
            while j < chars.len() && k < tok.len() {
                if chars[j] == tok[k] {
                    k += 1;
                    j += 1;
                } else if k > 0 && (chars[j].is_control() || crate::error::is_invisible(chars[j])) {
                    j += 1;
                } else {
                    break;
                }
            }
            if k >= need {
                out.push_str("<redacted>");
                i = j;
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// A database token id goes into a URL path: letters, digits, `-`, `_` only.
pub fn check_id(id: &str) -> Result<()> {
    if !id.is_empty()
        && id.len() <= 128
        && id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
    {
        Ok(())
    } else {
        Err(Error::Api {
            status: None,
            code: None,
            message: "the database token id is not a plain id".into(),
        })
    }
}

/// The causes of a reqwest error, most specific last, without repeats.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur = e.source();
    while let Some(err) = cur {
        let text = err.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cur = err.source();
    }
    if parts.is_empty() { e.to_string() } else { parts.join(": ") }
}

/// The certificates of the CA bundle at `ca`, named by `setting` (`[profile.tls] ca`, `[vault]
/// ca`): read as a CA certificate file (strict modes: it decides whom a token is sent to; never a
/// FIFO, at most 1 MiB), at least one PEM certificate.
pub fn pem_certificates(ca: &std::path::Path, setting: &str) -> Result<Vec<reqwest::Certificate>> {
    let pem = crate::fsutil::read(ca, crate::fsutil::FileKind::Certificate)?.ok_or_else(|| {
        Error::InvalidValue {
            what: "CA file",
            message: format!("{} does not exist ({setting})", ca.display()),
        }
    })?;
    reqwest::Certificate::from_pem_bundle(&pem).ok().filter(|c| !c.is_empty()).ok_or_else(|| {
        Error::ParseConfig {
            path: ca.to_owned(),
            message: format!("no PEM certificate found ({setting})"),
        }
    })
}

#[cfg(test)]
mod tests;
