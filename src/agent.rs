//! The agent (docs/spec.md §13, docs/agent.md): a small daemon that holds the secret keys of unlocked
//! passphrase-protected identities and opens age files with them for processes of the same
//! user, so that a passphrase is typed once per session (`unlock`) instead of on every read.
//! It never hands out a key: a client sends an entry file's bytes and gets the plaintext back.
//!
//! The socket is `agent.sock` in a 0700 runtime folder ([`runtime_dir`]); both ends refuse a
//! folder that is not ours or is open to others (as ssh does), and each checks the other's uid.
//! The wire protocol, one request per connection: a JSON header line (at most
//! [`MAX_HEADER`] bytes) followed by exactly `len` payload bytes, answered the same way.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::secret::SecretBytes;

#[cfg(unix)]
pub mod client;
#[cfg(unix)]
mod deadline;
#[cfg(unix)]
mod logins;
#[cfg(unix)]
mod peer;
#[cfg(unix)]
pub mod place;
#[cfg(unix)]
mod publics;
#[cfg(unix)]
pub mod server;

/// The socket's name in the runtime folder.
pub const SOCKET: &str = "agent.sock";
/// Longest header line either end reads.
pub const MAX_HEADER: usize = 4096;
/// Largest payload either end reads (an entry file is far smaller).
pub const MAX_PAYLOAD: usize = 2 << 20;
/// How long either end waits for the other to read or write before giving up.
pub const IO_TIMEOUT: Duration = Duration::from_secs(3);

/// A request's header.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    pub v: u32,
    pub op: Op,
    /// Payload length: the age file (`decrypt`) or the identity text (`add`).
    #[serde(default)]
    pub len: usize,
    /// `add`: how long to hold the keys (else the agent's TTL; at most 100 years, as on the
    /// command line).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_secs: Option<u64>,
    /// `login-put`, `login-get`, `login-drop`: the vault login's cache key (an opaque hex
    /// digest of the settings it belongs to, [`crate::store::vault::login::cache::Key`]).
    /// `add` and `recipients`: the hex SHA-256 of the encrypted identity file the keys came
    /// from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// What a client asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    Status,
    Decrypt,
    Add,
    Lock,
    /// Hold a vault login token (the payload, the login cache's JSON) under `key`.
    #[serde(rename = "login-put")]
    LoginPut,
    /// The payload `login-put` left under `key` (refused as "none" when there is none).
    #[serde(rename = "login-get")]
    LoginGet,
    /// Forget the login under `key` (the server refused it).
    #[serde(rename = "login-drop")]
    LoginDrop,
    /// Every login held, a JSON array of the payloads (for `lock`, which revokes them).
    Logins,
    /// The public keys (`age1…`, a JSON array) of the identity file `key` names, when its keys
    /// were added with that key (refused as "none" otherwise). Never a secret key.
    Recipients,
}

/// A response's header. `len` payload bytes follow (the plaintext of `decrypt`).
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Response {
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default)]
    pub len: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
}

/// What `status` (and `doctor`) show of a running agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    pub pid: u32,
    /// How many keys it holds (0: running but locked).
    pub identities: usize,
    /// How many vault login tokens it holds.
    #[serde(default)]
    pub logins: usize,
    /// Seconds until it forgets everything and exits (the TTL).
    pub ttl_left: u64,
    /// Seconds until it exits unless asked something (the idle timeout).
    pub idle_left: u64,
}

/// The agent's runtime folder: `$INFLUXCTL_CRED_HOME/run/` when that is set (so that every
/// home, and every test, has its own agent), else `$XDG_RUNTIME_DIR/influxctl-cred/`, else
/// `influxctl-cred/run/` in the user's state folder (`dirs::state_dir()`, else the data folder:
/// `~/.local/state` on Linux, `~/Library/Application Support` on macOS). Never a fixed name in
/// a shared folder such as `/tmp`, which another user could create first (docs/agent.md).
pub fn runtime_dir() -> Option<PathBuf> {
    let var = |k| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(home) = var(crate::paths::HOME_ENV) {
        return Some(home.join("run"));
    }
    if let Some(run) = var("XDG_RUNTIME_DIR").filter(|p| p.is_absolute()) {
        return Some(run.join("influxctl-cred"));
    }
    #[cfg(unix)]
    return Some(dirs::state_dir().or_else(dirs::data_dir)?.join("influxctl-cred").join("run"));
    #[cfg(not(unix))]
    None
}

