//! The strict-modes walk over the folders above a file (docs/spec.md §2): every folder from the file's
//! own up to `/` must be owned by us or root and not writable by group or others (a root-owned
//! sticky folder such as `/tmp` is fine).
//!
//! The first walk of a folder resolves it (`realpath`: a `readlink` per component) and checks
//! each folder of the resolved path. The process keeps that resolved chain, each folder with its
//! device and inode, for up to [`KEPT_WALKS`] folders. A later walk of the same folder does not
//! resolve it again: one `statx` of the folder as asked (following links) must still give the
//! first folder of the chain, and one `statx` of each folder of the chain (not following links)
//! must still give a folder with the same device and inode, whose owner and mode are then
//! checked again, from that fresh `statx`, by the same rule. Any difference (a folder renamed,
//! replaced, turned into a link, a link pointing elsewhere) or any refusal walks again from
//! scratch, which gives the refusal its usual message. So a folder made group- or
//! world-writable mid-session is refused on the very next check, as on the first.
//!
//! Within one request of a long session ([`one_request`]) a folder found trusted is not
//! checked again by the later walks of the same request (the folders of the store, of the
//! identity files and of influxctl's config share most of theirs); every request starts afresh.
//! A folder found trusted is a resolved path checked as a folder that is not a link, so any
//! walk through that same path in the same request goes through that same checked folder.
//!
//! Why the chain stands for the path: its folders are not links (checked each time) and each
//! is the same folder as before, still writable only by us or root, so nobody else can have
//! changed which folder each name in it leads to; and the folder as asked still resolves to
//! the chain's first folder (a folder has one parent: folders cannot be hard-linked).

#[cfg(unix)]
use std::cell::RefCell;
use std::path::Path;
#[cfg(unix)]
use std::path::PathBuf;

#[cfg(unix)]
use super::open::{euid, refuse};
#[cfg(unix)]
use crate::error::Error;
use crate::error::{ErrorKind, Result};

#[cfg(unix)]
/// How many folders' walks a process keeps (the store folder and the folders of a few
/// identity files and configs).
const KEPT_WALKS: usize = 8;

/// A folder as asked for, and the resolved folders from it up to `/`, each with its device
/// and inode.
#[cfg(unix)]
struct Walk {
    asked: PathBuf,
    chain: Vec<(PathBuf, u64, u64)>,
}

#[cfg(unix)]
thread_local! {
    static WALKS: RefCell<Vec<Walk>> = const { RefCell::new(Vec::new()) };
    /// Inside [`one_request`]: the resolved folders found trusted (not a link, owner and mode
    /// fine) so far in this request, which later walks of the same request do not `statx`
    /// again. `None` outside a request: every walk checks every folder.
    static THIS_REQUEST: RefCell<Option<Vec<PathBuf>>> = const { RefCell::new(None) };
}

/// Runs `f` as one request of a long session (the helper): within it, each folder is checked
/// once, however many files below it the request reads (the store folder, the folders of the
/// identity files and of influxctl's config share most of theirs). The next request checks
/// them all again.
pub fn one_request<T>(f: impl FnOnce() -> T) -> T {
    #[cfg(unix)]
    {
        struct End;
        impl Drop for End {
            fn drop(&mut self) {
                THIS_REQUEST.with(|r| *r.borrow_mut() = None);
            }
        }
        THIS_REQUEST.with(|r| *r.borrow_mut() = Some(Vec::new()));
        let _end = End;
        f()
    }
    #[cfg(not(unix))]
    f()
}

/// Whether `folder` was found trusted earlier in this request.
#[cfg(unix)]
fn checked_in_this_request(folder: &Path) -> bool {
    THIS_REQUEST
        .with(|r| r.borrow().as_ref().is_some_and(|seen| seen.iter().any(|f| same(f, folder))))
}

/// Notes that `folder` (resolved) was found trusted in this request.
#[cfg(unix)]
fn note_checked(folder: &Path) {
    THIS_REQUEST.with(|r| {
        if let Some(seen) = r.borrow_mut().as_mut()
            && !seen.iter().any(|f| same(f, folder))
        {
            seen.push(folder.to_owned());
        }
    });
}

/// Refuses `dir` or any folder above it (up to `/`) that is not owned by us or root, or that
/// group or others may write to (a root-owned sticky folder such as `/tmp` is fine). A `dir`
/// that does not exist yet is checked from its nearest existing ancestor. `kind` is the error
/// kind of a refusal.
pub fn check_folders(dir: &Path, kind: ErrorKind) -> Result<()> {
    check_folders_for(dir, None, kind)
}

