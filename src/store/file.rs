//! The `file` store (docs/spec.md §3): one standard age v1 file per profile in the store folder,
//! `<encode_profile(profile)>.age`, holding the entry's JSON, readable with the reference `age`
//! CLI. Beside each, a plaintext sidecar `<name>.meta.json` holds the entry's metadata (never the
//! token) and the SHA-256 of the age file, so that `list` needs no decryption; the folder is the
//! truth and a sidecar counts only while its hash matches. Also the `rekey` command and the
//! file store's `doctor` checks. Identities and recipients live in [`crate::identity`].

use std::cell::{Cell, RefCell};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::{Store, StoreKind, decode_profile, encode_profile};
use crate::entry::{Entry, EntryMeta};
use crate::error::{Error, Result};
use crate::fsutil::{self, Fingerprint};
use crate::identity::{self, Failure, Identities, Recipient};
use crate::paths::Paths;
use crate::secret::SecretBytes;
use crate::settings::Settings;
use crate::ui;
pub use first_use::first_use_path;
use session::Kept;
use sidecar::Sidecar;
pub use sidecar::decode_sidecar;

/// The age files of one store folder.
pub struct FileStore {
    dir: PathBuf,
    default_identity: PathBuf,
    settings_path: PathBuf,
    identities: Vec<PathBuf>,
    recipients: Vec<String>,
    interactive: bool,
    /// Set for a long session (the helper): see [`Kept`].
    keep: Cell<bool>,
    kept: RefCell<Kept>,
}

impl FileStore {
    /// `interactive`: whether a passphrase-encrypted identity may prompt on the TTY. No I/O.
    pub fn new(paths: &Paths, settings: &Settings, interactive: bool) -> Self {
        FileStore {
            dir: paths.store_dir(),
            default_identity: paths.default_identity(),
            settings_path: paths.settings(),
            identities: settings.identities.clone(),
            recipients: settings.recipients.clone(),
            interactive,
            keep: Cell::new(false),
            kept: RefCell::default(),
        }
    }

    fn age_path(&self, profile: &str) -> PathBuf {
        self.dir.join(format!("{}.age", encode_profile(profile)))
    }

    fn meta_path(&self, profile: &str) -> PathBuf {
        self.dir.join(format!("{}.meta.json", encode_profile(profile)))
    }

    /// The identities in use; prompting for a passphrase only when `interactive`.
    fn identities(&self, interactive: bool) -> Result<Option<Identities>> {
        let prompt = (interactive && crate::ui::prompts_allowed()).then(identity::tty_prompt);
        let found = crate::error::shield(&self.default_identity, || {
            Identities::find(&self.default_identity, &self.identities, prompt)
        })?;
        // A locked identity asks the agent (when one runs) before it prompts.
        Ok(found.map(|ids| ids.with_agent(Box::new(crate::agent::Hook))))
    }

    fn need_identities(&self, interactive: bool) -> Result<Identities> {
        self.identities(interactive)?.ok_or_else(|| Error::StoreUnavailable {
            store: "file",
            reason: "no age identity found".into(),
            hint: Some(if identity::in_ci() {
                format!("{}; {}", crate::error::IDENTITY_LOOKUP, identity::CI_IDENTITY_HINT)
            } else {
                format!(
                    "{}; the first `influxctl-cred store` (or `influxctl-cred setup`) creates {}",
                    crate::error::IDENTITY_LOOKUP,
                    self.default_identity.display()
                )
            }),
        })
    }

    /// The recipients of a write: our identities' (creating the default identity when there
    /// is none and `create` is set) and the configured ones. A bad configured recipient fails
    /// before anything is created.
    fn write_recipients(&self, create: bool) -> Result<(Identities, Vec<Recipient>)> {
        let configured = identity::configured_recipients(&self.recipients, &self.settings_path)?;
        let ids = match self.identities(self.interactive)? {
            Some(ids) => ids,
            None if create => {
                if let Some(public) = identity::generate_default(&self.default_identity)? {
                    ui::note(format!(
                        "created the age identity {} (public key {public})",
                        self.default_identity.display()
                    ));
                }
                self.need_identities(self.interactive)?
            }
            None => self.need_identities(self.interactive)?,
        };
        let all = identity::merge_recipients(ids.recipients()?, configured)?;
        Ok((ids, all))
    }