/// The socket's path: in the runtime folder, or in the private folder its record names when
/// that path would be too long for a socket ([`place`]).
pub fn socket_path() -> Option<PathBuf> {
    #[cfg(unix)]
    return place::socket_in(&runtime_dir()?);
    #[cfg(not(unix))]
    runtime_dir().map(|d| d.join(SOCKET))
}

/// Refuses a runtime folder that is a symlink, not a folder, not ours, or open to group or
/// others; `Ok(false)` when it does not exist. One `lstat`.
#[cfg(unix)]
pub fn check_runtime_dir(dir: &std::path::Path) -> Result<bool> {
    use std::os::unix::fs::MetadataExt;
    let meta = match std::fs::symlink_metadata(dir) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(Error::io("cannot read", dir, e)),
    };
    let refuse = |why: String| {
        Err(Error::Other(format!("refusing the agent's folder {}: {why}", dir.display())))
    };
    let me = peer::own_uid();
    if !meta.file_type().is_dir() {
        return refuse("it is not a folder (a symlink or a file); remove it".into());
    }
    if meta.uid() != me {
        return refuse(format!(
            "it belongs to uid {}, not to you (uid {me}); remove it or set XDG_RUNTIME_DIR",
            meta.uid()
        ));
    }
    if meta.mode() & 0o077 != 0 {
        return refuse(format!(
            "it is open to others (mode {:03o}); fix: chmod 700 {}",
            meta.mode() & 0o777,
            dir.display()
        ));
    }
    Ok(true)
}

/// Reads a header line (without its newline) one byte at a time, so that nothing after it (a
/// secret payload) lands in a buffer that is not zeroized. At most [`MAX_HEADER`] bytes.
pub fn read_header(r: &mut impl Read) -> std::io::Result<Vec<u8>> {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        if r.read(&mut byte)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        if byte[0] == b'\n' {
            return Ok(line);
        }
        if line.len() >= MAX_HEADER {
            return Err(std::io::Error::other("header line too long"));
        }
        line.push(byte[0]);
    }
}

/// Reads exactly `len` payload bytes (at most [`MAX_PAYLOAD`]) into a zeroized buffer.
pub fn read_payload(r: &mut impl Read, len: usize) -> std::io::Result<SecretBytes> {
    if len > MAX_PAYLOAD {
        return Err(std::io::Error::other("payload too large"));
    }
    let mut buf = SecretBytes::new(vec![0; len]);
    r.read_exact(&mut buf)?;
    Ok(buf)
}

/// Reads a request as the agent does: its header and payload. `Err(None)`: nothing to answer
/// (the peer sent no complete line); `Err(Some(why))`: a refusal to send back.
pub fn read_request(
    r: &mut impl Read,
) -> std::result::Result<(Request, SecretBytes), Option<&'static str>> {
    let line = read_header(r).map_err(|_| None)?;
    let req: Request = serde_json::from_slice(&line).map_err(|_| Some("invalid request"))?;
    if req.v != 1 {
        return Err(Some("unsupported version"));
    }
    let payload = read_payload(r, req.len).map_err(|_| Some("payload too large or cut short"))?;
    Ok((req, payload))
}

/// Reads an answer as a client does: a refusal is its reason (never payload bytes).
pub fn read_response(r: &mut impl Read) -> std::result::Result<(Response, SecretBytes), String> {
    let line = read_header(r).map_err(|e| format!("the agent did not answer: {e}"))?;
    let resp: Response =
        serde_json::from_slice(&line).map_err(|_| "the agent's answer is not valid".to_owned())?;
    if !resp.ok {
        return Err(resp.error.unwrap_or_else(|| "refused".into()));
    }
    let body = read_payload(r, resp.len).map_err(|e| format!("the agent's answer: {e}"))?;
    Ok((resp, body))
}

