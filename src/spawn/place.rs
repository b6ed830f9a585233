//! Where the derived config of `exec` lives, and its removal (docs/spec.md §7.4-6).
//!
//! `--inject memfd` (the default on Linux): a sealed anonymous memory file (`memfd_create`,
//! sealed against writes, growth, shrinking and further seals), inherited by the child as an
//! extra fd and named `/dev/fd/N`: on no file system, readable as often as influxctl likes (each
//! open of `/dev/fd/N` starts at offset 0), gone when the last fd closes, even if we are killed.
//!
//! `--inject file` and `--inject fifo`: each run gets a fresh 0700 folder whose name records the
//! process id and the PID namespace of the run, `exec-<pid>-<pidns>-<random>`, in
//! `$XDG_RUNTIME_DIR/influxctl-cred/` when `$XDG_RUNTIME_DIR` is a private tmpfs folder of ours
//! (0700, our uid, `statfs` says tmpfs), else `influxctl-cred-exec-<pid>-<pidns>-<random>` in
//! `/dev/shm` (tmpfs), else in the temp dir, which is a disk file system: a file holding the
//! token is written there only with `allow_disk = true` in our settings (a FIFO holds no
//! bytes, so it may). Inside the folder `config.toml` is a 0600 file or a FIFO. [`Derived`]
//! removes it on drop, which runs on every way out of `exec` including a panic; a helper that
//! was SIGKILLed cannot, so [`Root::sweep`] removes folders whose process is gone: only folders
//! recorded with *our* PID namespace (a pid seen from another namespace, a container's, says
//! nothing about liveness here), and never folders without a recorded namespace.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::cli::Inject;
use crate::error::{Error, Result};
use crate::ui;

/// The file name influxctl is pointed at.
const FILE_NAME: &str = "config.toml";
/// The file name of a script's config socket.
#[cfg(target_os = "linux")]
const SOCKET_NAME: &str = "config.sock";

/// The folder that holds the per-run folders, and the prefix of their names.
#[derive(Debug, Clone)]
pub struct Root {
    dir: PathBuf,
    prefix: &'static str,
    /// Whether `dir` is on a tmpfs (RAM), where `--inject file` may write.
    tmpfs: bool,
    /// `allow_disk` when known (tests); else read from our settings when it matters.
    allow_disk: Option<bool>,
}

impl Root {
    /// `$XDG_RUNTIME_DIR/influxctl-cred` when `$XDG_RUNTIME_DIR` is a private tmpfs folder of
    /// ours, else `/dev/shm` when it is a tmpfs, else the temp dir (a disk).
    pub fn choose() -> Result<Root> {
        if let Some(run) = std::env::var_os("XDG_RUNTIME_DIR").filter(|v| !v.is_empty()) {
            let run = PathBuf::from(run);
            match private_tmpfs(&run) {
                Ok(()) => {
                    let dir = run.join("influxctl-cred");
                    crate::fsutil::private_dir(&dir)?;
                    check_ours(&dir)?;
                    return Ok(Root { dir, prefix: "exec-", tmpfs: true, allow_disk: None });
                }
                Err(why) => {
                    ui::verbose(format!("not using $XDG_RUNTIME_DIR {}: {why}", run.display()))
                }
            }
        }
        let shm = Path::new("/dev/shm");
        if is_tmpfs(shm) && shm.is_dir() {
            return Ok(Root {
                dir: shm.to_owned(),
                prefix: "influxctl-cred-exec-",
                tmpfs: true,
                allow_disk: None,
            });
        }
        Ok(Root {
            dir: std::env::temp_dir(),
            prefix: "influxctl-cred-exec-",
            tmpfs: false,
            allow_disk: None,
        })
    }

    /// A root at `dir` (tests), with `allow_disk` given.
    #[cfg(test)]
    pub fn at(dir: PathBuf, allow_disk: bool) -> Root {
        let tmpfs = is_tmpfs(&dir);
        Root { dir, prefix: "exec-", tmpfs, allow_disk: Some(allow_disk) }
    }

    /// Refuses to write a token file on a disk file system unless `allow_disk = true`.
    fn check_disk(&self) -> Result<()> {
        if self.tmpfs {
            return Ok(());
        }
        let allowed = match self.allow_disk {
            Some(a) => a,
            None => {
                let paths = crate::paths::Paths::from_env()?;
                crate::settings::Settings::load(&paths.settings())?.allow_disk
            }
        };
        if allowed {
            ui::verbose(format!(
                "writing the derived config on disk in {} (allow_disk)",
                self.dir.display()
            ));
            return Ok(());
        }
        // Only the ways out this OS has: memfd is Linux's, a FIFO Unix's.
        let instead = if cfg!(target_os = "linux") {
            "there is no private tmpfs ($XDG_RUNTIME_DIR, /dev/shm); use --inject memfd or --inject fifo, or"
        } else if cfg!(unix) {
            "there is no private tmpfs; use --inject fifo, or"
        } else {
            "this OS has no RAM-only folder for it;"
        };
        Err(Error::Usage(format!(
            "--inject file would write the token to a disk file system ({}): {instead} set `allow_disk = true` in influxctl-cred's config.toml",
            self.dir.display()
        )))
    }

