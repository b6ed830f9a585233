//! File-system primitives for secret files: private folders (0700), private files (0600),
//! refusing files that are too open, and atomic replacement (temp file, fsync, rename, fsync of
//! the folder) so that a writer killed at any moment leaves the old or the new file. Every file
//! we read goes through [`read`] ([`open`]: strict modes, no FIFO, size caps).

use std::fs;
use std::io::Write;
use std::path::Path;

use crate::error::{Error, Result};

mod fingerprint;
mod folders;
mod open;
pub use fingerprint::Fingerprint;
pub use folders::{check_folders, one_request};
pub use open::{CONFIG_CAP, ENTRY_CAP, FileKind, SMALL_CAP, read, read_seen, still_seen};

/// Creates `dir` (and parents) if missing; the folders we create are 0700 on Unix.
pub fn private_dir(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(|e| Error::io("cannot create folder", dir, e))
}

/// Refuses a secret file (or folder) that group or others may read or write, as ssh does.
/// The error names the file and the `chmod` that fixes it.
pub fn check_private(path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = fs::metadata(path).map_err(|e| Error::io("cannot read", path, e))?;
        let mode = meta.permissions().mode() & 0o7777;
        if mode & 0o077 != 0 {
            return Err(Error::TooOpen { path: path.to_owned(), mode });
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Replaces `path` with `bytes` atomically: a 0600 temp file in the same folder, written and
/// fsynced, renamed over the target, then the folder fsynced. A crash leaves the old or the new
/// content, never a mix.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| Error::Other(format!("{} has no parent folder", path.display())))?;
    private_dir(dir)?;
    // tempfile creates the file with mode 0600 on Unix.
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(dir)
        .map_err(|e| Error::io("cannot create a temporary file in", dir, e))?;
    tmp.write_all(bytes).map_err(|e| Error::io("cannot write", tmp.path(), e))?;
    tmp.as_file().sync_all().map_err(|e| Error::io("cannot sync", tmp.path(), e))?;
    tmp.persist(path).map_err(|e| Error::io("cannot replace", path, e.error))?;
    sync_dir(dir)
}

/// Removes `path`; returns whether it existed. The folder is fsynced afterwards.
pub fn remove(path: &Path) -> Result<bool> {
    match fs::remove_file(path) {
        Ok(()) => {
            if let Some(dir) = path.parent() {
                sync_dir(dir)?;
            }
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(Error::io("cannot remove", path, e)),
    }
}

/// fsyncs a folder so that a rename or removal in it is durable (a no-op off Unix).
pub fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        let d = fs::File::open(dir).map_err(|e| Error::io("cannot open", dir, e))?;
        d.sync_all().map_err(|e| Error::io("cannot sync", dir, e))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Removes temp files that a writer killed mid-write left behind (older than a minute, so that
/// a live writer's file is never taken from under it).
pub fn sweep_temp_files(dir: &Path) {
    let Ok(read) = fs::read_dir(dir) else { return };
    let cutoff = std::time::SystemTime::now() - std::time::Duration::from_secs(60);
    for item in read.flatten() {
        let name = item.file_name();
        if !name.to_string_lossy().starts_with(".tmp-") {
            continue;
        }
        let old = item.metadata().and_then(|m| m.modified()).map(|t| t < cutoff).unwrap_or(false);
        if old {
            let _ = fs::remove_file(item.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_atomic_creates_private_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub").join("f");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        check_private(&p).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.path().join("sub")).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o700);
        }
    }

    #[cfg(unix)]
    #[test]
    fn check_private_refuses_group_readable() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        fs::write(&p, b"x").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o640)).unwrap();
        let err = check_private(&p).unwrap_err();
        assert_eq!(err.kind(), crate::error::ErrorKind::StoreUnavailable);
        assert!(err.hint().unwrap().contains("chmod 600"));
    }

    #[test]
    fn remove_is_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        fs::write(&p, b"x").unwrap();
        assert!(remove(&p).unwrap());
        assert!(!remove(&p).unwrap());
    }
}
