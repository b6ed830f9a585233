//! HTTP to an OpenBao / Vault server: a blocking reqwest client over rustls (ring provider, no
//! OpenSSL), an optional CA file, `X-Vault-Namespace`, `X-Vault-Token` (marked sensitive), no
//! automatic redirects, and answers capped at 1 MiB. The client holds no token: every call is
//! given the one to send (or none, for logins).
//!
//! High availability (docs/spec.md §12): a request goes to the first address that answers. What a
//! healthy cluster answers briefly while it changes its mind is retried, across the addresses
//! and with backoff, until `vault_timeout` is spent ([`transient`]): 503 (sealed, no active
//! node), a refused or failed connection, 502/504, 429, 412, the 400 "upgrading" answer of a KV
//! mount being upgraded, and a 307/308 redirect from a standby to an address that is not ours.
//! One exception: a lone address (no `addrs` to fail over to) that refuses the connection is
//! an answer, given at once: nothing listens there. A failure after a followed redirect is
//! reported as such (`307 redirect to <active>, which gave no answer: …`) under the address
//! that redirected. A
//! redirect is followed only to an address of `addrs`: the same scheme, host and port
//! ([`redirect_allowed`]); a redirect elsewhere (another port of the same host included) would
//! hand our token to a stranger.

use std::io::Read;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use reqwest::Method;
use reqwest::Url;
use reqwest::header::{CONTENT_TYPE, HeaderValue, LOCATION};

use crate::error::{Error, Result};
use crate::secret::{SecretBytes, Token};
use crate::settings::VaultTarget;

mod classify;
mod text;
mod tls;
pub use classify::{SEALED, Verdict, redirect_allowed, transient};
pub use text::clean;
use text::{chain, errors_of, first_error};

/// Largest answer we read.
pub const MAX_BODY: u64 = 1 << 20;
/// Redirects followed for one request.
const MAX_HOPS: usize = 3;
/// Why an address gave no answer when the time was up.
const OUT_OF_TIME: &str = "no answer in time";

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
                    Err(miss) => {
                        let at = origin(addr);
                        crate::ui::verbose(format!("vault {at}: {}", miss.why));
                        // A lone address where nothing listens is an answer: no cluster is
                        // there to take over, so waiting out the timeout tells nothing more.
                        if miss.refused && self.target.addrs.len() == 1 {
                            return Err(self.refused(&at, &miss.why));
                        }
                        // The first real reason per address is kept: a later "no answer in
                        // time" says less than "connection refused" or "sealed".
                        match tried.iter_mut().find(|(a, _)| *a == at) {
                            Some((_, old)) if miss.why != OUT_OF_TIME => *old = miss.why,
                            Some(_) => {}
                            None => tried.push((at, miss.why)),
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
    /// failure ([`Miss`]); the outer one is not worth a retry (a bad header value, an answer
    /// over the cap). A failure after a redirect says where the redirect pointed: a standby
    /// naming a dead active node is not the standby refusing.
    fn attempt(
        &self,
        method: &Method,
        mut url: Url,
        body: Option<&[u8]>,
        token: Option<&Token>,
        deadline: Instant,
    ) -> Result<std::result::Result<Reply, Miss>> {
        // "307 redirect to <origin>" once a redirect was followed.
        let mut via: Option<String> = None;
        let miss = |via: &Option<String>, why: String| match via {
            None => Miss { why, refused: false },
            Some(v) => Miss { why: format!("{v}, which gave no answer: {why}"), refused: false },
        };
        for _ in 0..=MAX_HOPS {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(Err(miss(&None, OUT_OF_TIME.into())));
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
                Err(e) if e.is_timeout() => return Ok(Err(miss(&via, "timed out".into()))),
                Err(e) => {
                    let refused = via.is_none() && is_refused(&e);
                    let why = chain(&e.without_url());
                    return Ok(Err(Miss { refused, ..miss(&via, why) }));
                }
            };
            let status = resp.status().as_u16();
            let location =
                resp.headers().get(LOCATION).and_then(|v| v.to_str().ok()).map(str::to_owned);
            let body = match read_capped(resp) {
                Ok(b) => b,
                Err(Capped::Io(why)) => return Ok(Err(miss(&via, why))),
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
                Verdict::Retry(why) => return Ok(Err(miss(&via, why))),
                Verdict::Follow(next) => {
                    crate::ui::verbose(format!("vault: {status} redirect to {}", origin(&next)));
                    via = Some(format!("{status} redirect to {}", origin(&next)));
                    url = next;
                }
            }
        }
        Ok(Err(miss(&None, format!("more than {MAX_HOPS} redirects"))))
    }

    /// The error of a lone address that refused the connection.
    fn refused(&self, at: &str, why: &str) -> Error {
        Error::StoreUnavailable {
            store: "vault",
            reason: format!(
                "the vault server {at} ({}) refused the connection: nothing listens there ({why})",
                self.target.addrs_from
            ),
            hint: Some(
                "start the server, or check the address (BAO_ADDR, [vault] addr/addrs); with several addresses ([vault] addrs) a refusal is retried until vault_timeout".into(),
            ),
        }
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

/// Why one try of one address gave no answer (transient).
struct Miss {
    /// In words, for the final message.
    why: String,
    /// The address itself (not a redirect's target) refused the connection.
    refused: bool,
}

/// Whether a transport error is a refused connection (nothing listens at that port).
fn is_refused(e: &reqwest::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::ConnectionRefused
        {
            return true;
        }
        source = s.source();
    }
    false
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

#[cfg(test)]
mod tests;
