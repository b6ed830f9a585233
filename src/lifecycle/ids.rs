//! Token ids for entries that have none (imported from a plaintext config, or stored by hand),
//! so that `rotate` and `erase --revoke` can revoke them. influxctl's `management list --format
//! json` shows every token of the account with its `token_prefix` (`M.V1.` and the first few
//! characters of the token, INFLUXCTL.md); the stored token's id is the id of the one **live**
//! (neither revoked nor expired) record whose prefix the token starts with. No record, or more
//! than one, and the id stays empty: the answer says so and how to set it by hand. The id is
//! validated before it is stored, and written under the store lock into the entry as it is
//! then, provided it still holds the same token.
//!
//! Who asks (docs/commands.md): the stored token itself first (as `erase --revoke` does): a
//! management token can list the account's tokens, and whoever imported a plaintext token
//! often has no OAuth login. Only when it cannot, and a person is at the terminal, the user's
//! OAuth login (as `create` does); a script never waits on a device login. When neither
//! works, the hint says what does: setting the id by hand.

use jiff::Timestamp;
use serde::Serialize;

use super::run::Runner;
use super::{Auth, Influxctl};
use crate::app::Vault;
use crate::error::{Error, Result};
use crate::influxctl::config::Snapshot;
use crate::influxctl::output::Listed;
use crate::secret::{MANAGEMENT_PREFIX, Token};
use crate::settings::StoreKind;
use crate::ui;

/// How an id lookup went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Lookup {
    /// `found`, `known` (the entry had this id already), `no-match`, `ambiguous`, `failed`.
    pub outcome: &'static str,
    /// The id now stored.
    pub token_id: Option<String>,
    /// What to do when no id was found.
    pub hint: Option<String>,
}

impl Lookup {
    fn failed(profile: &str, e: &Error) -> Lookup {
        Lookup {
            outcome: "failed",
            token_id: None,
            hint: Some(format!("{e}; {}", by_hand(profile))),
        }
    }
}

/// What works when influxctl cannot list the tokens: the id set by hand.
fn by_hand(profile: &str) -> String {
    format!(
        "set the id by hand: find the token in `influxctl management list` (run with any login that can list the account's tokens) or in the admin console, then run `influxctl-cred annotate -p {profile} --token-id ID`"
    )
}

/// The live records of `listed` whose `token_prefix` begins `token`: exactly one is the id.
pub fn matching<'a>(token: &Token, listed: &'a [Listed], now: Timestamp) -> Vec<&'a Listed> {
    listed
        .iter()
        .filter(|l| l.revoked_at.is_none() && l.expires_at.is_none_or(|t| t > now))
        .filter(|l| {
            // A prefix that is no more than `M.V1.` would match every token.
            l.token_prefix
                .as_deref()
                .is_some_and(|p| p.len() > MANAGEMENT_PREFIX.len() && token.starts_with(p))
        })
        .collect()
}

/// Looks up the id of the token stored for `profile` and records it (with the listed expiry
/// when the entry has none). `replace`: also when the entry already has another id (asked for
/// by `annotate --lookup-id`); otherwise an entry with an id is left as it is. The stored token
/// asks first; `oauth_fallback` (a person at the terminal): when it cannot list, the OAuth
/// login asks next. Never fails for influxctl's sake: a failed run is an outcome (`failed`)
/// with a hint; errors are for the store.
pub fn fill_token_id(
    vault: &Vault,
    snap: &Snapshot,
    at: Target<'_>,
    replace: bool,
    oauth_fallback: bool,
) -> Result<Lookup> {
    let runner = match Runner::new(vault, snap, oauth_fallback) {
        Ok(r) => r,
        Err(e) => return Ok(Lookup::failed(at.profile, &e)),
    };
    fill_with(vault, snap, &runner, at, replace, oauth_fallback)
}

/// Whose id is looked up: a profile, in the store that holds it (the read order of `get`), or
/// in one named store (where `import` just put it).
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    pub profile: &'a str,
    pub store: Option<StoreKind>,
}

