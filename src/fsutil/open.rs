//! The one way we read a file (docs/spec.md §2, strict modes as ssh's `StrictModes`). [`read`] opens
//! without blocking (`O_NONBLOCK`, so a FIFO is never waited on) and without following a final
//! symlink where the file is ours (`O_NOFOLLOW`), checks the open file itself (`fstat`): a
//! regular file, owned by us or root, not writable by group or others (secret files: not
//! readable either), in folders that are owned by us or root and not writable by group or others
//! up to `/` (a root-owned sticky folder such as `/tmp` is fine), and reads at most a size cap.
//! Every refusal names the path and a fix that the user can apply: a `chmod` only on something
//! the user owns, else "copy it to a file you own" or "move it to a folder you own".

use std::fs::{File, OpenOptions};
use std::io::Read;
use std::path::Path;

use super::Fingerprint;
use super::folders::check_folders_for;
use crate::error::{Error, ErrorKind, Result};
use crate::secret::SecretBytes;

/// Cap of configuration files (our settings, influxctl's config.toml).
pub const CONFIG_CAP: u64 = 1 << 20;
/// Cap of identity files and sidecars.
pub const SMALL_CAP: u64 = 64 << 10;
/// Cap of store entry files: an entry is a few hundred bytes plus about 200 bytes per
/// recipient, so 256 KiB leaves room for a thousand recipients.
pub const ENTRY_CAP: u64 = 256 << 10;

/// What a file is, which decides its cap, whether a final symlink is followed and how a
/// refusal is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// Our settings (`config.toml` in our home): ours, refused with exit 2.
    Settings,
    /// influxctl's `config.toml`: the user's (a symlink is followed, its target checked).
    InfluxctlConfig,
    /// A file-store entry (`*.age`): ours, secret.
    StoreEntry,
    /// The metadata sidecar of an entry: ours.
    Sidecar,
    /// Our default identity (`identity.txt`): ours, secret.
    OwnIdentity,
    /// An identity file the user named (settings, `INFLUXCTL_CRED_AGE_IDENTITY_FILE`): secret.
    Identity,
    /// A secret of another tool that the user keeps (`~/.vault-token`, an AppRole secret id
    /// file, a JWT file): secret, a symlink is followed.
    UserSecret,
    /// A CA certificate bundle the user named (`[vault] ca`, `BAO_CACERT`): it decides whom we
    /// trust with a token, so it must not be writable by others; a symlink is followed.
    Certificate,
}

impl FileKind {
    fn cap(self) -> u64 {
        match self {
            FileKind::Settings | FileKind::InfluxctlConfig | FileKind::Certificate => CONFIG_CAP,
            FileKind::StoreEntry => ENTRY_CAP,
            FileKind::Sidecar
            | FileKind::OwnIdentity
            | FileKind::Identity
            | FileKind::UserSecret => SMALL_CAP,
        }
    }

    /// Ours: opened with `O_NOFOLLOW`, and its path is fixed (the fix replaces it in place).
    fn ours(self) -> bool {
        !matches!(
            self,
            FileKind::InfluxctlConfig
                | FileKind::Identity
                | FileKind::UserSecret
                | FileKind::Certificate
        )
    }

    /// Secret: group and others may not read it either (checked where there are mode bits).
    #[cfg(unix)]
    fn secret(self) -> bool {
        matches!(
            self,
            FileKind::StoreEntry
                | FileKind::OwnIdentity
                | FileKind::Identity
                | FileKind::UserSecret
        )
    }

    /// The kind of a refusal: a config file is `invalid-request` (2), the rest
    /// `store-unavailable` (5).
    pub fn refusal(self) -> ErrorKind {
        match self {
            FileKind::Settings | FileKind::InfluxctlConfig => ErrorKind::InvalidRequest,
            _ => ErrorKind::StoreUnavailable,
        }
    }

    fn what(self) -> &'static str {
        match self {
            FileKind::Settings => "settings file",
            FileKind::InfluxctlConfig => "influxctl config",
            FileKind::StoreEntry => "store file",
            FileKind::Sidecar => "store sidecar",
            FileKind::OwnIdentity | FileKind::Identity => "identity file",
            FileKind::UserSecret => "secret file",
            FileKind::Certificate => "CA certificate file",
        }
    }
}

/// Reads `path` as a `kind` file: `None` when it does not exist, a typed refusal when strict
/// modes do not trust it, never a wait on a FIFO or device, never more than the cap.
pub fn read(path: &Path, kind: FileKind) -> Result<Option<SecretBytes>> {
    Ok(read_seen(path, kind)?.map(|(bytes, _)| bytes))
}

/// [`read`], with the fingerprint of the file as opened (from its `fstat`, before the read),
/// for [`still_seen`] to tell later whether it is still the same file. The fingerprint is
/// `None` when it cannot prove that (off Unix, or the file changed within the last second or
/// so: [`Fingerprint::is_racy`]).
pub fn read_seen(
    path: &Path,
    kind: FileKind,
) -> Result<Option<(SecretBytes, Option<Fingerprint>)>> {
    let Some(file) = open(path, kind)? else { return Ok(None) };
    let meta = file.metadata().map_err(|e| Error::io("cannot read", path, e))?;
    let print = Fingerprint::of_meta(&meta).filter(|p| !p.is_racy(std::time::SystemTime::now()));
    check_file(path, &meta, kind)?;
    check_parents(path, kind)?;
    let cap = kind.cap();
    let mut bytes = SecretBytes::new(Vec::with_capacity(meta.len().min(cap) as usize));
    file.take(cap + 1).read_to_end(&mut bytes).map_err(|e| Error::io("cannot read", path, e))?;
    if bytes.len() as u64 > cap {
        return Err(refuse(
            path,
            kind.refusal(),
            format!("it is larger than {} KiB, too large for a {}", cap >> 10, kind.what()),
            "check that the path names the right file".to_owned(),
        ));
    }
    Ok(Some((bytes, print)))
}

