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
            let m = std::fs::symlink_metadata(path).ok()?;
            Fingerprint::of_meta(&m)
        }
        #[cfg(not(unix))]
        {
            let _ = path;
            None
        }
    }

    /// The fingerprint of a file from its metadata (`None` unless a regular file, or off Unix).
    pub fn of_meta(m: &std::fs::Metadata) -> Option<Fingerprint> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            if !m.is_file() {
                return None;
            }
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
            let _ = m;
            None
        }
    }

    /// Whether the file changed so recently (its ctime not a full second before `now`) that a
    /// write within the file system's timestamp granularity could leave this fingerprint as it
    /// is: such a fingerprint does not prove that the bytes are unchanged, so nothing is kept
    /// by it.
    pub fn is_racy(&self, now: std::time::SystemTime) -> bool {
        let ctime = self.0[7];
        let now = now.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let now = i64::try_from(now).unwrap_or(i64::MAX);
        ctime.saturating_add(1) >= now
    }
}