/// [`fill_token_id`] with any [`Influxctl`] (tests script their own).
pub fn fill_with(
    vault: &Vault,
    snap: &Snapshot,
    runner: &dyn Influxctl,
    at: Target<'_>,
    replace: bool,
    oauth_fallback: bool,
) -> Result<Lookup> {
    let profile = at.profile;
    let found = match at.store {
        None => vault.find(profile)?,
        Some(kind) => match vault.store(kind)?.get(profile)? {
            Some(entry) => crate::app::Found { entry, store: kind },
            None => return Err(Error::NotFound { profile: profile.to_owned() }),
        },
    };
    if found.store == StoreKind::Env {
        return Err(Error::OperationNotSupported(format!(
            "recording a token id for profile {profile:?}, whose token comes from the env store (it cannot be written)"
        )));
    }
    if let Some(id) = found.entry.token_id.clone().filter(|_| !replace) {
        return Ok(Lookup { outcome: "known", token_id: Some(id), hint: None });
    }
    // The token may be handed to influxctl: only for the cluster it is bound to (docs/spec.md §4).
    vault.check_binding_in(snap, &found.entry)?;
    let cluster = snap.cluster(profile)?.unwrap_or_else(|| found.entry.cluster.clone());
    ui::note(format!(
        "looking up the token id of profile {profile:?} in `influxctl management list`, authenticated with its stored token (no OAuth login needed)"
    ));
    let listed = match runner.list(profile, &cluster, Auth::Token(&found.entry.token)) {
        Ok(l) => l,
        Err(e) if !oauth_fallback => {
            let hint = format!(
                "the stored token could not list the account's tokens ({e}); on a terminal, `influxctl-cred annotate -p {profile} --lookup-id` also tries your OAuth login; or {}",
                by_hand(profile)
            );
            return Ok(Lookup { outcome: "failed", token_id: None, hint: Some(hint) });
        }
        Err(by_token) => {
            ui::note(format!(
                "the stored token could not list the account's tokens ({by_token}); trying your OAuth login"
            ));
            match runner.list(profile, &cluster, Auth::OAuth) {
                Ok(l) => l,
                Err(by_login) => {
                    let hint = format!(
                        "neither the stored token ({by_token}) nor your OAuth login ({by_login}) could list the account's tokens; {}",
                        by_hand(profile)
                    );
                    return Ok(Lookup { outcome: "failed", token_id: None, hint: Some(hint) });
                }
            }
        }
    };
    let set_by_hand = format!(
        "find the token in `influxctl management list` and run `influxctl-cred annotate -p {profile} --token-id ID`"
    );
    let hits = matching(&found.entry.token, &listed, Timestamp::now());
    let one = match hits.as_slice() {
        [one] => *one,
        [] => {
            return Ok(Lookup {
                outcome: "no-match",
                token_id: None,
                hint: Some(format!(
                    "no live token of the account begins as this one does (it may be revoked, expired, or of another account); {set_by_hand}"
                )),
            });
        }
        several => {
            return Ok(Lookup {
                outcome: "ambiguous",
                token_id: None,
                hint: Some(format!(
                    "{} live tokens begin as this one does, so which one it is cannot be told; {set_by_hand}",
                    several.len()
                )),
            });
        }
    };
    if crate::entry::validate_token_id(&one.id).is_err() {
        let e = Error::InfluxctlFailed(
            "`management list` gave an id that is not a plain id (1 to 128 letters, digits and '-')"
                .into(),
        );
        return Ok(Lookup::failed(profile, &e));
    }
    let (id, listed_expiry) = (one.id.clone(), one.expires_at);
    let written = vault.update_meta(found.store, profile, Some(&found.entry.token), |e| {
        if let Some(old) = e.token_id.as_deref().filter(|old| *old != id) {
            ui::note(format!("profile {profile:?}: replacing the recorded token id {old}"));
        }
        e.token_id = Some(id.clone());
        e.expires_at = e.expires_at.or(listed_expiry);
        Ok(())
    })?;
    ui::note(format!("profile {profile:?}: its token id is {id}"));
    Ok(Lookup { outcome: "found", token_id: written.token_id, hint: None })
}
