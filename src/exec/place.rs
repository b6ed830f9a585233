//! Where the derived config of `exec` lives, and its removal. Each run gets a fresh 0700 folder
//! named after its process id, `$XDG_RUNTIME_DIR/influxctl-cred/exec-<pid>-<random>/` (tmpfs,
//! private to the user) when that is set, else `<temp>/influxctl-cred-exec-<pid>-<random>/`.
//! Inside it `config.toml` is a 0600 file (`--inject file`) or a FIFO (`--inject fifo`).
//! [`Derived`] removes it on drop, which runs on every way out of `exec` including a panic; a
//! helper that was SIGKILLed cannot, so [`Root::sweep`] removes folders whose process is gone.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::cli::Inject;
use crate::error::{Error, Result};
use crate::ui;

/// The file name influxctl is pointed at.
const FILE_NAME: &str = "config.toml";

/// The folder that holds the per-run folders, and the prefix of their names.
#[derive(Debug, Clone)]
pub struct Root {
    dir: PathBuf,
    prefix: &'static str,
}

impl Root {
    /// `$XDG_RUNTIME_DIR/influxctl-cred` when `$XDG_RUNTIME_DIR` is an existing folder, else
    /// the temp dir.
    pub fn choose() -> Result<Root> {
        if let Some(run) = std::env::var_os("XDG_RUNTIME_DIR").filter(|v| !v.is_empty()) {
            let run = PathBuf::from(run);
            if run.is_dir() {
                let dir = run.join("influxctl-cred");
                crate::fsutil::private_dir(&dir)?;
                check_ours(&dir)?;
                return Ok(Root { dir, prefix: "exec-" });
            }
            ui::verbose(format!("$XDG_RUNTIME_DIR {} is not a folder", run.display()));
        }
        Ok(Root { dir: std::env::temp_dir(), prefix: "influxctl-cred-exec-" })
    }

    /// A root at `dir` (tests).
    #[cfg(test)]
    pub fn at(dir: PathBuf) -> Root {
        Root { dir, prefix: "exec-" }
    }

    /// Removes the per-run folders of helpers that no longer run. Best effort: a folder that
    /// cannot be removed is left for the next run.
    pub fn sweep(&self) {
        let Ok(read) = fs::read_dir(&self.dir) else { return };
        let me = std::process::id();
        for item in read.flatten() {
            let name = item.file_name();
            let Some(pid) = name
                .to_str()
                .and_then(|n| n.strip_prefix(self.prefix))
                .and_then(|rest| rest.split_once('-'))
                .and_then(|(pid, _)| pid.parse::<u32>().ok())
            else {
                continue;
            };
            if pid == me || process_alive(pid) || check_ours(&item.path()).is_err() {
                continue;
            }
            match fs::remove_dir_all(item.path()) {
                Ok(()) => ui::verbose(format!("removed the leftover {}", item.path().display())),
                Err(e) => ui::verbose(format!("cannot remove {}: {e}", item.path().display())),
            }
        }
    }
}

