//! An in-memory store for tests, which can be told to fail its next call (as keyring-core's
//! mock does with `set_error`).

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;

use super::{Store, StoreKind};
use crate::entry::{Entry, EntryMeta};
use crate::error::{Error, Result};

/// Entries in a map; `fail_next` makes the next call fail with the given error.
#[derive(Debug, Default)]
pub struct MemoryStore {
    entries: RefCell<BTreeMap<String, Entry>>,
    fail: RefCell<Option<Error>>,
    unavailable: Cell<bool>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// A store whose every call answers `store-unavailable`.
    pub fn unavailable() -> Self {
        MemoryStore { unavailable: Cell::new(true), ..Self::default() }
    }

    /// Makes every later call answer `store-unavailable` (a keyring that got locked), or
    /// answer again; the entries stay.
    pub fn set_unavailable(&self, unavailable: bool) {
        self.unavailable.set(unavailable);
    }

    /// The next call (any verb) fails with `err`.
    pub fn fail_next(&self, err: Error) {
        *self.fail.borrow_mut() = Some(err);
    }

    fn check(&self) -> Result<()> {
        if self.unavailable.get() {
            return Err(Error::StoreUnavailable {
                store: "memory",
                reason: "told to be unavailable".into(),
                hint: None,
            });
        }
        match self.fail.borrow_mut().take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

impl Store for MemoryStore {
    fn kind(&self) -> StoreKind {
        StoreKind::Memory
    }

    fn probe(&self) -> Result<()> {
        self.check()
    }

    fn get(&self, profile: &str) -> Result<Option<Entry>> {
        self.check()?;
        Ok(self.entries.borrow().get(profile).cloned())
    }

    fn set(&self, entry: &Entry) -> Result<bool> {
        self.check()?;
        Ok(self.entries.borrow_mut().insert(entry.profile.clone(), entry.clone()).is_some())
    }

    fn erase(&self, profile: &str) -> Result<bool> {
        self.check()?;
        Ok(self.entries.borrow_mut().remove(profile).is_some())
    }

    fn list(&self) -> Result<Vec<EntryMeta>> {
        self.check()?;
        Ok(self.entries.borrow().values().map(Entry::meta).collect())
    }

    /// Known without a call, as the keyring's index is.
    fn may_hold(&self, profile: &str) -> bool {
        self.entries.borrow().contains_key(profile)
    }
}
