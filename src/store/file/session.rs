//! What the file store keeps for a long session (the helper): see [`Kept`].

use std::path::PathBuf;
use std::rc::Rc;

use super::{FileStore, check_dir};
use crate::entry::Entry;
use crate::error::Result;
use crate::fsutil::{self, Fingerprint};
use crate::identity::{self, Identities};

/// What a long session (the helper) keeps between requests, each only while the files it came
/// from are unchanged ([`Fingerprint`]): the identities (only when none needs a passphrase),
/// and the entries read with them. Every other check of a read is still made on every request
/// (the store folder and the folders above each file). A one-shot command keeps nothing, so
/// that `exec` holds no copy of a token while its child runs.
#[derive(Default)]
pub(super) struct Kept {
    pub(super) identities: Option<(Vec<KeptFile>, Rc<Identities>)>,
    /// At most [`KEPT_ENTRIES`], each with the identities that opened it.
    pub(super) entries: Vec<(String, Fingerprint, Rc<Identities>, Entry)>,
}

/// An identity file and its fingerprint when it was read.
type KeptFile = (PathBuf, Fingerprint);

/// How many entries a session keeps (memory stays flat whatever the requests).
const KEPT_ENTRIES: usize = 16;

impl FileStore {
    /// The kept entry of `profile` when its age file still has fingerprint `print`, the store
    /// folder still passes strict modes, and the identities that opened it are still kept. Any
    /// doubt is a miss: the full read then answers, with its own errors.
    pub(super) fn kept_entry(&self, profile: &str, print: &Fingerprint) -> Option<Entry> {
        let hit = self.kept.borrow().entries.iter().any(|(p, f, ..)| p == profile && f == print);
        if !hit {
            return None;
        }
        check_dir(&self.dir).ok()?;
        let ids = self.kept_identities()?;
        self.kept
            .borrow()
            .entries
            .iter()
            .find(|(p, f, by, _)| p == profile && f == print && Rc::ptr_eq(by, &ids))
            .map(|(.., entry)| entry.clone())
    }

    /// The kept identities, while their files are unchanged and the folders above them still
    /// pass strict modes.
    fn kept_identities(&self) -> Option<Rc<Identities>> {
        let kept = self.kept.borrow();
        let (files, ids) = kept.identities.as_ref()?;
        let unchanged = files.iter().all(|(path, print)| {
            Fingerprint::of(path).as_ref() == Some(print)
                && path.parent().is_none_or(|dir| {
                    fsutil::check_folders(dir, crate::error::ErrorKind::StoreUnavailable).is_ok()
                })
        });
        unchanged.then(|| Rc::clone(ids))
    }

    /// The identities for a read: in a session, the kept ones ([`FileStore::kept_identities`]),
    /// else loaded (and kept when none needs a passphrase).
    pub(super) fn read_identities(&self) -> Result<Rc<Identities>> {
        if !self.keep.get() {
            return self.need_identities(self.interactive).map(Rc::new);
        }
        if let Some(ids) = self.kept_identities() {
            return Ok(ids);
        }
        // Fingerprints taken before the read, so that a change in between only makes the next
        // request miss: of every file the identities may come from.
        let mut candidates: Vec<PathBuf> = self.identities.clone();
        candidates.push(self.default_identity.clone());
        if let Some(p) = std::env::var_os(identity::IDENTITY_FILE_ENV).filter(|v| !v.is_empty()) {
            candidates.push(PathBuf::from(p));
        }
        let before: Vec<(PathBuf, Option<Fingerprint>)> = candidates
            .into_iter()
            .map(|p| {
                let print = Fingerprint::of(&p);
                (p, print)
            })
            .collect();
        let ids = Rc::new(self.need_identities(self.interactive)?);
        let kept = if ids.needs_no_passphrase() {
            ids.source
                .files()
                .into_iter()
                .map(|p| {
                    let print = before.iter().find(|(c, _)| *c == p).and_then(|(_, f)| f.clone());
                    print.map(|f| (p, f))
                })
                .collect::<Option<Vec<_>>>()
        } else {
            None
        };
        self.kept.borrow_mut().identities = kept.map(|files| (files, Rc::clone(&ids)));
        Ok(ids)
    }

    /// Keeps `entry` of `profile`, read from a file with fingerprint `print`, when the
    /// identities that opened it are the kept ones (at most [`KEPT_ENTRIES`]).
    pub(super) fn keep_entry(
        &self,
        profile: &str,
        print: Fingerprint,
        ids: Rc<Identities>,
        entry: &Entry,
    ) {
        let ids_kept =
            self.kept.borrow().identities.as_ref().is_some_and(|(_, k)| Rc::ptr_eq(k, &ids));
        if !ids_kept {
            return;
        }
        let mut kept = self.kept.borrow_mut();
        kept.entries.retain(|(p, ..)| p != profile);
        if kept.entries.len() >= KEPT_ENTRIES {
            kept.entries.remove(0);
        }
        kept.entries.push((profile.to_owned(), print, ids, entry.clone()));
    }
}