/// Whether `path` is still the file that [`read_seen`] fingerprinted as `seen`, and still
/// trusted, so that what was made of its bytes still stands: one `statx` of it (following a
/// final link where [`read`] does), the checks [`read`] makes of the file itself on that
/// `statx`, and the folders' walk (kept: one `statx` per folder). `Ok(false)` on any difference
/// (read it again); a refusal is the error [`read`] would give.
pub fn still_seen(path: &Path, kind: FileKind, seen: &Fingerprint) -> Result<bool> {
    let Ok(mut meta) = std::fs::symlink_metadata(path) else { return Ok(false) };
    let linked = meta.file_type().is_symlink();
    if linked && !kind.ours() {
        let Ok(target) = std::fs::metadata(path) else { return Ok(false) };
        meta = target;
    }
    if Fingerprint::of_meta(&meta).as_ref() != Some(seen) {
        return Ok(false);
    }
    check_file(path, &meta, kind)?;
    check_parents_linked(path, kind, linked)?;
    Ok(true)
}

fn open(path: &Path, kind: FileKind) -> Result<Option<File>> {
    let mut opts = OpenOptions::new();
    opts.read(true);
    #[cfg(not(unix))]
    let _ = kind;
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        let mut flags = libc::O_NONBLOCK | libc::O_NOCTTY;
        if kind.ours() {
            flags |= libc::O_NOFOLLOW;
        }
        opts.custom_flags(flags);
    }
    match opts.open(path) {
        Ok(f) => Ok(Some(f)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        #[cfg(unix)]
        Err(e) if kind.ours() && e.raw_os_error() == Some(libc::ELOOP) => Err(refuse(
            path,
            kind.refusal(),
            "it is a symbolic link; influxctl-cred never reads its own files through one".into(),
            format!("replace the link with a regular file of yours at {}", path.display()),
        )),
        // A socket cannot be opened; say what it is rather than "no such device".
        #[cfg(unix)]
        Err(e) if e.raw_os_error() == Some(libc::ENXIO) => Err(not_regular(path, kind, "a socket")),
        Err(e) => Err(Error::io("cannot open", path, e)),
    }
}

fn not_regular(path: &Path, kind: FileKind, what: &str) -> Error {
    refuse(
        path,
        kind.refusal(),
        format!("it is {what}, not a regular file"),
        format!("put a regular {} at {}", kind.what(), path.display()),
    )
}

/// The checks on the opened file itself.
fn check_file(path: &Path, meta: &std::fs::Metadata, kind: FileKind) -> Result<()> {
    if !meta.is_file() {
        return Err(not_regular(path, kind, describe_type(meta)));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let (uid, mode) = (meta.uid(), meta.mode() & 0o7777);
        let me = euid();
        let copy_fix = || copy_hint(path, kind);
        if uid != me && uid != 0 {
            return Err(refuse(
                path,
                kind.refusal(),
                format!("it belongs to uid {uid}, not to you (uid {me}) or root"),
                copy_fix(),
            ));
        }
        if kind.secret() && mode & 0o077 != 0 {
            if uid == me {
                return Err(Error::TooOpen { path: path.to_owned(), mode });
            }
            return Err(refuse(
                path,
                kind.refusal(),
                format!("group or others may use it (mode {mode:04o})"),
                copy_fix(),
            ));
        }
        if mode & 0o022 != 0 {
            let fix =
                if uid == me { format!("run `chmod go-w {}`", path.display()) } else { copy_fix() };
            return Err(refuse(
                path,
                kind.refusal(),
                format!("group or others may write to it (mode {mode:04o})"),
                fix,
            ));
        }
    }
    Ok(())
}

#[cfg(unix)]
fn copy_hint(path: &Path, kind: FileKind) -> String {
    if kind.ours() {
        format!(
            "replace it with a copy you own: `install -m 600 {p} {p}.new && mv {p}.new {p}`",
            p = path.display()
        )
    } else {
        format!(
            "copy it to a file you own in a folder you own (`install -m 600 {} NEW`) and use the copy",
            path.display()
        )
    }
}

fn describe_type(meta: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if meta.is_dir() { "a folder" } else { "not a regular file" }
}

/// The folders that hold `path` (and, for a followed symlink, its target).
fn check_parents(path: &Path, kind: FileKind) -> Result<()> {
    let linked =
        !kind.ours() && std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    check_parents_linked(path, kind, linked)
}

/// [`check_parents`] for a caller that knows whether `path` is a symbolic link.
fn check_parents_linked(path: &Path, kind: FileKind, linked: bool) -> Result<()> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    check_folders_for(parent, Some(path), kind.refusal())?;
    if linked
        && let Ok(target) = std::fs::canonicalize(path)
        && let Some(dir) = target.parent()
    {
        check_folders_for(dir, Some(path), kind.refusal())?;
    }
    Ok(())
}

/// Our effective uid, asked once (this process never changes it).
#[cfg(unix)]
pub(super) fn euid() -> u32 {
    static EUID: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *EUID.get_or_init(|| nix::unistd::geteuid().as_raw())
}

pub(super) fn refuse(path: &Path, kind: ErrorKind, reason: String, fix: String) -> Error {
    Error::Untrusted { path: path.to_owned(), reason, fix, kind }
}

#[cfg(all(test, unix))]
mod tests;
