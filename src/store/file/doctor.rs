//! The file store's `doctor` checks: which identities are in use (source and public keys),
//! the recipients, permissions of the store folder, store files and identity files, and store
//! files that the current identities cannot open. Never prompts, never modifies anything.

use std::path::PathBuf;

use super::{FileStore, check_dir, read_store_file};
use crate::check::{Check, Status};
use crate::error::{Error, ErrorKind};
use crate::fsutil;
use crate::identity;

/// Identity, recipient, permission and decryption checks of `store` (which never prompts).
pub fn checks(store: &FileStore) -> Vec<Check> {
    let mut out = Vec::new();
    let with_hint = |e: &Error| match e.hint() {
        Some(h) => format!("{e} ({h})"),
        None => e.to_string(),
    };
    let entries = store.entries();
    let have_entries = entries.as_ref().map(|e| !e.is_empty()).unwrap_or(false);
    let ids = store.identities(false);
    let mut files: Vec<PathBuf> = Vec::new();
    out.push(match &ids {
        Ok(Some(ids)) => {
            files.extend(ids.source.files());
            let (keys, locked) = ids.known_public_keys();
            let mut detail = format!("from {}: {}", ids.source.describe(), keys.join(", "));
            if locked > 0 {
                detail.push_str(&format!(
                    "{}{locked} passphrase-encrypted identity file(s)",
                    if keys.is_empty() { "" } else { ", and " }
                ));
            }
            Check::new("file identities", Status::Ok, detail)
        }
        Ok(None) if have_entries => Check::new(
            "file identities",
            Status::Fail,
            if identity::in_ci() {
                format!("none found, but the store holds entries; {}", identity::CI_IDENTITY_HINT)
            } else {
                format!(
                    "none found, but the store holds entries ({})",
                    crate::error::IDENTITY_LOOKUP
                )
            },
        ),
        Ok(None) => Check::new(
            "file identities",
            Status::Ok,
            format!("none yet; the first write creates {}", store.default_identity.display()),
        ),
        Err(e) => Check::new("file identities", Status::Fail, with_hint(e)),
    });
    out.push(match identity::configured_recipients(&store.recipients, &store.settings_path) {
        Ok(r) if r.is_empty() => Check::new("file recipients", Status::Ok, "only the identities"),
        Ok(r) => {
            let list: Vec<String> = r.iter().map(ToString::to_string).collect();
            Check::new("file recipients", Status::Ok, format!("plus {}", list.join(", ")))
        }
        Err(e) => Check::new("file recipients", Status::Fail, e.to_string()),
    });
    // Permissions: the folder, every store file, every identity file.
    if store.dir.exists()
        && let Err(e) = check_dir(&store.dir)
    {
        out.push(Check::new("file permissions", Status::Fail, with_hint(&e)));
    }
    if let Ok(entries) = &entries {
        for (profile, path) in entries {
            files.push(path.clone());
            files.push(store.meta_path(profile));
        }
    }
    if store.default_identity.exists() && !files.contains(&store.default_identity) {
        files.push(store.default_identity.clone());
    }
    let mut private = 0;
    for f in files.iter().filter(|f| f.exists()) {
        match fsutil::check_private(f) {
            Ok(()) => private += 1,
            Err(e) => out.push(Check::new("file permissions", Status::Fail, with_hint(&e))),
        }
    }
    out.push(Check::new("file permissions", Status::Ok, format!("{private} file(s) private")));
    // Entries that the current identities cannot open.
    match (&entries, &ids) {
        (Err(e), _) => out.push(Check::new("file entries", Status::Fail, with_hint(e))),
        (Ok(entries), Ok(Some(ids))) if !entries.is_empty() => {
            let (mut opened, mut unchecked) = (0, 0);
            for (profile, path) in entries {
                let r = read_store_file(path)
                    .and_then(|b| b.ok_or_else(|| Error::NotFound { profile: profile.clone() }))
                    .and_then(|b| store.open(ids, profile, path, &b));
                match r {
                    Ok(_) => opened += 1,
                    Err(e) if e.kind() == ErrorKind::InteractionRequired => {
                        unchecked += 1;
                        out.push(Check::new(
                            "file entries",
                            Status::Warn,
                            format!("{} not checked: {e}", path.display()),
                        ));
                    }
                    Err(e) => out.push(Check::new("file entries", Status::Fail, with_hint(&e))),
                }
            }
            let status = if opened == entries.len() { Status::Ok } else { Status::Warn };
            out.push(Check::new(
                "file entries",
                status,
                match unchecked {
                    0 => {
                        format!("{opened} of {} decrypt with the current identities", entries.len())
                    }
                    n => format!(
                        "{opened} of {} decrypt without a passphrase; {n} not checked",
                        entries.len()
                    ),
                },
            ));
        }
        _ => {}
    }
    out
}
