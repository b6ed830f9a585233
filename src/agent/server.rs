//! The agent process (`influxctl-cred agent`): binds the socket, answers one request per
//! connection, one connection at a time (each bounded by [`IO_TIMEOUT`], so a stuck peer delays
//! others by at most that), and forgets everything and exits at its TTL, after its idle
//! timeout, on `lock`, or on SIGTERM/SIGINT/SIGHUP. Keys live in one [`LockedBytes`] (mlocked,
//! zeroized); the process is undumpable from the start (`harden::apply` in `main`).

use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::logins::Logins;
use super::{
    IO_TIMEOUT, Op, Response, Status, check_runtime_dir, peer, read_request, write_message,
};
use crate::error::{Error, Result};
use crate::identity;
use crate::secret::{LockedBytes, SecretBytes};

/// Most key text the agent holds (many identities; a key line is 74 bytes).
const MAX_KEYS: usize = 64 << 10;

/// How the agent runs.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// How long keys are held after they were added (and how long an agent with none waits).
    pub ttl: Duration,
    /// How long without a request before it forgets and exits.
    pub idle: Duration,
}

struct State {
    keys: Option<LockedBytes>,
    count: usize,
    /// Vault login tokens by their cache key (docs/agent.md).
    logins: Logins,
    deadline: Instant,
    last_used: Instant,
    opts: Options,
}

impl State {
    fn status(&self) -> Status {
        let now = Instant::now();
        Status {
            pid: std::process::id(),
            identities: self.count,
            logins: self.logins.count(),
            ttl_left: self.deadline.saturating_duration_since(now).as_secs(),
            idle_left: (self.last_used + self.opts.idle).saturating_duration_since(now).as_secs(),
        }
    }

    fn expired(&self) -> bool {
        let now = Instant::now();
        now >= self.deadline || now >= self.last_used + self.opts.idle
    }
}

type Shared = Arc<Mutex<State>>;

fn lock(state: &Shared) -> std::sync::MutexGuard<'_, State> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Runs the agent in the foreground until it is told or timed out to stop.
pub fn serve(dir: &Path, opts: Options) -> Result<()> {
    prepare_dir(dir)?;
    let path = dir.join(super::SOCKET);
    if let Some(status) = super::client::status_at(&path) {
        return Err(Error::Other(format!("an agent already runs (pid {})", status.pid)));
    }
    // Whatever is there does not answer: a socket left by an agent that was killed.
    match std::fs::remove_file(&path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io("cannot remove the stale socket", &path, e)),
    }
    let listener =
        UnixListener::bind(&path).map_err(|e| Error::io("cannot listen on", &path, e))?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| Error::io("cannot chmod", &path, e))?;
    let now = Instant::now();
    let state: Shared = Arc::new(Mutex::new(State {
        keys: None,
        count: 0,
        logins: Logins::default(),
        deadline: now + opts.ttl,
        last_used: now,
        opts,
    }));
    watch(Arc::clone(&state), path.clone())?;
    crate::ui::note(format!(
        "agent (pid {}) listening on {}; forgets everything after {} or {} idle",
        std::process::id(),
        path.display(),
        crate::duration::humanize(jiff::SignedDuration::from_secs(opts.ttl.as_secs() as i64)),
        crate::duration::humanize(jiff::SignedDuration::from_secs(opts.idle.as_secs() as i64)),
    ));
    for conn in listener.incoming() {
        let Ok(conn) = conn else { continue };
        if handle(conn, &state) {
            break;
        }
    }
    shutdown(&state, &path)
}

/// Creates the runtime folder 0700 when missing; refuses one that is not ours or too open.
fn prepare_dir(dir: &Path) -> Result<()> {
    if !check_runtime_dir(dir)? {
        let mut b = std::fs::DirBuilder::new();
        b.mode(0o700);
        match b.create(dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(Error::io("cannot create", dir, e)),
        }
        check_runtime_dir(dir)?;
    }
    Ok(())
}

/// Forgets the keys, removes the socket and exits.
fn shutdown(state: &Shared, path: &PathBuf) -> ! {
    let mut s = lock(state);
    s.keys = None;
    s.count = 0;
    s.logins.clear();
    let _ = std::fs::remove_file(path);
    std::process::exit(0)
}

