//! PLACEHOLDER — being replaced by the keyring store.

use super::{Store, StoreKind};
use crate::entry::{Entry, EntryMeta};
use crate::error::{Error, Result};
use crate::paths::Paths;
use crate::settings::Settings;

pub struct KeyringStore;

impl KeyringStore {
    /// `interactive`: whether a passphrase-encrypted identity may prompt on the TTY.
    pub fn new(_paths: &Paths, _settings: &Settings) -> Self {
        KeyringStore
    }
}

fn todo_err() -> Error {
    Error::StoreUnavailable { store: "keyring", reason: "not built yet".into(), hint: None }
}

impl Store for KeyringStore {
    fn kind(&self) -> StoreKind {
        StoreKind::Keyring
    }
    fn probe(&self) -> Result<()> {
        Err(todo_err())
    }
    fn get(&self, _profile: &str) -> Result<Option<Entry>> {
        Err(todo_err())
    }
    fn set(&self, _entry: &Entry) -> Result<bool> {
        Err(todo_err())
    }
    fn erase(&self, _profile: &str) -> Result<bool> {
        Err(todo_err())
    }
    fn list(&self) -> Result<Vec<EntryMeta>> {
        Err(todo_err())
    }
}
