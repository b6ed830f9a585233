//! `doctor`: one line per check, each `ok`, `warn` or `fail`, as text or JSON.

use crate::app::Vault;
use crate::check::{Check, Status};
use crate::error::{Error, Result};

/// Every check this version knows.
pub fn checks(vault: &Vault) -> Vec<Check> {
    let mut out = Vec::new();
    for kind in vault.kinds() {
        let store = vault.store(kind).expect("kinds() lists only stores the vault has");
        if kind == crate::settings::StoreKind::Vault {
            continue;
        }
        let mut check = crate::store::probe_check(kind, store);
        if let Some(pinned) = vault.settings.store.filter(|p| *p != kind)
            && kind == crate::settings::StoreKind::Keyring
            && check.status == Status::Warn
        {
            // The settings pin another store: a keyring that does not answer is the user's
            // choice, not a problem (`setup` says why once).
            check = Check::new(
                format!("store {kind}"),
                Status::Ok,
                format!("not in use (`store = \"{pinned}\"` in the settings)"),
            );
        }
        out.push(check);
    }
    out.extend(crate::store::vault::doctor_check(
        &vault.paths,
        &vault.settings,
        vault.kinds().contains(&crate::settings::StoreKind::Vault),
    ));
    out.extend(crate::store::file::doctor_checks(&vault.paths, &vault.settings));
    out.push(crate::agent::doctor_check());
    out.extend(crate::exec::doctor::checks(vault));
    out.extend(crate::lifecycle::expiry_checks(vault));
    out
}

/// The checks that ask the servers (`doctor --online`); each room adds its own.
pub fn online_checks(vault: &Vault) -> Vec<Check> {
    let mut out = Vec::new();
    out.extend(crate::lifecycle::online_checks(vault));
    out.extend(crate::verify::doctor_checks(vault));
    out
}

/// Prints the report (with the online checks when `online`); exit code 1 when any check
/// failed.
pub fn run(vault: &Vault, json: bool, online: bool) -> Result<i32> {
    let mut all = checks(vault);
    if online {
        all.extend(online_checks(vault));
    }
    let text = if json {
        serde_json::to_string_pretty(&all).map_err(|e| Error::Other(e.to_string()))? + "\n"
    } else {
        all.iter()
            .map(|c| {
                format!(
                    "{:<4}  {}: {}\n",
                    format!("{:?}", c.status).to_lowercase(),
                    c.name,
                    c.detail
                )
            })
            .collect()
    };
    crate::ui::stdout(text.as_bytes())?;
    Ok(if all.iter().any(|c| c.status == Status::Fail) { 1 } else { 0 })
}
