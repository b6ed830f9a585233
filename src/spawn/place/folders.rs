//! The checks on the folders of [`super`]: ours, private, on a tmpfs; and our own `run/`
//! folder under the home.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// `run/` in our own folder: `$INFLUXCTL_CRED_HOME`, else the state dir (the data dir where
/// there is none), as the audit log.
pub(super) fn home_run_dir() -> Result<PathBuf> {
    if let Some(home) = std::env::var_os(crate::paths::HOME_ENV).filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(home).join("run"));
    }
    let base = dirs::state_dir().or_else(dirs::data_dir).ok_or_else(|| {
        Error::Other(format!(
            "no $XDG_RUNTIME_DIR and no home folder for a script's private folder; set {}",
            crate::paths::HOME_ENV
        ))
    })?;
    Ok(base.join("influxctl-cred").join("run"))
}

/// Why `dir` is not a private tmpfs folder of ours, if it is not.
pub(super) fn private_tmpfs(dir: &Path) -> std::result::Result<(), String> {
    let meta = fs::symlink_metadata(dir).map_err(|e| e.to_string())?;
    if !meta.is_dir() {
        return Err("not a folder".into());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if meta.uid() != nix::unistd::geteuid().as_raw() {
            return Err(format!("it belongs to uid {}", meta.uid()));
        }
        if meta.mode() & 0o077 != 0 {
            return Err(format!("others may use it (mode {:04o})", meta.mode() & 0o7777));
        }
    }
    if !is_tmpfs(dir) {
        return Err("it is not a tmpfs".into());
    }
    Ok(())
}

/// Whether `dir` is on a tmpfs (Linux; elsewhere never said).
pub(super) fn is_tmpfs(dir: &Path) -> bool {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        nix::sys::statfs::statfs(dir)
            .is_ok_and(|s| s.filesystem_type() == nix::sys::statfs::TMPFS_MAGIC)
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        let _ = dir;
        false
    }
}

/// Refuses a folder that is a symlink, is not ours, or that others can enter.
pub(super) fn check_ours(dir: &Path) -> Result<()> {
    let meta = fs::symlink_metadata(dir).map_err(|e| Error::io("cannot read", dir, e))?;
    if !meta.is_dir() {
        return Err(Error::Other(format!("{} is not a folder", dir.display())));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if meta.uid() != nix::unistd::getuid().as_raw() {
            return Err(Error::Other(format!("{} belongs to another user", dir.display())));
        }
    }
    crate::fsutil::check_private(dir)
}