/// A thread that ends the agent at its TTL or idle timeout, and one for the signals that ask
/// it to stop (so that the socket is removed and the keys zeroized).
fn watch(state: Shared, path: PathBuf) -> Result<()> {
    use nix::sys::signal::{SigSet, SigmaskHow, Signal, pthread_sigmask};
    // Blocked here, before the threads below and the connection loop exist, so every thread
    // of the agent blocks them and they stay pending for the one `sigwait` below (no handler,
    // so nothing runs in signal context).
    let mut stop = SigSet::empty();
    for s in [Signal::SIGTERM, Signal::SIGINT, Signal::SIGHUP] {
        stop.add(s);
    }
    pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&stop), None)
        .map_err(|e| Error::Other(format!("cannot watch signals: {e}")))?;
    let (s2, p2) = (Arc::clone(&state), path.clone());
    std::thread::spawn(move || {
        if stop.wait().is_ok() {
            shutdown(&s2, &p2);
        }
    });
    std::thread::spawn(move || {
        loop {
            std::thread::sleep(Duration::from_millis(500));
            if lock(&state).expired() {
                shutdown(&state, &path);
            }
        }
    });
    Ok(())
}

/// Answers one connection; `true` when the agent should stop (`lock`).
fn handle(mut conn: UnixStream, state: &Shared) -> bool {
    let _ = conn.set_read_timeout(Some(IO_TIMEOUT));
    let _ = conn.set_write_timeout(Some(IO_TIMEOUT));
    let fail = |conn: &mut UnixStream, why: &str| {
        let r = Response { ok: false, error: Some(why.to_owned()), ..Response::default() };
        let _ = write_message(conn, &r, &[]);
    };
    match peer::peer_uid(&conn) {
        Ok(uid) if uid == peer::own_uid() => {}
        _ => {
            fail(&mut conn, "refused: not the agent's user");
            return false;
        }
    }
    let (req, payload) = match read_request(&mut conn) {
        Ok(got) => got,
        Err(None) => return false,
        Err(Some(why)) => {
            fail(&mut conn, why);
            return false;
        }
    };
    let ok = |status| Response { ok: true, status, ..Response::default() };
    match req.op {
        Op::Status => {
            let status = lock(state).status();
            let _ = write_message(&mut conn, &ok(Some(status)), &[]);
            false
        }
        Op::Lock => {
            let _ = write_message(&mut conn, &ok(None), &[]);
            true
        }
        Op::Add => {
            let answer = add(state, &payload, req.ttl_secs);
            match answer {
                Ok(status) => drop(write_message(&mut conn, &ok(Some(status)), &[])),
                Err(why) => fail(&mut conn, &why),
            }
            false
        }
        Op::LoginPut | Op::LoginGet | Op::LoginDrop | Op::Logins => {
            match login(state, req.op, req.key.as_deref(), &payload) {
                Ok(body) => {
                    let r = Response { ok: true, len: body.len(), ..Response::default() };
                    let _ = write_message(&mut conn, &r, &body);
                }
                Err(why) => fail(&mut conn, why),
            }
            false
        }
        Op::Decrypt => {
            let mut s = lock(state);
            let Some(keys) = &s.keys else {
                drop(s);
                fail(&mut conn, "locked");
                return false;
            };
            match identity::open_with_keys(keys.expose(), &payload) {
                Ok(plain) => {
                    s.last_used = Instant::now();
                    drop(s);
                    let r = Response { ok: true, len: plain.len(), ..Response::default() };
                    let _ = write_message(&mut conn, &r, &plain);
                }
                Err(_) => {
                    drop(s);
                    fail(&mut conn, "no-match");
                }
            }
            false
        }
    }
}

/// Adds the keys of an identity text that it does not hold yet (so a second `unlock` only
/// restarts the TTL); the message of a refusal never holds key material.
fn add(state: &Shared, text: &[u8], ttl_secs: Option<u64>) -> std::result::Result<Status, String> {
    identity::count_keys(text)?;
    let mut s = lock(state);
    let old = s.keys.as_ref().map_or(&[][..], |k| k.expose());
    let mut joined =
        crate::secret::SecretBytes::new(Vec::with_capacity(old.len() + text.len() + 1));
    joined.extend_from_slice(old);
    for line in text.split(|&b| b == b'\n').map(<[u8]>::trim_ascii) {
        let held = joined.split(|&b| b == b'\n').any(|l| l.trim_ascii() == line);
        if !line.is_empty() && !line.starts_with(b"#") && !held {
            joined.extend_from_slice(line);
            joined.push(b'\n');
        }
    }
    if joined.len() > MAX_KEYS {
        return Err("too many identities".into());
    }
    s.count = identity::count_keys(&joined)?;
    s.keys = Some(LockedBytes::copy_of(&joined));
    let now = Instant::now();
    s.deadline = now + ttl_secs.map_or(s.opts.ttl, Duration::from_secs);
    s.last_used = now;
    Ok(s.status())
}

/// The vault-login requests ([`Logins::answer`]); each one counts as use.
fn login(
    state: &Shared,
    op: Op,
    key: Option<&str>,
    payload: &[u8],
) -> std::result::Result<SecretBytes, &'static str> {
    let mut s = lock(state);
    s.last_used = Instant::now();
    s.logins.answer(op, key, payload)
}
