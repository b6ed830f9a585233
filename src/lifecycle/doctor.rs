//! The lifecycle's `doctor` checks: each entry's expiry (offline), and with `--online` whether
//! the server still lists each stored token and has not revoked it (`influxctl management list
//! --format json`, authenticated with a stored token of the same account; the first one the
//! server accepts lists them all, so a revoked token is reported as revoked rather than as
//! "cannot list").

use std::collections::BTreeMap;

use jiff::Timestamp;

use super::run::Runner;
use super::{Auth, Influxctl};
use crate::app::Vault;
use crate::check::{Check, Status};
use crate::entry::Entry;
use crate::influxctl::config::Snapshot;

/// One line per stored entry: expired (fail), inside `renew_before` (warn), or fine.
pub fn expiry_checks(vault: &Vault) -> Vec<Check> {
    let now = Timestamp::now();
    let (rows, _failed) = vault.list();
    rows.iter()
        .map(|row| {
            let p = &row.meta.profile;
            let name = format!("expiry {p} ({})", row.store);
            let rotate = format!("run `influxctl-cred rotate -p {p}`");
            match row.meta.ttl(now) {
                None => Check::new(name, Status::Ok, "never expires"),
                Some(left) if !left.is_positive() => {
                    let at = row.meta.expires_at.map(|t| t.to_string()).unwrap_or_default();
                    Check::new(name, Status::Fail, format!("expired at {at}; {rotate}"))
                }
                Some(left) if left < vault.settings.renew_before => {
                    let auto = if vault.settings.auto_rotate {
                        " (auto_rotate is on: the next get or exec rotates it)"
                    } else {
                        ""
                    };
                    Check::new(name, Status::Warn, format!("{}; {rotate}{auto}", row.expiry))
                }
                Some(_) => Check::new(name, Status::Ok, row.expiry.clone()),
            }
        })
        .collect()
}

/// `doctor --online`: the server's view of every stored token.
pub fn online_checks(vault: &Vault) -> Vec<Check> {
    let snap = match vault.snapshot() {
        Ok(s) => s,
        Err(e) => return vec![Check::new("tokens on the server", Status::Warn, e.to_string())],
    };
    match Runner::new(vault, &snap, false) {
        Ok(runner) => online_checks_with(vault, &snap, &runner),
        Err(e) => vec![Check::new("tokens on the server", Status::Warn, e.to_string())],
    }
}

/// [`online_checks`] with any influxctl. A token whose binding does not match `snap` is never
/// sent: its line says so.
pub fn online_checks_with(vault: &Vault, snap: &Snapshot, runner: &dyn Influxctl) -> Vec<Check> {
    let (rows, _failed) = vault.list();
    let mut out = Vec::new();
    // Entries by account: one listing answers for all tokens of an account.
    let mut groups: BTreeMap<String, Vec<(String, Entry)>> = BTreeMap::new();
    for row in rows {
        let name = format!("server {} ({})", row.meta.profile, row.store);
        let entry = match vault.store(row.store).and_then(|s| s.get(&row.meta.profile)) {
            Ok(Some(entry)) => entry,
            Ok(None) => continue,
            Err(e) => {
                out.push(Check::new(name, Status::Warn, format!("cannot read the entry: {e}")));
                continue;
            }
        };
        if let Err(e) = vault.check_binding_in(snap, &entry) {
            out.push(Check::new(name, Status::Fail, format!("not asked: {e}")));
            continue;
        }
        let key = match &entry.cluster.account_id {
            Some(account) => format!("account {account}"),
            None => format!("profile {}", entry.profile),
        };
        groups.entry(key).or_default().push((name, entry));
    }
    for members in groups.values() {
        let mut listed = None;
        let mut last_error = None;
        for (_, e) in members {
            match runner.list(&e.profile, &e.cluster, Auth::Token(&e.token)) {
                Ok(l) => {
                    listed = Some(l);
                    break;
                }
                Err(err) => last_error = Some(err),
            }
        }
        for (name, entry) in members {
            let check = match (&listed, entry.token_id.as_deref()) {
                (_, None) => Check::new(
                    name,
                    Status::Warn,
                    "no token id is stored, so the server cannot be asked about it",
                ),
                (None, _) => Check::new(
                    name,
                    Status::Fail,
                    format!(
                        "no stored token of this account could list the tokens (revoked or expired?): {}",
                        last_error.as_ref().map(|e| e.to_string()).unwrap_or_default()
                    ),
                ),
                (Some(listed), Some(id)) => match listed.iter().find(|t| t.id == id) {
                    None => Check::new(
                        name,
                        Status::Fail,
                        format!("the server no longer lists the token {id}"),
                    ),
                    Some(t) if t.revoked_at.is_some() => Check::new(
                        name,
                        Status::Fail,
                        format!(
                            "the server lists the token {id} as revoked (at {}); run `influxctl-cred erase -p {}` and create a new one",
                            t.revoked_at.map(|t| t.to_string()).unwrap_or_default(),
                            entry.profile
                        ),
                    ),
                    Some(_) => {
                        Check::new(name, Status::Ok, format!("the server lists the token {id}"))
                    }
                },
            };
            out.push(check);
        }
    }
    out
}
