//! The private folder put at the front of a script's `PATH` by `exec` (docs/spec.md §7.4): it holds one
//! entry, `influxctl`, a symlink to our own binary (copied off Unix, where a symlink needs a
//! privilege and a hard link of a running binary cannot be removed). Started under that name with the markers of exec's shim in its
//! environment, our binary runs the real influxctl with the derived config. The folder is a
//! per-run folder (0700, named after this process) of [`Root::private_root`], a folder only we
//! can write, so it is removed on drop and, after a SIGKILL, by the next script run's sweep;
//! and a `PATH` entry that outlives it can never name another user's folder.

use std::path::{Path, PathBuf};

use super::place::Root;
use crate::error::{Error, Result};

/// The derived config of the running `exec` (also for the script's own use).
pub const CONFIG_VAR: &str = "INFLUXCTL_CRED_CONFIG";
/// The real influxctl the shim runs; empty when `exec` found none.
pub const REAL_VAR: &str = "INFLUXCTL_CRED_SHIM_REAL";
/// The user's config the derived one was made from.
pub const SOURCE_VAR: &str = "INFLUXCTL_CRED_SHIM_SOURCE";
/// The profile the derived config holds the token of.
pub const PROFILE_VAR: &str = "INFLUXCTL_CRED_SHIM_PROFILE";
/// The store the token came from (for a nested exec's `--store`).
pub const STORE_VAR: &str = "INFLUXCTL_CRED_SHIM_STORE";
/// When the token expires, in Unix seconds; empty when it never does (`--min-ttl`).
pub const EXPIRES_VAR: &str = "INFLUXCTL_CRED_SHIM_EXPIRES";
/// The `--inject` mode the outer exec ran with.
pub const INJECT_VAR: &str = "INFLUXCTL_CRED_SHIM_INJECT";
/// The outer exec's `--database-token` spec and lifetime; empty without one.
pub const DATABASE_TOKEN_VAR: &str = "INFLUXCTL_CRED_SHIM_DATABASE_TOKEN";

/// The account and cluster the token is bound to (`{"account_id":…,"cluster_id":…}`); empty
/// when it is bound to none (`--account`/`--cluster` of a call).
pub const BINDING_VAR: &str = "INFLUXCTL_CRED_SHIM_BINDING";

/// The shim's file name.
#[cfg(unix)]
pub const SHIM_NAME: &str = "influxctl";
#[cfg(not(unix))]
pub const SHIM_NAME: &str = "influxctl.exe";

/// The shim's folder; removed on drop.
pub struct ShimDir {
    dir: Option<tempfile::TempDir>,
    shim: PathBuf,
}

impl ShimDir {
    /// A fresh private folder in `root` holding the `influxctl` shim. It holds no secret, so a
    /// disk file system is fine for it.
    pub fn create(root: &Root) -> Result<ShimDir> {
        let exe = std::env::current_exe()
            .map_err(|e| Error::Other(format!("cannot find our own binary for the shim: {e}")))?;
        // Never a name in a shared folder: once removed, another user could create it again
        // under a PATH entry that a process the script left behind still holds.
        let root = root.private_root()?;
        root.sweep();
        let dir = root.private_folder()?;
        let shim = dir.path().join(SHIM_NAME);
        link(&exe, &shim).map_err(|e| Error::io("cannot create the influxctl shim", &shim, e))?;
        Ok(ShimDir { dir: Some(dir), shim })
    }

    /// The folder to put first on `PATH`.
    pub fn path(&self) -> &Path {
        self.dir.as_ref().map_or_else(|| Path::new(""), |d| d.path())
    }
}

#[cfg(unix)]
fn link(exe: &Path, shim: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(exe, shim)
}

/// A copy, never a hard link: Windows refuses to delete any name of a running program's file
/// (Access denied), so a hard link of our own running binary could not be removed on drop and
/// every script run would leave its folder in %TEMP% (found under Wine, docs/platforms.md).
#[cfg(not(unix))]
fn link(exe: &Path, shim: &Path) -> std::io::Result<()> {
    std::fs::copy(exe, shim).map(|_| ())
}

impl Drop for ShimDir {
    fn drop(&mut self) {
        if let Some(dir) = self.dir.take() {
            super::place::remove_run_folder(dir, &self.shim);
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn shim_dir_is_private_links_to_us_and_is_removed() {
        let base = tempfile::tempdir().unwrap();
        let root = Root::at(base.path().to_owned(), false);
        let shim = ShimDir::create(&root).unwrap();
        let dir = shim.path().to_owned();
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
        let target = fs::read_link(dir.join(SHIM_NAME)).unwrap();
        assert_eq!(target, std::env::current_exe().unwrap());
        drop(shim);
        assert!(!dir.exists());
        assert_eq!(fs::read_dir(base.path()).unwrap().count(), 0);
    }
}