/// Refuses a folder that is a symlink, is not ours, or that others can enter.
fn check_ours(dir: &Path) -> Result<()> {
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

/// Whether process `pid` exists (a process of another user counts as alive).
#[cfg(unix)]
fn process_alive(pid: u32) -> bool {
    use nix::errno::Errno;
    use nix::unistd::Pid;
    let Ok(raw) = i32::try_from(pid) else { return false };
    !matches!(nix::sys::signal::kill(Pid::from_raw(raw), None), Err(Errno::ESRCH))
}

/// Off Unix, liveness is not checked, so nothing is swept.
#[cfg(not(unix))]
fn process_alive(_pid: u32) -> bool {
    true
}

/// The derived config of one run: a private folder and `config.toml` in it, removed on drop.
pub struct Derived {
    dir: Option<tempfile::TempDir>,
    path: PathBuf,
    /// The file and how many bytes it holds, to overwrite before removal (none for a FIFO).
    file: Option<(fs::File, usize)>,
    #[cfg(unix)]
    fifo: Option<super::fifo::FifoServer>,
}

impl Derived {
    /// Creates the folder and the file or FIFO holding `text`.
    pub fn create(root: &Root, inject: Inject, text: Zeroizing<String>) -> Result<Derived> {
        let mut builder = tempfile::Builder::new();
        let prefix = format!("{}{}-", root.prefix, std::process::id());
        builder.prefix(&prefix);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(fs::Permissions::from_mode(0o700));
        }
        let dir = builder
            .tempdir_in(&root.dir)
            .map_err(|e| Error::io("cannot create a private folder in", &root.dir, e))?;
        crate::fsutil::check_private(dir.path())?;
        let path = dir.path().join(FILE_NAME);
        let mut derived = Derived {
            dir: Some(dir),
            path,
            file: None,
            #[cfg(unix)]
            fifo: None,
        };
        match inject {
            Inject::File => {
                derived.file = Some((write_private(&derived.path, text.as_bytes())?, text.len()));
            }
            #[cfg(unix)]
            Inject::Fifo => {
                derived.fifo = Some(super::fifo::FifoServer::start(&derived.path, text)?);
            }
            #[cfg(not(unix))]
            Inject::Fifo => {
                return Err(Error::OperationNotSupported("--inject fifo off Unix".into()));
            }
        }
        Ok(derived)
    }

    /// The path to give influxctl as `--config`.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Creates `path` as a new 0600 file holding `bytes`; the file stays open for the overwrite.
fn write_private(path: &Path, bytes: &[u8]) -> Result<fs::File> {
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut file = opts.open(path).map_err(|e| Error::io("cannot create", path, e))?;
    file.write_all(bytes).map_err(|e| Error::io("cannot write", path, e))?;
    Ok(file)
}

impl Drop for Derived {
    fn drop(&mut self) {
        #[cfg(unix)]
        drop(self.fifo.take());
        if let Some((mut file, len)) = self.file.take() {
            // Overwrite before unlinking, so the freed pages do not keep the token.
            use std::io::{Seek, SeekFrom};
            let _ = file.seek(SeekFrom::Start(0)).and_then(|_| file.write_all(&vec![0u8; len]));
        }
        let Some(mut dir) = self.dir.take() else { return };
        // The folder holds only config.toml: two calls, where a recursive removal takes more.
        let _ = fs::remove_file(&self.path);
        if fs::remove_dir(dir.path()).is_ok() {
            dir.disable_cleanup(true);
            return;
        }
        let shown = dir.path().to_owned();
        if let Err(e) = dir.close() {
            ui::warn(format!("cannot remove {}: {e}; remove it by hand", shown.display()));
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn derived_file_is_private_and_removed_on_drop() {
        let root_dir = tempfile::tempdir().unwrap();
        let root = Root::at(root_dir.path().to_owned());
        let d = Derived::create(&root, Inject::File, Zeroizing::new("x = 1\n".into())).unwrap();
        assert_eq!(fs::read_to_string(d.path()).unwrap(), "x = 1\n");
        assert_eq!(mode(d.path()), 0o600);
        assert_eq!(mode(d.path().parent().unwrap()), 0o700);
        let dir = d.path().parent().unwrap().to_owned();
        drop(d);
        assert!(!dir.exists());
    }

    #[test]
    fn sweep_removes_folders_of_dead_processes_only() {
        let root_dir = tempfile::tempdir().unwrap();
        let root = Root::at(root_dir.path().to_owned());
        // A pid that cannot exist (above the Linux maximum), ours, and one not of our naming.
        for name in ["exec-99999999-abc", &format!("exec-{}-abc", std::process::id()), "other"] {
            let p = root_dir.path().join(name);
            fs::create_dir(&p).unwrap();
            fs::set_permissions(&p, fs::Permissions::from_mode(0o700)).unwrap();
        }
        root.sweep();
        assert!(!root_dir.path().join("exec-99999999-abc").exists());
        assert!(root_dir.path().join(format!("exec-{}-abc", std::process::id())).exists());
        assert!(root_dir.path().join("other").exists());
    }
}
