//! `import`, then the token ids of what it moved (best effort: the tokens are stored whatever
//! influxctl says), then the answer.

use crate::app::Vault;
use crate::cli::ImportArgs;
use crate::error::Result;
use crate::import::Report;
use crate::settings::StoreKind;
use crate::ui;

pub fn run(
    vault: &Vault,
    profile: &str,
    target: Option<StoreKind>,
    args: &ImportArgs,
    interactive: bool,
) -> Result<i32> {
    let mut report = crate::import::import(vault, profile, target, args)?;
    if !report.dry_run {
        fill_ids(vault, &mut report, interactive);
    }
    if args.answer.json() {
        let value =
            serde_json::to_value(&report).map_err(|e| crate::error::Error::Other(e.to_string()))?;
        ui::answer(&value)?;
    }
    Ok(report.refused_exit.unwrap_or(0))
}

/// Looks up the id of every stored token of `report` that has none; a failure is a warning
/// with a hint, never an error: the import itself is done.
pub fn fill_ids(vault: &Vault, report: &mut Report, interactive: bool) {
    let snap = match vault.snapshot() {
        Ok(s) => s,
        Err(e) => {
            ui::warn(format!("cannot look the token ids up: {e}"));
            return;
        }
    };
    for o in report.profiles.iter_mut() {
        if !matches!(o.action, "moved" | "already-stored") {
            continue;
        }
        let at = crate::lifecycle::ids::Target { profile: &o.profile, store: o.store };
        let lookup = crate::lifecycle::ids::fill_token_id(vault, &snap, at, false, interactive)
            .unwrap_or_else(|e| crate::lifecycle::ids::Lookup {
                outcome: "failed",
                token_id: None,
                hint: Some(format!(
                    "{e}; run `influxctl-cred annotate -p {} --lookup-id` once the store answers",
                    o.profile
                )),
            });
        if let Some(hint) = &lookup.hint {
            ui::warn(format!(
                "profile {:?}: its token is stored, but its id is not known ({}), so `rotate` and `erase --revoke` cannot revoke it yet: {hint}",
                o.profile, lookup.outcome
            ));
        }
        o.token_id = lookup.token_id;
        o.token_id_lookup = Some(lookup.outcome);
        o.token_id_hint = lookup.hint;
    }
}
