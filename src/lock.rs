//! The store lock: one OS file lock per store folder (`std::fs::File::lock`), taken with a
//! bounded wait. Writers hold it across read-modify-write; readers re-read after taking it.
//! The lock file `.lock` is opened `O_NOFOLLOW` (a symlink in its place is refused, its target
//! never created) in a store folder that is a real folder of ours (not a symlink), and must be
//! a regular file of ours once open (docs/spec.md §2).

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::error::{Error, ErrorKind, Result};

/// Held while the lock is ours; released on drop (the OS also releases it if we die).
#[derive(Debug)]
pub struct StoreLock {
    _file: File,
}

/// Takes the exclusive lock of `dir`, waiting at most `wait`.
pub fn lock(dir: &Path, wait: Duration) -> Result<StoreLock> {
    crate::fsutil::private_dir(dir)?;
    let path: PathBuf = dir.join(".lock");
    let file = open(dir, &path)?;
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

/// Opens (creating when missing) the lock file without following a symlink, in a folder that
/// is itself no symlink, and checks that it is a regular file of ours.
fn open(dir: &Path, path: &Path) -> Result<File> {
    let refuse = |reason: String, fix: String| Error::Untrusted {
        path: path.to_owned(),
        reason,
        fix,
        kind: ErrorKind::StoreUnavailable,
    };
    let dir_meta = std::fs::symlink_metadata(dir).map_err(|e| Error::io("cannot read", dir, e))?;
    if !dir_meta.is_dir() {
        return Err(Error::Untrusted {
            path: dir.to_owned(),
            reason: "the store folder is not a folder (a symbolic link?)".into(),
            fix: format!("replace {} with a folder of yours (mode 0700)", dir.display()),
            kind: ErrorKind::StoreUnavailable,
        });
    }
    let mut opts = OpenOptions::new();
    opts.create(true).truncate(false).read(true).write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600).custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    let file = match opts.open(path) {
        Ok(f) => f,
        #[cfg(unix)]
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Err(refuse(
                "it is a symbolic link; the lock is never taken through one".into(),
                format!("remove the link: `rm {}`", path.display()),
            ));
        }
        #[cfg(unix)]
        Err(e) if e.raw_os_error() == Some(libc::ENXIO) => {
            return Err(refuse(
                "it is a socket, not a regular file".into(),
                format!("remove it: `rm {}`", path.display()),
            ));
        }
        Err(e) => return Err(Error::io("cannot open lock file", path, e)),
    };
    let meta = file.metadata().map_err(|e| Error::io("cannot read", path, e))?;
    if !meta.is_file() {
        return Err(refuse(
            "it is not a regular file".into(),
            format!("remove it: `rm {}`", path.display()),
        ));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let me = nix::unistd::geteuid().as_raw();
        if meta.uid() != me && meta.uid() != 0 {
            return Err(refuse(
                format!("it belongs to uid {}, not to you (uid {me}) or root", meta.uid()),
                format!("remove it: `rm {}`", path.display()),
            ));
        }
    }
    Ok(file)
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

    #[cfg(unix)]
    #[test]
    fn lock_through_symlink_is_refused_and_creates_no_target() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let target = outside.path().join("created-by-lock");
        std::os::unix::fs::symlink(&target, dir.path().join(".lock")).unwrap();
        let err = lock(dir.path(), Duration::from_millis(50)).unwrap_err();
        assert_eq!(err.exit_code(), 5, "{err}");
        assert!(err.to_string().contains(".lock"), "{err}");
        assert!(!target.exists(), "the symlink's target was created");
    }

    #[cfg(unix)]
    #[test]
    fn lock_in_symlinked_store_folder_is_refused() {
        let real = tempfile::tempdir().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("store");
        std::os::unix::fs::symlink(real.path(), &link).unwrap();
        let err = lock(&link, Duration::from_millis(50)).unwrap_err();
        assert_eq!(err.exit_code(), 5, "{err}");
        assert!(!real.path().join(".lock").exists());
    }

    #[test]
    fn lock_is_released_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        drop(lock(dir.path(), Duration::from_secs(1)).unwrap());
        lock(dir.path(), Duration::from_millis(50)).unwrap();
    }
}
