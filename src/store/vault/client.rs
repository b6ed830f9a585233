//! HTTP to an OpenBao / Vault server: a blocking reqwest client over rustls (ring provider, no
//! OpenSSL), an optional CA file, `X-Vault-Namespace`, `X-Vault-Token` (marked sensitive), no
//! automatic redirects, and answers capped at 1 MiB. The client holds no token: every call is
//! given the one to send (or none, for logins).
//!
//! High availability (SPEC §12): a request goes to the first address that answers. What a
//! healthy cluster answers briefly while it changes its mind is retried, across the addresses
//! and with backoff, until `vault_timeout` is spent ([`transient`]): 503 (sealed, no active
//! node), a refused or failed connection, 502/504, 429, 412, the 400 "upgrading" answer of a KV
//! mount being upgraded, and a 307/308 redirect from a standby to an address that is not ours. A
//! redirect is followed only to an address of `addrs`, or to the scheme and host of one
//! ([`redirect_allowed`]): a redirect elsewhere would hand our token to a stranger.

use std::io::Read;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use reqwest::Method;
use reqwest::Url;
use reqwest::header::{CONTENT_TYPE, HeaderValue, LOCATION};
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::secret::{SecretBytes, Token};
use crate::settings::VaultTarget;

mod classify;
mod tls;
pub use classify::{SEALED, Verdict, redirect_allowed, transient};

/// Largest answer we read.
pub const MAX_BODY: u64 = 1 << 20;
/// Redirects followed for one request.
const MAX_HOPS: usize = 3;
/// Why an address gave no answer when the time was up.
const OUT_OF_TIME: &str = "no answer in time";
/// Longest server message we repeat.
const MAX_MESSAGE: usize = 300;

/// One answer of the server that is not retried: its status and body (zeroized: a KV read
/// holds the stored token, a login the new vault token).
pub struct Reply {
    pub status: u16,
    pub body: SecretBytes,
}

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Reply {{ status: {}, body: <{} bytes> }}", self.status, self.body.len())
    }
}

impl Reply {
    /// Whether the status is 2xx.
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The server's `errors` strings, cleaned of control characters and shortened; `token`
    /// (ours) and anything that looks like a management token are masked.
    pub fn errors(&self, token: Option<&Token>) -> Vec<String> {
        errors_of(&self.body, token)
    }
}

/// The HTTP client of the vault store. Built on the first verb that needs the server.
pub struct Client {
    http: reqwest::blocking::Client,
    /// Whether `http` trusts any root: only when an address is `https://` (see [`Client::new`]).
    tls: bool,
    /// A client with the system's roots (and `ca`), for a login's request to another server
    /// when `http` has none; built on first use.
    outside: OnceLock<reqwest::blocking::Client>,
    target: VaultTarget,
    timeout: Duration,
}

impl Client {
    /// Builds the HTTP client for `target`. No request is made here. The TLS roots (the
    /// system's CA bundle, read and parsed, and the `ca` file) are loaded only when an address
    /// is `https://`: for a plain-http loopback server they would be most of a `get`'s time.
    pub fn new(target: VaultTarget, timeout: Duration) -> Result<Client> {
        let tls = target.addrs.iter().any(|a| a.scheme() == "https");
        let http = tls::build(&target, timeout, tls)?;
        Ok(Client { http, tls, outside: OnceLock::new(), target, timeout })
    }

    /// The reqwest client of the vault requests (no redirects; no TLS roots when every
    /// address is `http://`).
    pub fn http(&self) -> &reqwest::blocking::Client {
        &self.http
    }

    /// A client that trusts the system's roots and `ca`, for requests to other servers a
    /// login needs (GitHub Actions' OIDC token): [`Client::http`] when it has them, else one
    /// built now.
    pub fn http_outside(&self) -> Result<&reqwest::blocking::Client> {
        if self.tls {
            return Ok(&self.http);
        }
        if let Some(c) = self.outside.get() {
            return Ok(c);
        }
        // Another thread may have set it meanwhile; either client serves.
        let _ = self.outside.set(tls::build(&self.target, self.timeout, true)?);
        self.outside.get().ok_or_else(|| Error::Other("the https client was not kept".into()))
    }

    /// Where requests go.
    pub fn target(&self) -> &VaultTarget {
        &self.target
    }

    /// `vault_timeout`.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// `GET /v1/<path>`.
    pub fn get_raw(&self, path: &str, token: Option<&Token>) -> Result<Reply> {
        self.send(Method::GET, path, None, token)
    }

