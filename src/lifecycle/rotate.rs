//! `rotate` and auto-rotation. The steps, in this order, each reported on stderr: **create**
//! the new token → **store** it (origin `rotated`, in the store the old one came from) → **read
//! it back** and compare → **revoke** the old one by id (unless `--keep-old`). The whole
//! rotation runs under the store lock, after re-reading the entry. What a failure leaves:
//! create fails → the old token, untouched; store fails → the old token (the message names the
//! new token's id, to revoke by hand); read-back fails → whatever the store holds, and the old
//! token is not revoked, so both work; revoke fails → the new token stored, the old one still
//! valid (its id named). Never zero working tokens.
//!
//! Auto-rotation ([`auto_rotate`], for `get`, `exec` and the helper's `get` when
//! `auto_rotate = true`): a token inside `renew_before` is rotated with itself as the
//! credential, never with a device login, so that a script never blocks on a browser. It is
//! single-flight: under the store lock the entry is read again, and if another run replaced it
//! meanwhile, that token is used. An expired token cannot authenticate its own replacement and
//! is not auto-rotated. When auto-rotation fails, a token that is still good enough is used
//! (with a warning); otherwise the failure is the answer.

use jiff::{SignedDuration, Timestamp};

use super::run::Runner;
use super::{
    Auth, Influxctl, create_token, default_description, expiry_after, new_entry, print_created,
    unstored,
};
use crate::app::{Found, Vault, check_expiry};
use crate::cli::RotateArgs;
use crate::entry::{EntryMeta, Origin};
use crate::error::{Error, Result};
use crate::lock::StoreLock;
use crate::store::StoreKind;
use crate::ui;

/// What a rotation is asked to do.
#[derive(Debug, Clone)]
pub struct Plan {
    pub ttl: SignedDuration,
    pub keep_old: bool,
    /// Authenticate with the token being replaced (create) and the new one (revoke), instead
    /// of the user's OAuth login.
    pub with_current_token: bool,
    pub description: String,
}

/// What a rotation did.
#[derive(Debug, Clone)]
pub struct Rotated {
    pub id: Option<String>,
    pub expires_at: Option<Timestamp>,
    pub store: StoreKind,
}

/// `rotate` from the command line.
pub fn rotate_command(vault: &Vault, profile: &str, args: &RotateArgs) -> Result<i32> {
    let plan = Plan {
        ttl: args.ttl.unwrap_or(vault.settings.ttl),
        keep_old: args.keep_old,
        with_current_token: args.with_current_token,
        description: default_description(Timestamp::now()),
    };
    let runner = Runner::new(vault, !args.with_current_token)?;
    let lock = vault.lock()?;
    let old = vault.find(profile)?;
    let rotated = rotate_locked(vault, &runner, old, &plan, &lock)?;
    print_created(rotated.id.as_deref(), rotated.expires_at)?;
    Ok(0)
}

/// Rotates `old` (read under `lock`, which the caller holds for the whole rotation).
pub fn rotate_locked(
    vault: &Vault,
    runner: &dyn Influxctl,
    old: Found,
    plan: &Plan,
    lock: &StoreLock,
) -> Result<Rotated> {
    let profile = old.entry.profile.clone();
    if old.store == StoreKind::Env {
        return Err(Error::OperationNotSupported(format!(
            "rotating the token of profile {profile:?}, which comes from the env store (it cannot be written); rotate it where it is kept, then update the CI secret"
        )));
    }
    vault.check_binding(&old.entry)?;
    let old_id = old.entry.token_id.clone();
    let old_shown = old_id.as_deref().unwrap_or("(id unknown)").to_owned();
    let cluster = vault.configured_cluster(&profile)?.unwrap_or_else(|| old.entry.cluster.clone());
    let expires_at = expiry_after(Timestamp::now(), plan.ttl)?;

    // 1. create
    let auth = if plan.with_current_token { Auth::Token(&old.entry.token) } else { Auth::OAuth };
    ui::note(format!(
        "rotate: creating a new token for profile {profile:?} with {}",
        auth.describe()
    ));
    let created = create_token(runner, &profile, &cluster, auth, &plan.description, expires_at)
        .map_err(|e| {
            e.context(format!(
                "rotate: creating the new token failed; the old token {old_shown} is still stored and valid"
            ))
        })?;
    let mut entry = new_entry(&profile, created, Origin::Rotated, &plan.description, expires_at);
    entry.cluster = cluster;
    let new_id = entry.token_id.clone();
    let shown = new_id.as_deref().unwrap_or("(id unknown)").to_owned();
    let expiry = entry.expires_at.map(|t| t.to_string()).unwrap_or_else(|| "never".into());
    ui::note(format!("rotate: 1/4 created the token {shown} (expires {expiry})"));

    // 2. store, where the old one was
    let written = vault
        .put_locked(entry.clone(), Some(old.store), lock)
        .map_err(|e| unstored(e, new_id.as_deref()))?;
    ui::note(format!("rotate: 2/4 stored it in the {} store", written.store));

    // 3. read back
    let not_back = |why: String| {
        Error::Other(format!(
            "rotate: {why}; the old token {old_shown} was not revoked, so both tokens stay valid; check with `influxctl-cred list`, and revoke the one not stored with `influxctl management revoke ID` (new: {shown})"
        ))
    };
    match vault.store(written.store)?.get(&profile) {
        Ok(Some(back)) if back.token == entry.token && back.token_id == entry.token_id => {}
        Ok(_) => {
            return Err(not_back(format!(
                "the {} store did not give the new token back",
                written.store
            )));
        }
        Err(e) => return Err(not_back(format!("reading the new token back failed: {e}"))),
    }
    ui::note(format!("rotate: 3/4 read it back from the {} store", written.store));

    // 4. revoke the old one
    let rotated = Rotated { id: new_id, expires_at: entry.expires_at, store: written.store };
    if plan.keep_old {
        ui::note(format!(
            "rotate: 4/4 kept the old token {old_shown} (--keep-old); it stays valid"
        ));
        return Ok(rotated);
    }
    let Some(old_id) = old_id else {
        return Err(Error::Other(format!(
            "rotate: the new token {shown} is stored, but the old token has no token id, so it was not revoked and may still be valid; find it with `influxctl management list` and revoke it with `influxctl management revoke --force ID`"
        )));
    };
    let auth = if plan.with_current_token { Auth::Token(&entry.token) } else { Auth::OAuth };
    runner.revoke(&profile, &entry.cluster, auth, &old_id).map_err(|e| {
        e.context(format!(
            "rotate: the new token {shown} is stored, but the old token {old_id} was not revoked and is still valid; revoke it with `influxctl management revoke --force {old_id}`"
        ))
    })?;
    ui::note(format!("rotate: 4/4 revoked the old token {old_id}"));
    Ok(rotated)
}

