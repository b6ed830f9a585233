//! The store lock: one OS file lock per store folder (`std::fs::File::lock`), taken with a
//! bounded wait. Writers hold it across read-modify-write; readers re-read after taking it.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// Held while the lock is ours; released on drop (the OS also releases it if we die).
#[derive(Debug)]
pub struct StoreLock {
    _file: File,
}

/// Takes the exclusive lock of `dir`, waiting at most `wait`.
pub fn lock(dir: &Path, wait: Duration) -> Result<StoreLock> {
    crate::fsutil::private_dir(dir)?;
    let path: PathBuf = dir.join(".lock");
    let mut opts = OpenOptions::new();
    opts.create(true).truncate(false).read(true).write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let file = opts.open(&path).map_err(|e| Error::io("cannot open lock file", &path, e))?;
    let deadline = Instant::now() + wait;
    let mut pause = Duration::from_millis(2);
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(StoreLock { _file: file }),
            Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            Err(TryLockError::WouldBlock) => {
                return Err(Error::Locked { path, secs: wait.as_secs() });
            }
            Err(TryLockError::Error(e)) => return Err(Error::io("cannot lock", &path, e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_times_out_with_locked() {
        let dir = tempfile::tempdir().unwrap();
        let _held = lock(dir.path(), Duration::from_secs(1)).unwrap();
        let err = lock(dir.path(), Duration::from_millis(50)).unwrap_err();
        assert_eq!(err.exit_code(), 75);
    }

    #[test]
    fn lock_is_released_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        drop(lock(dir.path(), Duration::from_secs(1)).unwrap());
        lock(dir.path(), Duration::from_millis(50)).unwrap();
    }
}