    /// `POST /v1/<path>` with a JSON body.
    pub fn post_raw(&self, path: &str, body: &[u8], token: Option<&Token>) -> Result<Reply> {
        self.send(Method::POST, path, Some(body), token)
    }

    /// `DELETE /v1/<path>`.
    pub fn delete_raw(&self, path: &str, token: Option<&Token>) -> Result<Reply> {
        self.send(Method::DELETE, path, None, token)
    }

    /// `LIST /v1/<path>` (sent as `GET …?list=true`, which both servers accept).
    pub fn list_raw(&self, path: &str, token: Option<&Token>) -> Result<Reply> {
        self.send(Method::GET, &format!("{path}?list=true"), None, token)
    }

    /// Sends one request, retrying what is transient across the addresses until
    /// `vault_timeout`; any other answer is the caller's.
    pub fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&[u8]>,
        token: Option<&Token>,
    ) -> Result<Reply> {
        let deadline = Instant::now() + self.timeout;
        let mut backoff = Duration::from_millis(100);
        let mut tried: Vec<(String, String)> = Vec::new();
        loop {
            for addr in &self.target.addrs {
                let url = api_url(addr, path)?;
                match self.attempt(&method, url, body, token, deadline)? {
                    Ok(reply) => return Ok(reply),
                    Err(why) => {
                        let at = origin(addr);
                        crate::ui::verbose(format!("vault {at}: {why}"));
                        // The first real reason per address is kept: a later "no answer in
                        // time" says less than "connection refused" or "sealed".
                        match tried.iter_mut().find(|(a, _)| *a == at) {
                            Some((_, old)) if why != OUT_OF_TIME => *old = why,
                            Some(_) => {}
                            None => tried.push((at, why)),
                        }
                    }
                }
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(self.gave_up(&tried));
            }
            std::thread::sleep(backoff.min(left));
            backoff = (backoff * 2).min(Duration::from_secs(1));
        }
    }

    /// One request to `url`, following allowed redirects. The inner `Err` is a transient
    /// failure, said in words for the final message; the outer one is not worth a retry (a bad
    /// header value, an answer over the cap).
    fn attempt(
        &self,
        method: &Method,
        mut url: Url,
        body: Option<&[u8]>,
        token: Option<&Token>,
        deadline: Instant,
    ) -> Result<std::result::Result<Reply, String>> {
        for _ in 0..=MAX_HOPS {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(Err(OUT_OF_TIME.into()));
            }
            let mut req = self.http.request(method.clone(), url.clone()).timeout(left);
            req = req.header("X-Vault-Request", "true");
            if let Some(ns) = self.target.namespace.as_ref().filter(|_| !root_only(url.path())) {
                let v = HeaderValue::from_str(ns).map_err(|_| Error::InvalidValue {
                    what: "vault namespace",
                    message: "not a valid header value".into(),
                })?;
                req = req.header("X-Vault-Namespace", v);
            }
            if let Some(t) = token {
                let mut v = HeaderValue::from_str(t.expose()).map_err(|_| Error::InvalidToken {
                    reason: "the vault token cannot be sent in an HTTP header",
                })?;
                v.set_sensitive(true);
                req = req.header("X-Vault-Token", v);
            }
            if let Some(b) = body {
                req = req.header(CONTENT_TYPE, "application/json").body(b.to_vec());
            }
            let resp = match req.send() {
                Ok(r) => r,
                Err(e) if e.is_timeout() => return Ok(Err("timed out".into())),
                Err(e) => return Ok(Err(chain(&e.without_url()))),
            };
            let status = resp.status().as_u16();
            let location =
                resp.headers().get(LOCATION).and_then(|v| v.to_str().ok()).map(str::to_owned);
            let body = match read_capped(resp) {
                Ok(b) => b,
                Err(Capped::Io(why)) => return Ok(Err(why)),
                Err(Capped::TooLarge) => {
                    return Err(Error::StoreUnavailable {
                        store: "vault",
                        reason: format!(
                            "{} answered more than {} KiB; refused",
                            origin(&url),
                            MAX_BODY >> 10
                        ),
                        hint: None,
                    });
                }
            };
            match transient(status, &body, location.as_deref(), &url, &self.target.addrs) {
                Verdict::Answer => return Ok(Ok(Reply { status, body })),
                Verdict::Retry(why) => return Ok(Err(why)),
                Verdict::Follow(next) => {
                    crate::ui::verbose(format!("vault: {status} redirect to {}", origin(&next)));
                    url = next;
                }
            }
        }
        Ok(Err(format!("more than {MAX_HOPS} redirects")))
    }

    fn gave_up(&self, tried: &[(String, String)]) -> Error {
        if !tried.is_empty() && tried.iter().all(|(_, why)| why == SEALED) {
            let addrs: Vec<&str> = tried.iter().map(|(a, _)| a.as_str()).collect();
            let (what, them) = match addrs.len() {
                1 => ("the vault server is", "it"),
                _ => ("every vault server is", "them"),
            };
            return Error::StoreUnavailable {
                store: "vault",
                reason: format!(
                    "{what} sealed ({}): {}; still sealed after {}s",
                    self.target.addrs_from,
                    addrs.join(", "),
                    self.timeout.as_secs_f64().ceil() as u64
                ),
                hint: Some(format!(
                    "unseal {them} (`bao operator unseal`, or the cluster's auto-unseal); `bao status` shows the seal state"
                )),
            };
        }
        let tried: Vec<String> = tried.iter().map(|(a, why)| format!("{a}: {why}")).collect();
        Error::StoreUnavailable {
            store: "vault",
            reason: format!(
                "no vault server answered within {}s ({}): {}",
                self.timeout.as_secs_f64().ceil() as u64,
                self.target.addrs_from,
                tried.join("; ")
            ),
            hint: Some(
                "check that the server is running and unsealed (`bao status`), the address (BAO_ADDR, [vault] addr/addrs), or raise [vault] vault_timeout".into(),
            ),
        }
    }
}

