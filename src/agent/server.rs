//! The agent process (`influxctl-cred agent`): binds the socket, answers one request per
//! connection, one connection at a time (each bounded as a whole by [`IO_TIMEOUT`], so a
//! stuck peer delays others by at most that), and forgets everything and exits at its TTL, after its idle
//! timeout, on `lock`, or on SIGTERM/SIGINT/SIGHUP. Keys live in one [`LockedBytes`] (mlocked,
//! zeroized); the process is undumpable from the start (`harden::apply` in `main`).

use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::logins::Logins;
use super::publics::Publics;
use super::{
    IO_TIMEOUT, Op, Response, Status, check_runtime_dir, peer, read_request, write_message,
};
use crate::error::{Error, Result};
use crate::identity;
use crate::secret::{LockedBytes, SecretBytes};

/// Most key text the agent holds (many identities; a key line is 74 bytes).
const MAX_KEYS: usize = 64 << 10;

/// The longest TTL the agent takes: the longest duration the command line accepts
/// (`duration::parse`: under 100 years). An `add` asking more is held this long.
pub const MAX_TTL: Duration = Duration::from_secs(100 * 365 * 86_400 - 1);

/// `now + d`, with `d` capped at [`MAX_TTL`], and halved until the clock can represent it (a
/// peer's number never overflows an `Instant`).
fn later(now: Instant, d: Duration) -> Instant {
    let mut d = d.min(MAX_TTL);
    loop {
        if let Some(t) = now.checked_add(d) {
            return t;
        }
        d /= 2;
    }
}

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
    /// The public keys of the identity files the keys came from (docs/agent.md).
    publics: Publics,
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
            idle_left: self.idle_until().saturating_duration_since(now).as_secs(),
        }
    }

    fn idle_until(&self) -> Instant {
        later(self.last_used, self.opts.idle)
    }

    fn expired(&self) -> bool {
        let now = Instant::now();
        now >= self.deadline || now >= self.idle_until()
    }
}

type Shared = Arc<Mutex<State>>;

/// The agent's state and its request handling, without the socket: what [`serve`] runs for
/// each connection of a peer of our uid. Public as the entry point of the fuzz target
/// `agent_request` (docs/fuzzing.md), not as an API.
#[doc(hidden)]
pub struct Agent(Shared);

impl Agent {
    /// An agent that holds nothing yet.
    pub fn new(opts: Options) -> Agent {
        let now = Instant::now();
        Agent(Arc::new(Mutex::new(State {
            keys: None,
            count: 0,
            logins: Logins::default(),
            publics: Publics::default(),
            deadline: later(now, opts.ttl),
            last_used: now,
            opts,
        })))
    }

    /// Reads one request from `conn` and answers it there; `true` when the agent should stop
    /// (`lock`).
    pub fn answer(&self, conn: &mut (impl Read + Write)) -> bool {
        answer(conn, &self.0)
    }

    /// What `status` answers.
    pub fn status(&self) -> Status {
        lock(&self.0).status()
    }

    /// Whether the TTL or the idle timeout has passed.
    pub fn expired(&self) -> bool {
        lock(&self.0).expired()
    }
}

fn lock(state: &Shared) -> std::sync::MutexGuard<'_, State> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Runs the agent in the foreground until it is told or timed out to stop.
pub fn serve(dir: &Path, opts: Options) -> Result<()> {
    prepare_dir(dir)?;
    if let Some(status) = super::place::socket_in(dir).and_then(|p| super::client::status_at(&p)) {
        return Err(Error::Other(format!("an agent already runs (pid {})", status.pid)));
    }
    let path = super::place::bind_path(dir)?;
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
    let state = Agent::new(opts).0;
    watch(Arc::clone(&state), dir.to_owned(), path.clone())?;
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
    shutdown(&state, dir, &path)
}

/// Creates the runtime folder 0700 when missing (and its missing parents, 0700: the state
/// folder in the user's home); refuses one that is not ours or too open.
fn prepare_dir(dir: &Path) -> Result<()> {
    if !check_runtime_dir(dir)? {
        let mut b = std::fs::DirBuilder::new();
        b.mode(0o700);
        if let Some(parent) = dir.parent().filter(|p| !p.exists()) {
            let mut parents = std::fs::DirBuilder::new();
            parents.mode(0o700).recursive(true);
            parents.create(parent).map_err(|e| Error::io("cannot create", parent, e))?;
        }
        match b.create(dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(Error::io("cannot create", dir, e)),
        }
        check_runtime_dir(dir)?;
    }
    Ok(())
}

/// Forgets the keys, removes the socket (and the folder [`super::place::bind_path`] made for
/// it) and exits.
fn shutdown(state: &Shared, dir: &Path, path: &Path) -> ! {
    let mut s = lock(state);
    s.keys = None;
    s.count = 0;
    s.logins.clear();
    s.publics.clear();
    super::place::remove(dir, path);
    std::process::exit(0)
}

