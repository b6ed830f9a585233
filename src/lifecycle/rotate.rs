//! `rotate` and auto-rotation. The steps, in this order, each reported on stderr: **create**
//! the new token (same description and lifetime as the old one unless told otherwise) →
//! **test** it (`influxctl database list` with it, retried with backoff for up to
//! `activation_timeout`, since a new token takes a while to become active) → **store** it
//! (origin `rotated`, in the store the old one came from) → **read it back** and compare →
//! **revoke** the old one by id (unless `--keep-old`). The whole rotation runs under the store
//! lock, after re-reading the entry, against one snapshot of influxctl's config. What a
//! failure leaves: create fails → the old token, untouched; the test fails → the old token,
//! stored and not revoked (the message names the new token's id, to revoke by hand; it is not
//! stored, since it does not work); store fails → the old token (the new id named);
//! read-back fails → whatever the store holds, and the old token is not revoked, so both work;
//! revoke fails → the new token stored, the old one still valid (its id named). Never zero
//! working tokens.
//!
//! Auto-rotation ([`auto_rotate`], for `get`, `exec` and the helper's `get` when
//! `auto_rotate = true`): a token inside `renew_before` is rotated with itself as the
//! credential, never with a device login, so that a script never blocks on a browser. It is
//! single-flight: under the store lock the entry is read again, and if another run replaced it
//! meanwhile, that token is used. An expired token cannot authenticate its own replacement and
//! is not auto-rotated. When auto-rotation fails, a token that is still good enough is used
//! (with a warning); otherwise the failure is the answer.

use jiff::{SignedDuration, Timestamp};

use super::claim::Acquired;
use super::run::Runner;
use super::{
    Auth, Influxctl, create_token, default_description, expiry_after, new_entry, print_created,
    unstored,
};
use crate::app::{Found, Vault, check_expiry};
use crate::cli::RotateArgs;
use crate::entry::{EntryMeta, Origin};
use crate::error::{Error, Result};
use crate::influxctl::config::Snapshot;
use crate::lock::StoreLock;
use crate::settings::StoreKind;
use crate::ui;

/// What a rotation is asked to do.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The new token's lifetime; `None`: the old token's lifetime (created to expiry), else
    /// `ttl` from our settings.
    pub ttl: Option<SignedDuration>,
    pub keep_old: bool,
    /// Authenticate with the token being replaced (create) and the new one (revoke), instead
    /// of the user's OAuth login.
    pub with_current_token: bool,
    /// The new token's description; `None`: the old token's, else the default one.
    pub description: Option<String>,
    /// How long the new token is tested before the rotation gives up.
    pub activation_timeout: std::time::Duration,
}

/// What a rotation did.
#[derive(Debug, Clone)]
pub struct Rotated {
    pub id: Option<String>,
    pub expires_at: Option<Timestamp>,
    pub store: StoreKind,
    /// The replaced token's id (when it had one).
    pub old_id: Option<String>,
    /// Whether the old token was revoked (not with `--keep-old`).
    pub revoked_old: bool,
}

/// `rotate` from the command line.
pub fn rotate_command(vault: &Vault, profile: &str, args: &RotateArgs) -> Result<i32> {
    let plan = Plan {
        ttl: args.ttl,
        keep_old: args.keep_old,
        with_current_token: args.with_current_token,
        description: None,
        activation_timeout: vault.settings.activation_timeout,
    };
    // One read of influxctl's config for the whole rotation.
    let snap = vault.snapshot()?;
    let runner = Runner::new(vault, &snap, !args.with_current_token)?;
    let lock = vault.lock()?;
    let old = vault.find(profile)?;
    let rotated = rotate_locked(vault, &snap, &runner, old, &plan, &lock)?;
    let answer = serde_json::json!({
        "profile": profile,
        "token_id": rotated.id,
        "expires_at": rotated.expires_at,
        "store": rotated.store,
        "old_token_id": rotated.old_id,
        "revoked_old": rotated.revoked_old,
    });
    print_created(args.answer, rotated.id.as_deref(), rotated.expires_at, &answer)?;
    Ok(0)
}

