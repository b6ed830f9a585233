//! PLACEHOLDER — being replaced by the age file store.

use super::{Store, StoreKind};
use crate::entry::{Entry, EntryMeta};
use crate::error::{Error, Result};
use crate::paths::Paths;
use crate::settings::Settings;

pub struct FileStore;

impl FileStore {
    /// `interactive`: whether a passphrase-encrypted identity may prompt on the TTY.
    pub fn new(_paths: &Paths, _settings: &Settings, _interactive: bool) -> Self {
        FileStore
    }
}

fn todo_err() -> Error {
    Error::StoreUnavailable { store: "file", reason: "not built yet".into(), hint: None }
}

impl Store for FileStore {
    fn kind(&self) -> StoreKind {
        StoreKind::File
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

/// `rekey`: PLACEHOLDER.
pub fn rekey_command(_vault: &crate::app::Vault) -> Result<i32> {
    Err(todo_err())
}

/// Identity and permission checks for `doctor`: PLACEHOLDER.
pub fn doctor_checks(_vault: &crate::app::Vault) -> Vec<crate::doctor::Check> {
    Vec::new()
}