    /// Encrypts `plain` (the JSON of the entry whose metadata is `meta`) and writes its age
    /// file, then its sidecar, each atomically.
    /// Names the recipients the old file had that the new one lacks (`rekey`: as a note).
    fn write(
        &self,
        meta: EntryMeta,
        plain: &[u8],
        recipients: &[Recipient],
        rekey: bool,
    ) -> Result<()> {
        let cipher = identity::encrypt(recipients, plain)?;
        self.tell_dropped(&meta.profile, recipients, rekey);
        fsutil::write_atomic(&self.age_path(&meta.profile), &cipher)?;
        let path = self.meta_path(&meta.profile);
        let recipients = recipients.iter().map(Recipient::to_string).collect();
        let sidecar = Sidecar { v: 1, age_sha256: sha256_hex(&cipher), meta, recipients };
        let mut json = serde_json::to_vec(&sidecar).map_err(|e| Error::Other(e.to_string()))?;
        json.push(b'\n');
        fsutil::write_atomic(&path, &json)
    }

    /// Decrypts and parses the entry of `profile` from the bytes of its age file.
    fn open(&self, ids: &Identities, profile: &str, path: &Path, bytes: &[u8]) -> Result<Entry> {
        self.open_plain(ids, profile, path, bytes).map(|(_, entry)| entry)
    }

    /// [`FileStore::open`], also answering the plaintext as it was (so that `rekey` keeps
    /// fields a newer version may have written).
    fn open_plain(
        &self,
        ids: &Identities,
        profile: &str,
        path: &Path,
        bytes: &[u8],
    ) -> Result<(SecretBytes, Entry)> {
        let decrypted = crate::error::shield_or(
            || ids.decrypt(bytes),
            || Failure::Corrupt("could not be parsed as an age file"),
        );
        let plain = decrypted.map_err(|f| match f {
            Failure::Corrupt(why) => corrupt(profile, format!("{} {why}", path.display())),
            Failure::Rejected | Failure::ExcessiveWork => {
                corrupt(profile, format!("{} has a damaged header", path.display()))
            }
            Failure::NoMatch => Error::Decrypt {
                path: path.to_owned(),
                reason: format!("no identity from {} can open it", ids.source.describe()),
            },
            Failure::Identity(e) => e,
        })?;
        let entry = Entry::from_secret_json(&plain, "file", profile).map_err(|e| match e {
            Error::Corrupt { reason, .. } => {
                corrupt(profile, format!("{}: {reason}", path.display()))
            }
            e => e,
        })?;
        Ok((plain, entry))
    }

    /// Every `(profile, age file)` in the folder, sorted; empty when there is no folder.
    fn entries(&self) -> Result<Vec<(String, PathBuf)>> {
        let read = match std::fs::read_dir(&self.dir) {
            Ok(read) => read,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io("cannot read folder", &self.dir, e)),
        };
        check_dir(&self.dir)?;
        let mut out = Vec::new();
        for item in read {
            let item = item.map_err(|e| Error::io("cannot read folder", &self.dir, e))?;
            let name = item.file_name();
            let Some(stem) = name.to_str().and_then(|n| n.strip_suffix(".age")) else { continue };
            match decode_profile(stem) {
                Some(profile) => out.push((profile, item.path())),
                None => ui::verbose(format!("ignoring {} (not ours)", item.path().display())),
            }
        }
        out.sort();
        Ok(out)
    }
}

impl FileStore {
    /// The entry as stored: one open, one fstat and one read of the age file, one stat of the
    /// folder (only when the file exists), one decryption. No scan, no sidecar, never creates
    /// an identity.
    fn get_stored(&self, profile: &str) -> Result<Option<Entry>> {
        if !super::file_stem_fits(profile) {
            // No file can have that name, so none holds it (writes refuse such names).
            return Ok(None);
        }
        let path = self.age_path(profile);
        // A session's kept entry, while its file is unchanged (taken before the read).
        let print = if self.keep.get() { Fingerprint::of(&path) } else { None };
        if let Some(print) = &print
            && let Some(entry) = self.kept_entry(profile, print)
        {
            return Ok(Some(entry));
        }
        let Some(bytes) = read_store_file(&path)? else { return Ok(None) };
        // The entry exists: a failure from here on is about it, and must not read as "this
        // store cannot be reached", which the driver skips on its way to "not found".
        let about_entry = |e: Error| match e {
            e @ Error::StoreUnavailable { .. } => {
                e.context(format!("cannot open {}", path.display()))
            }
            e => e,
        };
        check_dir(&self.dir).map_err(about_entry)?;
        let ids = self.read_identities().map_err(about_entry)?;
        let entry = self.open(&ids, profile, &path, &bytes).map_err(about_entry)?;
        if let Some(print) = print {
            self.keep_entry(profile, print, ids, &entry);
        }
        Ok(Some(entry))
    }
}

impl Store for FileStore {
    fn kind(&self) -> StoreKind {
        StoreKind::File
    }