/// The status endpoints that exist only in the root namespace (in a namespace they answer as
/// an uninitialized server): sent without `X-Vault-Namespace`.
fn root_only(path: &str) -> bool {
    ["/v1/sys/health", "/v1/sys/seal-status", "/v1/sys/leader"].contains(&path)
}

/// `<addr>/v1/<path>`; `path` is built by us from checked parts.
fn api_url(addr: &Url, path: &str) -> Result<Url> {
    addr.join(&format!("v1/{path}"))
        .map_err(|e| Error::InvalidRequest(format!("cannot build the vault URL: {e}")))
}

/// `scheme://host:port` of `url`, for messages (never a path or query).
pub fn origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}

enum Capped {
    /// The connection broke while reading: transient.
    Io(String),
    /// More than [`MAX_BODY`]: refused.
    TooLarge,
}

fn read_capped(resp: reqwest::blocking::Response) -> std::result::Result<SecretBytes, Capped> {
    let cap = resp.content_length().unwrap_or(0).min(MAX_BODY) as usize;
    let mut buf = SecretBytes::new(Vec::with_capacity(cap.max(512)));
    resp.take(MAX_BODY + 1)
        .read_to_end(&mut buf)
        .map_err(|e| Capped::Io(format!("reading the answer: {e}")))?;
    if buf.len() as u64 > MAX_BODY {
        return Err(Capped::TooLarge);
    }
    Ok(buf)
}

#[derive(Deserialize)]
struct ErrorsBody {
    #[serde(default)]
    errors: Vec<String>,
}

fn errors_of(body: &[u8], token: Option<&Token>) -> Vec<String> {
    let parsed: Option<ErrorsBody> = serde_json::from_slice(body).ok();
    parsed.map(|b| b.errors).unwrap_or_default().iter().map(|e| clean(e, token)).collect()
}

fn first_error(body: &[u8]) -> Option<String> {
    errors_of(body, None).into_iter().find(|e| !e.is_empty())
}

/// A server message made safe to print: our token masked, management tokens redacted, no
/// control characters, at most [`MAX_MESSAGE`] characters.
pub fn clean(text: &str, token: Option<&Token>) -> String {
    // Invisible characters go first, so that none can hide a token from the masks below.
    let visible: String = text
        .chars()
        .filter(|c| !crate::error::is_invisible(*c))
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let masked = match token.filter(|t| !t.expose().is_empty()) {
        Some(t) => visible.replace(t.expose(), "<redacted vault token>"),
        None => visible,
    };
    let s = crate::error::redact(&masked);
    let mut out: String = s.chars().take(MAX_MESSAGE).collect();
    if s.chars().count() > MAX_MESSAGE {
        out.push('…');
    }
    out.trim().to_owned()
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests;
