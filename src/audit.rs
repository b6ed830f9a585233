//! The audit log (docs/spec.md §13): one JSON line per release of a token (`get`, `exec`, `helper`,
//! `create`, `rotate`, a database token) to `audit.jsonl` in our state folder. Never the token.
//!
//! Cheap by design, since it runs in front of every influxctl call: one `open(2)` with
//! `O_APPEND` (0600), one `fstat(2)` for the size, one `write(2)` of the whole line, no fsync.
//! A process keeps the log open for its next record (the helper writes one per request): that
//! record costs one `fstat(2)` of our file, one `statx(2)` of the path (the same file? else it
//! was rotated or replaced, and is opened again) and the `write(2)`.
//! `O_APPEND` writes of one small buffer to a local file are not interleaved with another
//! process's, so concurrent writers never mix their lines. Past 10 MiB the file is renamed to
//! `audit.jsonl.1` (the older `.1` is replaced) and a new one started, under a lock so that
//! writers rotating at once rotate once ([`rotate`]). A log that cannot be written is a
//! warning, never a failure: the user's command goes on.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::paths::HOME_ENV;

mod read;
mod rotate;
pub use read::{Filter, command};

/// Where a log is rotated.
pub const ROTATE_AT: u64 = 10 * 1024 * 1024;

/// One line of the log. Only metadata: there is no field that could hold a token.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Record {
    /// RFC 3339, UTC.
    pub time: String,
    /// `get`, `exec`, `helper`, `create`, `rotate`, `database-token`.
    pub command: String,
    pub profile: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_id: Option<String>,
    /// The cluster id the token is bound to, else its host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    /// For `exec`: the program as given, and its file name (argv\[0\]'s last component).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub program: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub argv0: Option<String>,
    pub pid: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ppid: Option<u32>,
    /// `released`, or the error kind that stopped the release.
    pub outcome: String,
}

impl Record {
    /// A record stamped now, with this process's ids.
    pub fn new(command: &str, profile: &str, outcome: &str) -> Record {
        Record {
            time: jiff::Timestamp::now().to_string(),
            command: command.to_owned(),
            profile: profile.to_owned(),
            pid: process_id(),
            ppid: parent_id(),
            outcome: outcome.to_owned(),
            ..Record::default()
        }
    }

    /// The program of `exec` (lossy text for a name that is not UTF-8).
    pub fn with_program(mut self, program: &std::ffi::OsStr) -> Record {
        let path = Path::new(program);
        self.program = Some(program.to_string_lossy().into_owned());
        self.argv0 = path.file_name().map(|n| n.to_string_lossy().into_owned());
        self
    }
}

/// The record of `entry` leaving `store` for `command`.
pub fn released(
    command: &str,
    entry: &crate::entry::Entry,
    store: impl std::fmt::Display,
) -> Record {
    let mut r = Record::new(command, &entry.profile, "released");
    r.store = Some(store.to_string());
    r.token_id = entry.token_id.clone();
    r.cluster = entry.cluster.cluster_id.clone().or_else(|| entry.cluster.host.clone());
    r
}

/// Logs a refused release of a stored token (expired, bound to another cluster): nothing left
/// the store, but someone asked for it. Other errors (no entry, no store) are not logged.
pub fn refused(command: &str, profile: &str, err: &crate::error::Error) {
    use crate::error::ErrorKind;
    if matches!(err.kind(), ErrorKind::Expired | ErrorKind::ClusterMismatch) {
        record(&Record::new(command, profile, err.kind().as_str()));
    }
}

/// This process's id, asked once (it never changes: we never fork without `exec`).
fn process_id() -> u32 {
    static PID: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *PID.get_or_init(std::process::id)
}

#[cfg(unix)]
fn parent_id() -> Option<u32> {
    Some(std::os::unix::process::parent_id())
}

#[cfg(not(unix))]
fn parent_id() -> Option<u32> {
    None
}

/// The log's path: `$INFLUXCTL_CRED_HOME/audit.jsonl`, else `<state dir>/influxctl-cred/`
/// (`dirs::state_dir()`, else the data dir, as on macOS and Windows).
pub fn log_path() -> Option<PathBuf> {
    if let Some(home) = std::env::var_os(HOME_ENV).filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(home).join("audit.jsonl"));
    }
    let base = dirs::state_dir().or_else(dirs::data_dir)?;
    Some(base.join("influxctl-cred").join("audit.jsonl"))
}

/// The rotated log beside `path`.
pub fn rotated(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".1");
    PathBuf::from(name)
}

/// Appends `record`; a failure is a warning on stderr, never an error.
pub fn record(record: &Record) {
    let Some(path) = log_path() else {
        crate::ui::warn("cannot find a folder for the audit log; this release was not logged");
        return;
    };
    if let Err(e) = append(&path, record) {
        crate::ui::warn(format!(
            "cannot write the audit log {}: {e}; this release was not logged",
            path.display()
        ));
    }
}

/// The log a process keeps open between its records (the helper writes one per request), with
/// the path it was opened at.
static KEPT: Mutex<Option<(PathBuf, File)>> = Mutex::new(None);

/// Appends one line to the log at `path` (rotating it first when it is full). The log stays
/// open for the next record while the path still names the file we hold (see [`still_there`]).
pub fn append(path: &Path, record: &Record) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(record).map_err(std::io::Error::other)?;
    line.push(b'\n');
    let mut kept = KEPT.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let held = kept.take().filter(|(p, _)| p == path).map(|(_, f)| f);
    let (mut file, size) = match held.and_then(|f| still_there(&f, path).map(|size| (f, size))) {
        Some(open_and_size) => open_and_size,
        None => {
            let file = open(path)?;
            let size = file.metadata()?.len();
            (file, size)
        }
    };
    if size >= ROTATE_AT {
        // Under the rotation lock, and only when the log is still full then (another writer
        // may have rotated it meanwhile). Whatever happened, the record goes to the file now
        // at the path: a rotation that could not be done leaves a longer log, never a lost line.
        if let Err(e) = rotate::rotate(path) {
            crate::ui::verbose(format!("the audit log was not rotated: {e}"));
        }
        file = open(path)?;
    }
    let n = file.write(&line)?;
    if n != line.len() {
        return Err(std::io::Error::other(format!("short write ({n} of {} bytes)", line.len())));
    }
    *kept = Some((path.to_owned(), file));
    Ok(())
}

/// The size of the log we hold open, when `path` still names that very file (one `fstat` of
/// ours, one `statx` of the path, not following a link: same device and inode, a regular file).
/// `None` after anyone rotated, removed or replaced it: the log is then opened again, as on a
/// first record, so a line never goes to a rotated file.
fn still_there(file: &File, path: &Path) -> Option<u64> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let ours = file.metadata().ok()?;
        let there = std::fs::symlink_metadata(path).ok()?;
        (there.is_file() && (ours.dev(), ours.ino()) == (there.dev(), there.ino()))
            .then_some(ours.len())
    }
    #[cfg(not(unix))]
    {
        let _ = (file, path);
        None
    }
}

fn open(path: &Path) -> std::io::Result<File> {
    match open_append(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(dir) = path.parent() {
                create_private_dir(dir)?;
            }
            open_append(path)
        }
        other => other,
    }
}

fn open_append(path: &Path) -> std::io::Result<File> {
    let mut o = OpenOptions::new();
    o.append(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600).custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC);
    }
    o.open(path)
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
}

#[cfg(test)]
mod tests;