/// A thread that ends the agent at its TTL or idle timeout, and one for the signals that ask
/// it to stop (so that the socket is removed and the keys zeroized).
fn watch(state: Shared, dir: PathBuf, path: PathBuf) -> Result<()> {
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
    let (s2, d2, p2) = (Arc::clone(&state), dir.clone(), path.clone());
    std::thread::spawn(move || {
        if stop.wait().is_ok() {
            shutdown(&s2, &d2, &p2);
        }
    });
    std::thread::spawn(move || {
        loop {
            std::thread::sleep(Duration::from_millis(500));
            if lock(&state).expired() {
                shutdown(&state, &dir, &path);
            }
        }
    });
    Ok(())
}

/// Answers one connection; `true` when the agent should stop (`lock`).
fn handle(conn: UnixStream, state: &Shared) -> bool {
    // One deadline for the whole connection, not per read: a peer trickling its request a
    // byte at a time cannot hold the agent (docs/agent.md).
    let mut bounded = super::deadline::Bounded::new(&conn, IO_TIMEOUT);
    match peer::peer_uid(&conn) {
        Ok(uid) if uid == peer::own_uid() => {}
        _ => {
            refuse(&mut bounded, "refused: not the agent's user");
            return false;
        }
    }
    answer(&mut bounded, state)
}

/// Reads one request of a peer of our uid and answers it; `true` when the agent should stop.
/// Every size and time in a request is bounded here or in [`read_request`]: no request stops
/// the agent but `lock`.
fn answer(conn: &mut (impl Read + Write), state: &Shared) -> bool {
    let (req, payload) = match read_request(conn) {
        Ok(got) => got,
        Err(None) => return false,
        Err(Some(why)) => {
            refuse(conn, why);
            return false;
        }
    };
    let ok = |status| Response { ok: true, status, ..Response::default() };
    let body = |conn: &mut _, body: SecretBytes| {
        let r = Response { ok: true, len: body.len(), ..Response::default() };
        let _ = write_message(conn, &r, &body);
    };
    match req.op {
        Op::Status => {
            let status = lock(state).status();
            let _ = write_message(conn, &ok(Some(status)), &[]);
        }
        Op::Lock => {
            let _ = write_message(conn, &ok(None), &[]);
            return true;
        }
        Op::Add => match add(state, &payload, req.ttl_secs, req.key.as_deref()) {
            Ok(status) => drop(write_message(conn, &ok(Some(status)), &[])),
            Err(why) => refuse(conn, &why),
        },
        Op::Recipients => {
            let mut s = lock(state);
            match s.publics.get(req.key.as_deref()) {
                Ok(list) => {
                    s.last_used = Instant::now();
                    drop(s);
                    body(conn, list);
                }
                Err(why) => refuse(conn, why),
            }
        }
        Op::LoginPut | Op::LoginGet | Op::LoginDrop | Op::Logins => {
            match login(state, req.op, req.key.as_deref(), &payload) {
                Ok(answer) => body(conn, answer),
                Err(why) => refuse(conn, why),
            }
        }
        Op::Decrypt => {
            let mut s = lock(state);
            let Some(keys) = &s.keys else {
                drop(s);
                refuse(conn, "locked");
                return false;
            };
            match identity::open_with_keys(keys.expose(), &payload) {
                Ok(plain) => {
                    s.last_used = Instant::now();
                    drop(s);
                    body(conn, plain);
                }
                Err(_) => {
                    drop(s);
                    refuse(conn, "no-match");
                }
            }
        }
    }
    false
}

/// Answers a refusal (a fixed reason, never request bytes).
fn refuse(conn: &mut impl Write, why: &str) {
    let r = Response { ok: false, error: Some(why.to_owned()), ..Response::default() };
    let _ = write_message(conn, &r, &[]);
}

/// Adds the keys of an identity text that it does not hold yet (so a second `unlock` only
/// restarts the TTL), and with `file` (the SHA-256 of the encrypted identity file they came
/// from) their public keys for `recipients`. `ttl_secs` is capped at [`MAX_TTL`]; 0 is refused.
/// The message of a refusal never holds key material.
fn add(
    state: &Shared,
    text: &[u8],
    ttl_secs: Option<u64>,
    file: Option<&str>,
) -> std::result::Result<Status, String> {
    if ttl_secs == Some(0) {
        return Err("invalid ttl".into());
    }
    if text.len() > MAX_KEYS {
        return Err("too many identities".into());
    }
    identity::count_keys(text)?;
    let publics = match file {
        Some(file) => Some((file, identity::public_keys(text)?)),
        None => None,
    };
    let mut s = lock(state);
    let old = s.keys.as_ref().map_or(&[][..], |k| k.expose());
    let mut joined = SecretBytes::new(Vec::with_capacity(old.len() + text.len() + 1));
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
    if let Some((file, list)) = publics {
        s.publics.put(file, list)?;
    }
    s.count = identity::count_keys(&joined)?;
    s.keys = Some(LockedBytes::copy_of(&joined));
    let now = Instant::now();
    let ttl = ttl_secs.map_or(s.opts.ttl, Duration::from_secs);
    s.deadline = later(now, ttl);
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
