//! A file's identity as seen from outside, to tell whether it changed since it was read.

use std::path::Path;

/// What a file looks like from outside: device, inode, size, mode, owner, mtime and ctime.
/// Every write here replaces a file by rename (a new inode), and a chmod or chown changes the
/// ctime, so an equal fingerprint means the same bytes under the same permissions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint([i64; 9]);

impl Fingerprint {
    /// `None` for a symbolic link, a missing file, or off Unix (then nothing is kept).
    pub fn of(path: &Path) -> Option<Fingerprint> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let m = std::fs::symlink_metadata(path).ok().filter(|m| m.is_file())?;
            #[allow(clippy::cast_possible_wrap)]
            Some(Fingerprint([
                m.dev() as i64,
                m.ino() as i64,
                m.size() as i64,
                i64::from(m.mode()),
                i64::from(m.uid()),
                m.mtime(),
                m.mtime_nsec(),
                m.ctime(),
                m.ctime_nsec(),
            ]))
        }
        #[cfg(not(unix))]
        {
            let _ = path;
            None
        }
    }
}
