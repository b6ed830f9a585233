//! `rekey`: every file-store entry re-encrypted to the current recipients (the caller holds
//! the store lock). An entry that cannot be opened is left as it was and reported.

use super::{FileStore, read_store_file};
use crate::error::{Error, Result};
use crate::ui;

impl FileStore {
    /// `rekey` under the store lock: every entry re-encrypted to the current recipients.
    pub fn rekey(&self) -> Result<i32> {
        let entries = self.entries()?;
        if entries.is_empty() {
            ui::note("the file store holds no entries; nothing to re-encrypt");
            return Ok(0);
        }
        let (ids, recipients) = self.write_recipients(false)?;
        let mut failed: Vec<Error> = Vec::new();
        for (profile, path) in &entries {
            let done = read_store_file(path)
                .and_then(|b| b.ok_or_else(|| Error::NotFound { profile: profile.clone() }))
                .and_then(|bytes| self.open_plain(&ids, profile, path, &bytes))
                .and_then(|(plain, entry)| self.write(entry.meta(), &plain, &recipients, true));
            if let Err(e) = done {
                ui::warn(format!("left {} as it was: {e}", path.display()));
                failed.push(e);
            }
        }
        ui::note(format!(
            "re-encrypted {} of {} entries to {} recipient(s)",
            entries.len() - failed.len(),
            entries.len(),
            recipients.len()
        ));
        Ok(failed.first().map_or(0, Error::exit_code))
    }
}
