//! The keyring store's plaintext metadata index: one `<encoded profile>.meta.json` file per
//! entry in `<store dir>/keyring/`, holding the [`EntryMeta`] (never the token), so that `list`
//! needs no keyring call and can never raise an unlock prompt. Written atomically after a
//! successful write to the keyring, removed on erase.

use std::path::{Path, PathBuf};

use crate::entry::EntryMeta;
use crate::error::{Error, Result};
use crate::fsutil;
use crate::store::{decode_profile, encode_profile};

const SUFFIX: &str = ".meta.json";

/// The index folder.
#[derive(Debug, Clone)]
pub(crate) struct Index {
    dir: PathBuf,
}

impl Index {
    pub(crate) fn new(dir: PathBuf) -> Index {
        Index { dir }
    }

    /// The index file of `profile`.
    pub(crate) fn path(&self, profile: &str) -> PathBuf {
        self.dir.join(format!("{}{SUFFIX}", encode_profile(profile)))
    }

    /// Whether `profile` has an index file (never, for a name too long for a file).
    pub(crate) fn contains(&self, profile: &str) -> bool {
        crate::store::file_stem_fits(profile) && self.path(profile).is_file()
    }

    /// Writes (or replaces) the metadata of `meta.profile`, atomically, 0600 in a 0700 folder.
    pub(crate) fn write(&self, meta: &EntryMeta) -> Result<()> {
        let mut json = serde_json::to_vec_pretty(meta)
            .map_err(|e| Error::Other(format!("cannot encode the keyring index: {e}")))?;
        json.push(b'\n');
        fsutil::write_atomic(&self.path(&meta.profile), &json)?;
        fsutil::sweep_temp_files(&self.dir);
        Ok(())
    }

    /// Removes the metadata of `profile`; answers whether there was any.
    pub(crate) fn remove(&self, profile: &str) -> Result<bool> {
        if !crate::store::file_stem_fits(profile) {
            return Ok(false);
        }
        fsutil::remove(&self.path(profile))
    }

    /// Every indexed entry, sorted by profile. A file that is not ours or cannot be parsed is
    /// skipped with a warning that names it (the index is only a listing aid; the keyring
    /// stays the truth).
    pub(crate) fn list(&self) -> Result<Vec<EntryMeta>> {
        let read = match std::fs::read_dir(&self.dir) {
            Ok(read) => read,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io("cannot read", &self.dir, e)),
        };
        let mut metas = Vec::new();
        for item in read {
            let item = item.map_err(|e| Error::io("cannot read", &self.dir, e))?;
            let name = item.file_name();
            let Some(stem) = name.to_str().and_then(|n| n.strip_suffix(SUFFIX)) else { continue };
            let Some(profile) = decode_profile(stem) else { continue };
            match read_meta(&item.path(), &profile) {
                Ok(meta) => metas.push(meta),
                Err(e) => crate::ui::warn(format!("skipping a keyring index file: {e}")),
            }
        }
        metas.sort_by(|a, b| a.profile.cmp(&b.profile));
        Ok(metas)
    }
}

/// Reads one index file; the error names the file and a position, never its content.
fn read_meta(path: &Path, profile: &str) -> Result<EntryMeta> {
    let bytes = std::fs::read(path).map_err(|e| Error::io("cannot read", path, e))?;
    let bad = |message: String| Error::ParseConfig { path: path.to_owned(), message };
    let parsed = crate::error::shield(path, || Ok(serde_json::from_slice::<EntryMeta>(&bytes)))?;
    let meta: EntryMeta = parsed.map_err(|e| {
        bad(format!("not keyring metadata (JSON error at line {} column {})", e.line(), e.column()))
    })?;
    if meta.profile != profile {
        return Err(bad(format!("it describes profile {:?}, not {profile:?}", meta.profile)));
    }
    Ok(meta)
}
