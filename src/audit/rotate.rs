//! Rotating the audit log under a lock (docs/audit.md): a writer that finds the log full takes
//! an exclusive OS lock on `audit.jsonl.lock` beside it (opened `O_NOFOLLOW`, created 0600,
//! never a symlink's target), waits for it at most [`LOCK_WAIT`], and renames the log to `.1`
//! only when the file at the log's path is still full once the lock is held. So two writers
//! that both saw the log full rotate it once: the second finds the fresh log and leaves it
//! alone, so no rotated file is renamed over and no record is lost.

use std::fs::{File, OpenOptions, TryLockError};
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::{ROTATE_AT, rotated};

/// The longest a writer waits for another writer's rotation. Past it the record goes to the
/// log as it is (a little past 10 MiB), never lost.
pub const LOCK_WAIT: Duration = Duration::from_secs(2);

/// The rotation lock's file beside the log.
pub fn lock_path(log: &Path) -> PathBuf {
    let mut name = log.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// Renames the log at `path` to `.1` when the file there is still at least [`ROTATE_AT`]
/// bytes once the rotation lock is held. `Err` (the lock cannot be opened or taken in time,
/// or the rename failed): the caller writes to the log as it is.
pub fn rotate(path: &Path) -> io::Result<()> {
    let lock = open_lock(&lock_path(path))?;
    let deadline = Instant::now() + LOCK_WAIT;
    let mut pause = Duration::from_millis(1);
    loop {
        match lock.try_lock() {
            Ok(()) => break,
            Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(20));
            }
            Err(TryLockError::WouldBlock) => {
                return Err(io::Error::new(
                    io::ErrorKind::WouldBlock,
                    "another writer kept the rotation lock",
                ));
            }
            Err(TryLockError::Error(e)) => return Err(e),
        }
    }
    // Re-checked under the lock: another writer may have rotated it since we looked.
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_file() && meta.len() >= ROTATE_AT => {
            std::fs::rename(path, rotated(path))
        }
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
    // The lock is released as `lock` is dropped (the OS releases it if we die).
}

/// Opens (creating when missing, 0600) the lock file without following a symlink, and checks
/// that it is a regular file.
fn open_lock(path: &Path) -> io::Result<File> {
    let mut o = OpenOptions::new();
    o.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600).custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NONBLOCK);
    }
    let file = o.open(path)?;
    if !file.metadata()?.is_file() {
        return Err(io::Error::other(format!("{} is not a regular file", path.display())));
    }
    Ok(file)
}