/// The auto-rotation hook of `get`, `exec` and the helper's `get`, called before the token is
/// read. `Ok` when there was nothing to do, the token was rotated, or rotating failed but the
/// stored token is still good enough for `min_ttl` (warned).
pub fn auto_rotate(vault: &Vault, profile: &str, min_ttl: Option<SignedDuration>) -> Result<()> {
    if !vault.settings.auto_rotate {
        return Ok(());
    }
    // Whatever stops the lookup is for the caller's own lookup to report.
    let Ok(seen) = vault.find(profile) else { return Ok(()) };
    let meta = seen.entry.meta();
    let now = Timestamp::now();
    if !due(vault, &meta, min_ttl, now) {
        return Ok(());
    }
    if seen.store == StoreKind::Env {
        ui::verbose(format!("not auto-rotating profile {profile:?}: the env store is read-only"));
        return Ok(());
    }
    if meta.ttl(now).is_some_and(|left| !left.is_positive()) {
        ui::verbose(format!(
            "not auto-rotating profile {profile:?}: an expired token cannot authenticate its replacement"
        ));
        return Ok(());
    }
    let outcome = Runner::new(vault, false)
        .and_then(|runner| auto_rotate_with(vault, &runner, &seen, min_ttl));
    match outcome {
        Ok(()) => Ok(()),
        Err(e) => match vault.find(profile) {
            Ok(f) if check_expiry(&f.entry.meta(), min_ttl, Timestamp::now()).is_ok() => {
                ui::warn(format!(
                    "auto-rotation of profile {profile:?} failed: {e}; using the stored token"
                ));
                Ok(())
            }
            _ => Err(e.context(format!("auto-rotation of profile {profile:?} failed"))),
        },
    }
}

/// Single-flight rotation of the entry the caller saw as `seen`: under the store lock, the
/// entry is read again; if it is no longer the one seen, another run rotated it.
pub fn auto_rotate_with(
    vault: &Vault,
    runner: &dyn Influxctl,
    seen: &Found,
    min_ttl: Option<SignedDuration>,
) -> Result<()> {
    let profile = &seen.entry.profile;
    let lock = vault.lock()?;
    let current = vault.find(profile)?;
    let now = Timestamp::now();
    if current.entry.token != seen.entry.token {
        ui::verbose(format!("profile {profile:?} was rotated by another run meanwhile"));
        return Ok(());
    }
    let meta = current.entry.meta();
    if !due(vault, &meta, min_ttl, now) {
        return Ok(());
    }
    ui::note(format!(
        "auto-rotating the token of profile {profile:?}, which {}",
        meta.expiry_state(now)
    ));
    let plan = Plan {
        ttl: vault.settings.ttl,
        keep_old: false,
        with_current_token: true,
        description: default_description(now),
    };
    rotate_locked(vault, runner, current, &plan, &lock).map(drop)
}

/// Whether the token should be rotated now: inside `renew_before`, or shorter-lived than a
/// `min_ttl` that a fresh token would satisfy.
fn due(vault: &Vault, meta: &EntryMeta, min_ttl: Option<SignedDuration>, now: Timestamp) -> bool {
    let Some(left) = meta.ttl(now) else { return false };
    left < vault.settings.renew_before
        || min_ttl.is_some_and(|min| left < min && min < vault.settings.ttl)
}