/// Rotates `old` (read under `lock`, which the caller holds for the whole rotation).
pub fn rotate_locked(
    vault: &Vault,
    snap: &Snapshot,
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
    vault.check_binding_in(snap, &old.entry)?;
    let old_id = old.entry.token_id.clone();
    if let Some(id) = &old_id {
        crate::entry::validate_token_id(id).map_err(|e| {
            e.context(format!(
                "the stored token id of profile {profile:?} is not a plain id; nothing was changed"
            ))
        })?;
    }
    let old_shown = old_id.as_deref().unwrap_or("(id unknown)").to_owned();
    let cluster = snap.cluster(&profile)?.unwrap_or_else(|| old.entry.cluster.clone());
    crate::api::endpoint::check_plain_http(&vault.settings, &profile, &cluster)?;
    // The old lifetime, unless it is so short that the new token would be due for renewal at
    // once (then `ttl` from our settings).
    let kept = lifetime_of(&old.entry.meta()).filter(|l| *l > vault.settings.renew_before);
    let ttl = plan.ttl.or(kept).unwrap_or(vault.settings.ttl);
    let expires_at = expiry_after(Timestamp::now(), ttl)?;
    let description = plan
        .description
        .clone()
        .or_else(|| old.entry.description.clone().filter(|_| !local_description(&old.entry)))
        .unwrap_or_else(|| default_description(Timestamp::now()));

    // A store that machines share: claim the entry first, or use another machine's rotation.
    let held = match super::claim::for_rotation(vault, &old, !plan.with_current_token)? {
        Some(Acquired::Held(held)) => Some(held),
        Some(Acquired::Replaced { entry, by }) => {
            ui::note(format!(
                "profile {profile:?} was rotated by {} meanwhile; using its new token {}",
                by.as_deref().unwrap_or("another run"),
                entry.token_id.as_deref().unwrap_or("(id unknown)")
            ));
            // The other machine's rotation revoked (or kept) the old token, not this run.
            return Ok(Rotated {
                id: entry.token_id,
                expires_at: entry.expires_at,
                store: old.store,
                old_id: old.entry.token_id.clone(),
                revoked_old: false,
            });
        }
        None => None,
    };

    // 1. create
    let auth = if plan.with_current_token { Auth::Token(&old.entry.token) } else { Auth::OAuth };
    ui::note(format!(
        "rotate: creating a new token for profile {profile:?} with {}",
        auth.describe()
    ));
    let created = create_token(runner, &profile, &cluster, auth, &description, expires_at)
        .map_err(|e| {
            e.context(format!(
                "rotate: creating the new token failed; the old token {old_shown} is still stored and valid"
            ))
        })?;
    let mut entry = new_entry(&profile, created, Origin::Rotated, &description, expires_at);
    entry.cluster = cluster;
    let new_id = entry.token_id.clone();
    let shown = new_id.as_deref().unwrap_or("(id unknown)").to_owned();
    let expiry = entry.expires_at.map(|t| t.to_string()).unwrap_or_else(|| "never".into());
    ui::note(format!("rotate: 1/5 created the token {shown} (expires {expiry})"));

    // 2. test it, before anything depends on it
    test_until_active(runner, &profile, &entry, plan.activation_timeout).map_err(|e| {
        let revoke = match &new_id {
            Some(id) => format!("revoke it with `influxctl management revoke --force -- {id}`"),
            None => "find it with `influxctl management list` and revoke it".to_owned(),
        };
        e.context(format!(
            "rotate: the new token {shown} did not work within {}s; the old token {old_shown} is still stored and was not revoked; the new one was not stored: {revoke}",
            plan.activation_timeout.as_secs()
        ))
    })?;
    ui::note(format!("rotate: 2/5 the new token {shown} works"));

    // 3. store, where the old one was
    let written = match held {
        Some(held) => super::claim::commit(held, &entry, old.store),
        None => vault.put_locked(entry.clone(), Some(old.store), lock),
    }
    .map_err(|e| unstored(e, new_id.as_deref()))?;
    ui::note(format!("rotate: 3/5 stored it in the {} store", written.store));
    ui::note(super::kept_not_shown(&profile, written.store));

    // 4. read back
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
    ui::note(format!("rotate: 4/5 read it back from the {} store", written.store));

    // 5. revoke the old one
    let mut rotated = Rotated {
        id: new_id,
        expires_at: entry.expires_at,
        store: written.store,
        old_id: old_id.clone(),
        revoked_old: false,
    };
    crate::audit::record(&crate::audit::released("rotate", &entry, written.store));
    if plan.keep_old {
        ui::note(format!(
            "rotate: 5/5 kept the old token {old_shown} (--keep-old); it stays valid"
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
            "rotate: the new token {shown} is stored, but the old token {old_id} was not revoked and is still valid; revoke it with `influxctl management revoke --force -- {old_id}`"
        ))
    })?;
    ui::note(format!("rotate: 5/5 revoked the old token {old_id}"));
    rotated.revoked_old = true;
    Ok(rotated)
}

