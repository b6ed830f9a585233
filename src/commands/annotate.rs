//! `annotate`: sets the token id, description or expiry of a stored entry without the token
//! being typed again (docs/commands.md). The entry is read again under the store lock and
//! only its metadata changes: the token, its binding and its origin stay. `--lookup-id` asks
//! `influxctl management list` for the id ([`crate::lifecycle::ids`]).

use crate::app::Vault;
use crate::cli::AnnotateArgs;
use crate::error::{Error, Result};
use crate::lifecycle::ids::{self, Target};
use crate::settings::StoreKind;
use crate::ui;

pub fn run(vault: &Vault, profile: &str, args: &AnnotateArgs, interactive: bool) -> Result<i32> {
    if let Some(id) = &args.token_id {
        crate::entry::validate_token_id(id)?;
    }
    if let Some(d) = &args.description {
        crate::entry::check_description(d)?;
    }
    let found = vault.find(profile)?;
    if found.store == StoreKind::Env {
        return Err(Error::OperationNotSupported(format!(
            "annotating the token of profile {profile:?}, which comes from the env store (it cannot be written)"
        )));
    }
    let mut entry = found.entry.meta();
    let changes_meta = args.token_id.is_some()
        || args.description.is_some()
        || args.expires_at.is_some()
        || args.clear_expiry;
    if changes_meta {
        let written = vault.update_meta(found.store, profile, Some(&found.entry.token), |e| {
            if let Some(id) = &args.token_id {
                e.token_id = Some(id.clone());
            }
            if let Some(d) = &args.description {
                e.description = Some(d.clone());
            }
            if let Some(t) = args.expires_at {
                e.expires_at = Some(t);
            }
            if args.clear_expiry {
                e.expires_at = None;
            }
            Ok(())
        })?;
        entry = written.meta();
        ui::note(format!(
            "updated the entry of profile {profile:?} in the {} store (the token is unchanged)",
            found.store
        ));
        if let Some(t) = entry.expires_at.filter(|t| *t <= jiff::Timestamp::now()) {
            ui::warn(format!(
                "the recorded expiry {t} is in the past: the token counts as expired"
            ));
        }
    }
    let mut outcome = None;
    if args.lookup_id {
        let snap = vault.snapshot()?;
        let at = Target { profile, store: Some(found.store) };
        let oauth_fallback = interactive && !args.with_current_token;
        let lookup = ids::fill_token_id(vault, &snap, at, true, oauth_fallback)?;
        if let Some(hint) = lookup.hint {
            let msg = format!("the token id of profile {profile:?} was not found: {hint}");
            return Err(match lookup.outcome {
                "failed" => Error::InfluxctlFailed(msg),
                _ => Error::Other(msg),
            });
        }
        if let Some(now) = vault.store(found.store)?.get(profile)? {
            entry = now.meta();
        }
        outcome = Some(lookup.outcome);
    }
    if args.answer.json() {
        let value = serde_json::json!({
            "profile": profile,
            "store": found.store,
            "token_id": entry.token_id,
            "description": entry.description,
            "expires_at": entry.expires_at,
            "token_id_lookup": outcome,
        });
        ui::answer(&value)?;
    }
    Ok(0)
}