    /// The root of a script's per-run folders (its shim, its FIFO): [`Root::private_root`] of
    /// [`Root::choose`].
    pub fn for_scripts() -> Result<Root> {
        Root::choose()?.private_root()
    }

    /// A root inside a folder only we can write: this one when it is already private
    /// (`$XDG_RUNTIME_DIR/influxctl-cred`), else `run/` in our own folder under the home
    /// (`$INFLUXCTL_CRED_HOME/run`, else `<state dir>/influxctl-cred/run`). Never a name in a
    /// shared folder such as `/dev/shm`: another user could create it first (and block us for
    /// good), or create it again once we removed it, under a `PATH` entry that a process the
    /// script left behind still holds. It holds no token file (a shim, a FIFO), so a disk is
    /// fine.
    pub fn private_root(&self) -> Result<Root> {
        if self.prefix == "exec-" {
            return Ok(self.clone());
        }
        self.private_root_in(home_run_dir()?)
    }

    /// [`Root::private_root`] with our `run/` folder given.
    fn private_root_in(&self, dir: PathBuf) -> Result<Root> {
        if self.prefix == "exec-" {
            return Ok(self.clone());
        }
        crate::fsutil::private_dir(&dir)?;
        check_ours(&dir)?;
        Ok(Root { tmpfs: is_tmpfs(&dir), dir, prefix: "exec-", allow_disk: self.allow_disk })
    }