/// The old token's lifetime (stored to expiry), when both are known and positive.
fn lifetime_of(meta: &EntryMeta) -> Option<SignedDuration> {
    let left = meta.expires_at?.duration_since(meta.created_at);
    left.is_positive().then_some(left)
}

/// Runs `database list` with the new token until it works, with backoff (0.5s, 1s, 2s, …, at
/// most 15s apart) for up to `timeout`; the last failure when it never did.
fn test_until_active(
    runner: &dyn Influxctl,
    profile: &str,
    entry: &crate::entry::Entry,
    timeout: std::time::Duration,
) -> Result<()> {
    let start = std::time::Instant::now();
    let mut pause = std::time::Duration::from_millis(500);
    loop {
        match runner.test(profile, &entry.cluster, Auth::Token(&entry.token)) {
            Ok(()) => return Ok(()),
            Err(e) => {
                let elapsed = start.elapsed();
                if elapsed >= timeout {
                    return Err(e);
                }
                ui::verbose(format!("rotate: the new token does not work yet ({e}); retrying"));
                std::thread::sleep(pause.min(timeout - elapsed));
                pause = (pause * 2).min(std::time::Duration::from_secs(15));
            }
        }
    }
}

/// The auto-rotation hook of `get`, `exec` and the helper's `get`, called before the token is
/// read. `Ok` when there was nothing to do, the token was rotated, or rotating failed but the
/// stored token is still good enough for `min_ttl` (warned).
pub fn auto_rotate(
    vault: &Vault,
    snap: &Snapshot,
    profile: &str,
    min_ttl: Option<SignedDuration>,
) -> Result<()> {
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
    let outcome = Runner::new(vault, snap, false)
        .and_then(|runner| auto_rotate_with(vault, snap, &runner, &seen, min_ttl));
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
    snap: &Snapshot,
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
        ttl: None,
        keep_old: false,
        with_current_token: true,
        description: None,
        activation_timeout: vault.settings.activation_timeout,
    };
    rotate_locked(vault, snap, runner, current, &plan, &lock).map(drop)
}

/// Whether the token should be rotated now: inside `renew_before`, or shorter-lived than a
/// `min_ttl` that a fresh token would satisfy.
fn due(vault: &Vault, meta: &EntryMeta, min_ttl: Option<SignedDuration>, now: Timestamp) -> bool {
    let Some(left) = meta.ttl(now) else { return false };
    left < vault.settings.renew_before
        || min_ttl.is_some_and(|min| left < min && min < vault.settings.ttl)
}

/// Whether the entry's description is one `import` made ("imported from <path of
/// config.toml>"): it says where a token came from on this machine, and stays here. `rotate`
/// does not send it to the server as the new token's description.
fn local_description(entry: &crate::entry::Entry) -> bool {
    entry.origin == crate::entry::Origin::Imported
        && entry.description.as_deref().is_some_and(|d| d.starts_with("imported from "))
}