/// [`check_folders`] for the folder of `file` (named in a refusal's fix).
#[cfg(unix)]
pub(super) fn check_folders_for(dir: &Path, file: Option<&Path>, kind: ErrorKind) -> Result<()> {
    if still_fine(dir) {
        return Ok(());
    }
    forget(dir);
    let mut start: PathBuf = dir.to_owned();
    let canonical = loop {
        match std::fs::canonicalize(&start) {
            Ok(c) => break c,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => match start.parent() {
                Some(p) if !p.as_os_str().is_empty() => start = p.to_owned(),
                _ => return Ok(()),
            },
            Err(e) => return Err(Error::io("cannot resolve", &start, e)),
        }
    };
    let mut chain = Vec::new();
    let mut keepable = start == dir && dir.is_absolute();
    for folder in canonical.ancestors() {
        let read = |m: std::io::Result<std::fs::Metadata>| {
            m.map_err(|e| Error::io("cannot read", folder, e))
        };
        let mut meta = read(std::fs::symlink_metadata(folder))?;
        let is_folder = meta.is_dir();
        if !is_folder {
            // Resolved as a folder a moment ago, a link now: judged as before (followed), and
            // nothing of this walk is kept.
            meta = read(std::fs::metadata(folder))?;
            keepable = false;
        }
        judge(&meta).map_err(|why| refusal(why, folder, dir, file, kind))?;
        if is_folder {
            note_checked(folder);
        }
        let (dev, ino) = dev_ino(&meta);
        chain.push((folder.to_owned(), dev, ino));
    }
    // Kept only for a folder that exists and is named absolutely (a relative name depends on
    // the working folder).
    if keepable {
        keep(Walk { asked: dir.to_owned(), chain });
    }
    Ok(())
}

#[cfg(not(unix))]
pub(super) fn check_folders_for(_dir: &Path, _file: Option<&Path>, _kind: ErrorKind) -> Result<()> {
    Ok(())
}

/// Why a folder is refused.
#[cfg(unix)]
enum Why {
    Owner(u32),
    Writable(u32, u32),
}

/// The rule for one folder, on a fresh `statx` of it.
#[cfg(unix)]
fn judge(meta: &std::fs::Metadata) -> std::result::Result<(), Why> {
    use std::os::unix::fs::MetadataExt;
    let (uid, mode) = (meta.uid(), meta.mode() & 0o7777);
    if uid != euid() && uid != 0 {
        return Err(Why::Owner(uid));
    }
    let sticky_root = uid == 0 && mode & 0o1000 != 0;
    if mode & 0o022 != 0 && !sticky_root {
        return Err(Why::Writable(uid, mode));
    }
    Ok(())
}

#[cfg(unix)]
fn refusal(why: Why, folder: &Path, dir: &Path, file: Option<&Path>, kind: ErrorKind) -> Error {
    let me = euid();
    let move_fix = || match file {
        Some(f) => format!("move {} to a folder you own", f.display()),
        None => format!("use a folder you own instead of {}", dir.display()),
    };
    match why {
        Why::Owner(uid) => refuse(
            folder,
            kind,
            format!("the folder belongs to uid {uid}, not to you (uid {me}) or root"),
            move_fix(),
        ),
        Why::Writable(uid, mode) => {
            let fix = if uid == me {
                format!("run `chmod go-w {}`", folder.display())
            } else {
                move_fix()
            };
            refuse(
                folder,
                kind,
                format!("group or others may write to this folder (mode {mode:04o})"),
                fix,
            )
        }
    }
}

#[cfg(unix)]
/// The same path, byte for byte (cheaper than `Path`'s comparison by components; a path spelt
/// differently only misses, and is walked in full).
fn same(a: &Path, b: &Path) -> bool {
    a.as_os_str() == b.as_os_str()
}

#[cfg(unix)]
fn dev_ino(meta: &std::fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (meta.dev(), meta.ino())
}

/// Whether the kept walk of `dir` still holds, by one `statx` per folder (see the module doc).
/// `false` when there is none, or on any difference or refusal.
#[cfg(unix)]
fn still_fine(dir: &Path) -> bool {
    WALKS.with(|walks| {
        let walks = walks.borrow();
        let Some(walk) = walks.iter().find(|w| same(&w.asked, dir)) else { return false };
        let Some((first, dev, ino)) = walk.chain.first() else { return false };
        if !same(&walk.asked, first) {
            // The folder was asked for through a link: it must still lead to the same folder.
            match std::fs::metadata(dir) {
                Ok(m) if m.is_dir() && dev_ino(&m) == (*dev, *ino) => {}
                _ => return false,
            }
        }
        walk.chain.iter().all(|(folder, dev, ino)| {
            if checked_in_this_request(folder) {
                return true;
            }
            let fine = std::fs::symlink_metadata(folder)
                .is_ok_and(|m| m.is_dir() && dev_ino(&m) == (*dev, *ino) && judge(&m).is_ok());
            if fine {
                note_checked(folder);
            }
            fine
        })
    })
}

#[cfg(unix)]
fn forget(dir: &Path) {
    WALKS.with(|walks| walks.borrow_mut().retain(|w| !same(&w.asked, dir)));
}

#[cfg(unix)]
fn keep(walk: Walk) {
    WALKS.with(|walks| {
        let mut walks = walks.borrow_mut();
        if walks.len() >= KEPT_WALKS {
            walks.remove(0);
        }
        walks.push(walk);
    });
}

#[cfg(all(test, unix))]
mod tests;