/// Writes a header line and its payload in one write.
pub fn write_message(w: &mut impl Write, header: &impl Serialize, payload: &[u8]) -> Result<()> {
    let mut out =
        SecretBytes::new(serde_json::to_vec(header).map_err(|e| Error::Other(e.to_string()))?);
    out.push(b'\n');
    out.extend_from_slice(payload);
    w.write_all(&out).map_err(|e| Error::Other(format!("agent socket: {e}")))?;
    w.flush().map_err(|e| Error::Other(format!("agent socket: {e}")))
}

/// The hook the file store gives its identities ([`crate::identity::Identities::with_agent`]):
/// the running agent, when there is one, opens age files and answers the public keys of the
/// locked identity files it holds the keys of.
pub struct Hook;

impl crate::identity::Agent for Hook {
    fn decrypt(&self, ciphertext: &[u8]) -> Option<SecretBytes> {
        #[cfg(unix)]
        return client::decrypt(ciphertext);
        #[cfg(not(unix))]
        {
            let _ = ciphertext;
            None
        }
    }

    fn recipients(&self, identity_sha256: &str) -> Option<Vec<String>> {
        #[cfg(unix)]
        return client::recipients(identity_sha256);
        #[cfg(not(unix))]
        {
            let _ = identity_sha256;
            None
        }
    }
}

/// Hands a vault login (the login cache's JSON) to the running agent to hold under `key`;
/// whether one took it (none runs, or an older one that does not know the request: `false`).
pub fn login_put(key: &str, login: &[u8]) -> bool {
    #[cfg(unix)]
    return client::login(Op::LoginPut, key, login).is_some();
    #[cfg(not(unix))]
    {
        let _ = (key, login);
        false
    }
}

/// The vault login the running agent holds under `key`.
pub fn login_get(key: &str) -> Option<SecretBytes> {
    #[cfg(unix)]
    return client::login(Op::LoginGet, key, &[]);
    #[cfg(not(unix))]
    {
        let _ = key;
        None
    }
}

/// Makes the running agent forget the vault login under `key`.
pub fn login_drop(key: &str) {
    #[cfg(unix)]
    drop(client::login(Op::LoginDrop, key, &[]));
    #[cfg(not(unix))]
    let _ = key;
}

/// Every vault login the running agent holds (a JSON array of what `login_put` gave it).
pub fn logins() -> Option<SecretBytes> {
    #[cfg(unix)]
    return client::login(Op::Logins, "", &[]);
    #[cfg(not(unix))]
    None
}

/// `doctor`'s line about the agent: running (pid, identities held, time left) or not.
pub fn doctor_check() -> crate::check::Check {
    use crate::check::{Check, Status as S};
    #[cfg(unix)]
    if let Some(dir) = runtime_dir() {
        let human =
            |secs: u64| crate::duration::humanize(jiff::SignedDuration::from_secs(secs as i64));
        if let Err(e) = check_runtime_dir(&dir) {
            return Check::new("agent", S::Warn, e.to_string());
        }
        if let Some(s) = client::status() {
            let socket = socket_path().unwrap_or_else(|| dir.join(SOCKET));
            let detail = format!(
                "running (pid {}, socket {}): {} identit{} and {} vault login{} held, forgets in {} (or after {} idle)",
                s.pid,
                socket.display(),
                s.identities,
                if s.identities == 1 { "y" } else { "ies" },
                s.logins,
                if s.logins == 1 { "" } else { "s" },
                human(s.ttl_left),
                human(s.idle_left)
            );
            return Check::new("agent", S::Ok, detail);
        }
    }
    Check::new(
        "agent",
        S::Ok,
        "not running (passphrase-protected identities ask on each use; `influxctl-cred unlock` \
         asks once)",
    )
}

/// The error of `agent`, `unlock` and `lock` where there are no Unix sockets.
pub fn unsupported() -> Error {
    Error::OperationNotSupported("the agent needs Unix sockets (not supported on Windows)".into())
}

#[cfg(all(test, unix))]
mod tests;
