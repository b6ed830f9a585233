//! Talking to the agent: the file store's decrypt hook, `status`, `add` (from `unlock`),
//! `lock`, and starting a detached agent. With no agent, a read costs one `lstat` of the
//! runtime folder (absent), or two (a folder left without a socket), or a refused `connect`
//! (a socket an agent killed with SIGKILL left behind).

use std::os::unix::fs::FileTypeExt;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

use super::{
    IO_TIMEOUT, Op, Request, Response, Status, check_runtime_dir, peer, read_response, socket_path,
    write_message,
};
use crate::error::{Error, Result};
use crate::identity::HeldFile;
use crate::secret::SecretBytes;

/// A connection to the agent at `socket` when one answers there, its folder passes the checks
/// and it runs as our uid; `None` otherwise (a bad folder is said with `-v`).
fn connect(socket: &Path) -> Option<UnixStream> {
    let dir = socket.parent()?;
    match check_runtime_dir(dir) {
        Ok(true) => {}
        Ok(false) => return None,
        Err(e) => {
            crate::ui::verbose(format!("not asking the agent: {e}"));
            return None;
        }
    }
    // One more `lstat` rather than a socket and a failed connect when no agent runs.
    if !std::fs::symlink_metadata(socket).ok()?.file_type().is_socket() {
        return None;
    }
    let stream = UnixStream::connect(socket).ok()?;
    if peer::peer_uid(&stream).ok()? != peer::own_uid() {
        crate::ui::verbose("not asking the agent: its socket belongs to another user");
        return None;
    }
    stream.set_read_timeout(Some(IO_TIMEOUT)).ok()?;
    stream.set_write_timeout(Some(IO_TIMEOUT)).ok()?;
    Some(stream)
}

/// Sends one request and reads the answer (header, and payload when it has one).
fn ask(
    socket: &Path,
    op: Op,
    payload: &[u8],
    ttl_secs: Option<u64>,
) -> Option<std::result::Result<(Response, SecretBytes), String>> {
    let mut stream = connect(socket)?;
    let req = Request { v: 1, op, len: payload.len(), ttl_secs, key: None };
    Some(exchange(&mut stream, &req, payload))
}

fn exchange(
    stream: &mut UnixStream,
    req: &Request,
    payload: &[u8],
) -> std::result::Result<(Response, SecretBytes), String> {
    write_message(stream, req, payload).map_err(|e| e.to_string())?;
    read_response(stream)
}

/// The plaintext of an age file, when an agent runs and holds a key that opens it.
pub fn decrypt(ciphertext: &[u8]) -> Option<SecretBytes> {
    let socket = socket_path()?;
    match ask(&socket, Op::Decrypt, ciphertext, None)? {
        Ok((_, plain)) => Some(plain),
        Err(why) => {
            crate::ui::verbose(format!("the agent could not open it ({why})"));
            None
        }
    }
}

/// The public keys of the identity file whose SHA-256 is `file`, when the agent holds its keys
/// (a write then needs no passphrase).
pub fn recipients(file: &str) -> Option<Vec<String>> {
    let socket = socket_path()?;
    let mut stream = connect(&socket)?;
    let req = Request { v: 1, op: Op::Recipients, len: 0, ttl_secs: None, key: Some(file.into()) };
    match exchange(&mut stream, &req, &[]) {
        Ok((_, body)) => serde_json::from_slice::<Vec<String>>(&body).ok(),
        Err(why) => {
            crate::ui::verbose(format!("the agent has no public key for it ({why})"));
            None
        }
    }
}

/// One vault-login request (`login-put`, `login-get`, `login-drop`, `logins`) under `key`: the
/// answer's payload when the agent took it, `None` when none runs or it refused (said with
/// `-v`; "none" is the normal answer of `login-get` for a key it does not hold).
pub fn login(op: Op, key: &str, payload: &[u8]) -> Option<SecretBytes> {
    let socket = socket_path()?;
    let mut stream = connect(&socket)?;
    let key = (!key.is_empty()).then(|| key.to_owned());
    let req = Request { v: 1, op, len: payload.len(), ttl_secs: None, key };
    match exchange(&mut stream, &req, payload) {
        Ok((_, body)) => Some(body),
        Err(why) => {
            if why != "none" {
                crate::ui::verbose(format!("the agent did not take the vault login ({why})"));
            }
            None
        }
    }
}

/// The state of the agent at `socket`, when one answers.
pub fn status_at(socket: &Path) -> Option<Status> {
    ask(socket, Op::Status, &[], None)?.ok()?.0.status
}

/// The state of the agent, when one runs.
pub fn status() -> Option<Status> {
    status_at(&socket_path()?)
}

/// Hands the keys of each unlocked identity file to the running agent (one `add` per file,
/// with the file's SHA-256), to hold for `ttl` (else its own TTL); the last answer's status.
pub fn add(files: &[HeldFile], ttl: Option<Duration>) -> Result<Status> {
    let socket = socket_path().ok_or_else(super::unsupported)?;
    let mut last = None;
    for file in files {
        let mut stream = connect(&socket)
            .ok_or_else(|| Error::Other("the agent stopped before it got the identities".into()))?;
        let req = Request {
            v: 1,
            op: Op::Add,
            len: file.keys.len(),
            ttl_secs: ttl.map(|d| d.as_secs().max(1)),
            key: Some(file.sha256.clone()),
        };
        let (resp, _) = exchange(&mut stream, &req, &file.keys)
            .map_err(|why| Error::Other(format!("the agent refused: {why}")))?;
        last = resp.status;
    }
    last.ok_or_else(|| Error::Other("the agent's answer has no status".into()))
}

/// Tells the agent to forget everything and exit; whether one was running.
pub fn lock() -> Result<bool> {
    let Some(socket) = socket_path() else { return Ok(false) };
    match ask(&socket, Op::Lock, &[], None) {
        None => Ok(false),
        Some(Ok(_)) => {
            // It removes its socket as it exits; wait for that, briefly.
            let until = Instant::now() + Duration::from_secs(2);
            while socket.exists() && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(10));
            }
            Ok(true)
        }
        Some(Err(why)) => Err(Error::Other(format!("the agent refused to lock: {why}"))),
    }
}

/// Starts our own binary as `agent` in a new session (no terminal, stdio on /dev/null) and waits
/// until it answers.
#[allow(unsafe_code)]
pub fn start_detached(ttl: Duration, idle: Duration) -> Result<Status> {
    use std::os::unix::process::CommandExt;
    let exe = std::env::current_exe()
        .map_err(|e| Error::Other(format!("cannot find our own binary to start the agent: {e}")))?;
    let mut cmd = std::process::Command::new(exe);
    cmd.arg("agent")
        .arg("--ttl")
        .arg(format!("{}s", ttl.as_secs().max(1)))
        .arg("--idle")
        .arg(format!("{}s", idle.as_secs().max(1)))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    // SAFETY: runs in the forked child before exec; setsid is async-signal-safe and touches no
    // memory of the parent.
    unsafe {
        cmd.pre_exec(|| nix::unistd::setsid().map(drop).map_err(std::io::Error::from));
    }
    let mut child =
        cmd.spawn().map_err(|e| Error::Other(format!("cannot start the agent: {e}")))?;
    let until = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(s) = status() {
            return Ok(s);
        }
        if let Ok(Some(code)) = child.try_wait() {
            return Err(Error::Other(format!(
                "the agent exited at once ({code}); run `influxctl-cred agent` to see why"
            )));
        }
        if Instant::now() >= until {
            return Err(Error::Other("the agent did not answer within 5s".into()));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
