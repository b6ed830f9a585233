//! Where the agent's socket is (docs/agent.md "Where the socket is"): `agent.sock` in the
//! runtime folder ([`super::runtime_dir`]), which is never at a name another user can guess in
//! a shared folder. When that path is too long for a Unix socket address (`sun_path`: 108
//! bytes on Linux, 104 on macOS), the agent makes a fresh folder with `mkdtemp` in the temp
//! folder instead and records its path in [`RECORD`] inside the runtime folder (0600 in a 0700
//! folder of ours), where clients read it: nobody can guess that name, and a record that names
//! a folder which is no longer ours is refused by the same checks as the runtime folder.

use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::net::SocketAddr;
use std::path::{Path, PathBuf};

use super::{SOCKET, check_runtime_dir};
use crate::error::{Error, Result};

/// The file in the runtime folder that names the socket's folder when the socket cannot be in
/// the runtime folder itself (its path would be too long).
pub const RECORD: &str = "socket-dir";

/// Largest record read (a path).
const MAX_RECORD: u64 = 4096;

/// Whether `path` fits a Unix socket address.
pub fn fits(path: &Path) -> bool {
    SocketAddr::from_pathname(path).is_ok()
}

/// Where a client finds the socket of the agent whose runtime folder is `dir`: in it, or in
/// the folder its record names (`None`: no record, or one that is not a plain absolute path).
pub fn socket_in(dir: &Path) -> Option<PathBuf> {
    let direct = dir.join(SOCKET);
    if fits(&direct) {
        return Some(direct);
    }
    let named = read_record(&dir.join(RECORD))?;
    Some(named.join(SOCKET))
}

fn read_record(path: &Path) -> Option<PathBuf> {
    use std::io::Read;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NONBLOCK)
        .open(path)
        .ok()?;
    if !file.metadata().ok()?.is_file() {
        return None;
    }
    let mut text = String::new();
    file.take(MAX_RECORD).read_to_string(&mut text).ok()?;
    let named = PathBuf::from(text.trim_end_matches('\n'));
    (named.is_absolute() && !text.contains('\0') && fits(&named.join(SOCKET))).then_some(named)
}

/// Where the agent binds its socket for the runtime folder `dir` (which exists and passed the
/// checks): `dir/agent.sock` when that fits, else in a fresh `mkdtemp` folder (0700) recorded
/// in `dir`. A folder that an earlier agent recorded and left is removed when it is still ours.
pub fn bind_path(dir: &Path) -> Result<PathBuf> {
    let direct = dir.join(SOCKET);
    if fits(&direct) {
        return Ok(direct);
    }
    if let Some(old) = read_record(&dir.join(RECORD))
        && check_runtime_dir(&old).unwrap_or(false)
    {
        let _ = std::fs::remove_file(old.join(SOCKET));
        let _ = std::fs::remove_dir(&old);
    }
    let mut made = None;
    for base in [std::env::temp_dir(), PathBuf::from("/tmp")] {
        let template = base.join("influxctl-cred-agent-XXXXXX");
        if let Ok(fresh) = nix::unistd::mkdtemp(&template)
            && fits(&fresh.join(SOCKET))
        {
            made = Some(fresh);
            break;
        }
    }
    let fresh = made.ok_or_else(|| {
        Error::Other(format!(
            "the agent's socket path in {} is too long for a Unix socket, and no private \
             folder could be made in the temp folder; set XDG_RUNTIME_DIR to a short folder",
            dir.display()
        ))
    })?;
    check_runtime_dir(&fresh)?;
    let mut record = fresh.as_os_str().as_encoded_bytes().to_vec();
    record.push(b'\n');
    crate::fsutil::write_atomic(&dir.join(RECORD), &record)?;
    Ok(fresh.join(SOCKET))
}

/// What [`bind_path`] made, removed as the agent stops: the socket, and the `mkdtemp` folder
/// and its record when there is one.
pub fn remove(dir: &Path, socket: &Path) {
    let _ = std::fs::remove_file(socket);
    let Some(folder) = socket.parent() else { return };
    if folder != dir {
        let _ = std::fs::remove_dir(folder);
        if read_record(&dir.join(RECORD)).as_deref() == Some(folder) {
            let _ = std::fs::remove_file(dir.join(RECORD));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_runtime_folder_too_deep_for_a_socket_records_a_fresh_private_one() {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("d".repeat(60)).join("e".repeat(60));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        assert!(!fits(&dir.join(SOCKET)));
        assert_eq!(socket_in(&dir), None, "no record yet");
        let socket = bind_path(&dir).unwrap();
        let folder = socket.parent().unwrap().to_owned();
        assert!(fits(&socket) && folder.is_absolute() && !folder.starts_with(&dir));
        let meta = std::fs::symlink_metadata(&folder).unwrap();
        assert_eq!(meta.mode() & 0o777, 0o700);
        assert_eq!(socket_in(&dir).unwrap(), socket);
        let listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
        std::os::unix::net::UnixStream::connect(socket_in(&dir).unwrap()).unwrap();
        drop(listener);
        // The next agent replaces the folder an earlier one left (a SIGKILL) with a new one.
        let again = bind_path(&dir).unwrap();
        assert_ne!(again, socket);
        assert!(!folder.exists(), "the old folder was left");
        remove(&dir, &again);
        assert!(!again.parent().unwrap().exists() && socket_in(&dir).is_none());
        // A short runtime folder holds the socket itself.
        assert_eq!(bind_path(tmp.path()).unwrap(), tmp.path().join(SOCKET));
    }
}