    /// A fresh 0700 per-run folder, named so that [`Root::sweep`] removes it once this process
    /// is gone (the derived config's folder, the `influxctl` shim's folder).
    pub fn private_folder(&self) -> Result<tempfile::TempDir> {
        let mut builder = tempfile::Builder::new();
        let prefix = format!("{}{}-{}-", self.prefix, std::process::id(), pid_namespace());
        builder.prefix(&prefix);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(fs::Permissions::from_mode(0o700));
        }
        let dir = builder
            .tempdir_in(&self.dir)
            .map_err(|e| Error::io("cannot create a private folder in", &self.dir, e))?;
        crate::fsutil::check_private(dir.path())?;
        Ok(dir)
    }

    /// Removes the per-run folders of helpers that no longer run. Best effort: a folder that
    /// cannot be removed is left for the next run. A folder is ours only when its recorded PID
    /// namespace is ours and its process is gone.
    pub fn sweep(&self) {
        let Ok(read) = fs::read_dir(&self.dir) else { return };
        let me = std::process::id();
        let ns = pid_namespace();
        for item in read.flatten() {
            let name = item.file_name();
            let Some((pid, their_ns)) =
                name.to_str().and_then(|n| n.strip_prefix(self.prefix)).and_then(parse_run_name)
            else {
                continue;
            };
            if their_ns != ns {
                ui::verbose(format!(
                    "keeping {}: it belongs to another PID namespace",
                    item.path().display()
                ));
                continue;
            }
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

/// The derived config of one run: a sealed memfd, or a private folder and `config.toml` in
/// it; removed (closed) on drop.
pub struct Derived {
    dir: Option<tempfile::TempDir>,
    path: PathBuf,
    /// The file and how many bytes it holds, to overwrite before removal (none for a FIFO).
    file: Option<(fs::File, usize)>,
    #[cfg(unix)]
    fifo: Option<super::fifo::FifoServer>,
    /// The memfd; the child inherits it (it is not close-on-exec) and reads `/dev/fd/N`.
    #[cfg(target_os = "linux")]
    memfd: Option<std::os::fd::OwnedFd>,
    /// A script's memfd, kept here and handed out on a socket ([`Derived::served`]).
    #[cfg(target_os = "linux")]
    served: Option<super::served::Server>,
}

impl Derived {
    /// The derived config of one run, as `inject` says. A memfd lives on no file system, so
    /// nothing of a killed run is ever left behind by one: only `--inject file|fifo` choose
    /// the folder root and sweep it (one `readdir`) for the leftovers of killed runs.
    pub fn place(inject: Inject, text: Zeroizing<String>) -> Result<Derived> {
        if inject == Inject::Memfd {
            return Derived::memfd(text);
        }
        let root = Root::choose()?;
        root.sweep();
        Derived::create(&root, inject, text)
    }

    fn empty() -> Derived {
        Derived {
            dir: None,
            path: PathBuf::new(),
            file: None,
            #[cfg(unix)]
            fifo: None,
            #[cfg(target_os = "linux")]
            memfd: None,
            #[cfg(target_os = "linux")]
            served: None,
        }
    }

    /// The sealed memfd holding `text` (dropped, so zeroized, here).
    fn memfd(text: Zeroizing<String>) -> Result<Derived> {
        #[cfg(target_os = "linux")]
        {
            use std::os::fd::AsRawFd;
            let fd = memfd::sealed(text.as_bytes(), false)?;
            let mut derived = Derived::empty();
            derived.path = PathBuf::from(format!("/dev/fd/{}", fd.as_raw_fd()));
            derived.memfd = Some(fd);
            Ok(derived)
        }
        #[cfg(not(target_os = "linux"))]
        {
            drop(text);
            Err(Error::OperationNotSupported("--inject memfd off Linux".into()))
        }
    }

    /// A script's derived config under `--inject memfd`: a sealed memfd that only this process
    /// holds (close-on-exec), handed to each `influxctl` shim that asks on a Unix socket in a
    /// fresh private folder of `root`, while this value lives ([`super::served`]). The path is
    /// the socket's.
    #[cfg(target_os = "linux")]
    pub fn served(root: &Root, text: Zeroizing<String>) -> Result<Derived> {
        let fd = memfd::sealed(text.as_bytes(), true)?;
        drop(text);
        let mut derived = Derived::empty();
        let dir = root.private_folder()?;
        derived.path = dir.path().join(SOCKET_NAME);
        derived.dir = Some(dir);
        derived.served = Some(super::served::Server::start(&derived.path, fd)?);
        Ok(derived)
    }

    /// Creates the memfd, or the folder and the file or FIFO in `root`, holding `text`; `text`
    /// is dropped (zeroized) here unless a FIFO must go on serving it.
    pub fn create(root: &Root, inject: Inject, text: Zeroizing<String>) -> Result<Derived> {
        if inject == Inject::Memfd {
            return Derived::memfd(text);
        }
        let mut derived = Derived::empty();
        if inject == Inject::File {
            root.check_disk()?;
        }
        let dir = root.private_folder()?;
        derived.path = dir.path().join(FILE_NAME);
        derived.dir = Some(dir);
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
            Inject::Memfd => unreachable!("handled above"),
        }
        Ok(derived)
    }

    /// The path to give influxctl as `--config`.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The sealed memfd, when the derived config is one: the descriptor the child inherits.
    #[cfg(target_os = "linux")]
    pub fn memfd_fd(&self) -> Option<std::os::fd::BorrowedFd<'_>> {
        use std::os::fd::AsFd;
        self.memfd.as_ref().map(AsFd::as_fd)
    }
}

mod folders;
mod leftover;
#[cfg(target_os = "linux")]
mod memfd;
use folders::{check_ours, home_run_dir, is_tmpfs, private_tmpfs};
pub(crate) use leftover::live_channel;
use leftover::{parse_run_name, pid_namespace, process_alive};

/// A sealed memfd holding `bytes`, close-on-exec.
#[cfg(all(test, target_os = "linux"))]
pub(super) fn sealed_memfd(bytes: &[u8]) -> Result<std::os::fd::OwnedFd> {
    memfd::sealed(bytes, true)
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
        #[cfg(target_os = "linux")]
        drop(self.memfd.take());
        #[cfg(target_os = "linux")]
        drop(self.served.take());
        #[cfg(unix)]
        drop(self.fifo.take());
        if let Some((mut file, len)) = self.file.take() {
            // Overwrite before unlinking, so the freed pages do not keep the token.
            use std::io::{Seek, SeekFrom};
            let _ = file.seek(SeekFrom::Start(0)).and_then(|_| file.write_all(&vec![0u8; len]));
        }
        if let Some(dir) = self.dir.take() {
            remove_run_folder(dir, &self.path);
        }
    }
}

/// Removes a per-run folder that holds only `file`: two calls, where a recursive removal takes
/// more; a warning when it cannot be removed.
pub(crate) fn remove_run_folder(mut dir: tempfile::TempDir, file: &Path) {
    let _ = fs::remove_file(file);
    if fs::remove_dir(dir.path()).is_ok() {
        dir.disable_cleanup(true);
        return;
    }
    let shown = dir.path().to_owned();
    if let Err(e) = dir.close() {
        ui::warn(format!("cannot remove {}: {e}; remove it by hand", shown.display()));
    }
}

#[cfg(all(test, unix))]
mod tests;