    /// Usable when the folder exists, is private and writable, or can be created. Loads no
    /// identity.
    fn probe(&self) -> Result<()> {
        let mut at: &Path = &self.dir;
        let meta = loop {
            match std::fs::metadata(at) {
                Ok(m) => break m,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => match at.parent() {
                    Some(p) => at = p,
                    None => {
                        return Err(store_unavailable(format!(
                            "{} has no existing parent",
                            self.dir.display()
                        )));
                    }
                },
                Err(e) => {
                    return Err(store_unavailable(format!("cannot read {}: {e}", at.display())));
                }
            }
        };
        if !meta.is_dir() || meta.permissions().readonly() {
            return Err(store_unavailable(format!("{} is not a writable folder", at.display())));
        }
        if at == self.dir {
            check_dir(&self.dir)?;
        }
        Ok(())
    }

    /// The entry, with its first-use binding on this machine applied ([`first_use`]).
    fn get(&self, profile: &str) -> Result<Option<Entry>> {
        self.get_stored(profile)?.map(|e| self.with_first_use(e)).transpose()
    }

    fn bind_beside(&self, entry: &Entry, was: &crate::entry::Cluster) -> Result<bool> {
        self.bind_here(entry, was)
    }

    fn keep_for_session(&self) {
        self.keep.set(true);
    }

    fn set(&self, entry: &Entry) -> Result<bool> {
        self.kept.borrow_mut().entries.retain(|(p, ..)| *p != entry.profile);
        let (_ids, recipients) = self.write_recipients(true)?;
        fsutil::private_dir(&self.dir)?;
        check_dir(&self.dir)?;
        let path = self.age_path(&entry.profile);
        let existed = std::fs::symlink_metadata(&path).is_ok();
        self.write(entry.meta(), &entry.to_secret_json(), &recipients, false)?;
        fsutil::sweep_temp_files(&self.dir);
        Ok(existed)
    }

    fn erase(&self, profile: &str) -> Result<bool> {
        self.kept.borrow_mut().entries.retain(|(p, ..)| p != profile);
        if !super::file_stem_fits(profile) {
            return Ok(false);
        }
        let existed = fsutil::remove(&self.age_path(profile))?;
        fsutil::remove(&self.meta_path(profile))?;
        self.forget_first_use(profile)?;
        Ok(existed)
    }

    fn list(&self) -> Result<Vec<EntryMeta>> {
        let mut ids = None;
        Ok(self.entries()?.iter().map(|(p, path)| self.meta_of(&mut ids, p, path)).collect())
    }

    fn may_hold(&self, profile: &str) -> bool {
        super::file_stem_fits(profile) && std::fs::symlink_metadata(self.age_path(profile)).is_ok()
    }

    fn names(&self) -> Result<Vec<String>> {
        Ok(self.entries()?.into_iter().map(|(profile, _)| profile).collect())
    }
}

/// The bytes of a store file, `None` when it does not exist; refused when too open, not a
/// regular file of ours, or over 256 KiB ([`fsutil::read`]).
fn read_store_file(path: &Path) -> Result<Option<SecretBytes>> {
    fsutil::read(path, fsutil::FileKind::StoreEntry)
}

/// Refuses a store folder that group or others may use (its fix is `chmod 700`), or one in a
/// folder that strict modes do not trust (docs/spec.md §2).
fn check_dir(dir: &Path) -> Result<()> {
    match fsutil::check_private(dir) {
        Err(Error::TooOpen { mode, .. }) => Err(Error::StoreUnavailable {
            store: "file",
            reason: format!(
                "{} is accessible by group or others (mode {mode:04o}); refusing to use it",
                dir.display()
            ),
            hint: Some(format!("run `chmod 700 {}`", dir.display())),
        }),
        Err(e) => Err(e),
        Ok(()) => fsutil::check_folders(dir, crate::error::ErrorKind::StoreUnavailable),
    }
}

fn corrupt(profile: &str, reason: String) -> Error {
    Error::Corrupt { store: "file", profile: profile.to_owned(), reason }
}

fn store_unavailable(reason: String) -> Error {
    Error::StoreUnavailable { store: "file", reason, hint: None }
}

/// Lower-case hex SHA-256 (the sidecar's `age_sha256`), without a `format!` per byte.
fn sha256_hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let hex = |n: u8| char::from(HEX[usize::from(n)]);
    Sha256::digest(bytes).iter().flat_map(|b| [hex(b >> 4), hex(b & 0x0f)]).collect()
}

/// Identity, recipient, permission and decryption checks for `doctor`.
pub fn doctor_checks(paths: &crate::paths::Paths, settings: &Settings) -> Vec<crate::check::Check> {
    doctor::checks(&FileStore::new(paths, settings, false))
}

mod doctor;
mod first_use;
mod rekey;
mod rows;
mod session;
mod sidecar;
#[cfg(test)]
mod tests;
