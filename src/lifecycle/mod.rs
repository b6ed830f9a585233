//! The token lifecycle (docs/spec.md §8): `create`, `rotate`, `erase --revoke`, expiry and
//! auto-rotation. Every server-side step is a run of `influxctl management …` behind the small
//! [`Influxctl`] trait ([`run::Runner`] is the real one; tests script their own), so that the
//! order of the steps and what each failure leaves behind is plain code over a [`Vault`].
//!
//! How each step authenticates (docs/lifecycle.md):
//! - `create`, and `rotate` by default: the user's own OAuth login (the derived profile has no
//!   `mgmt_token`); the device-login prompt reaches the terminal.
//! - `rotate --with-current-token` and auto-rotation: the token being replaced creates the new
//!   one, and the *new* token revokes the old one (so a new token that does not work is found
//!   out while the old one is still valid).
//! - `erase --revoke`: the stored token itself (the one credential known to work for it).
//!
//! Modules: [`run`] (spawning influxctl), [`rotate`] (rotation and auto-rotation),
//! [`doctor`] (expiry and `doctor --online` checks).

pub mod claim;
pub mod doctor;
pub mod ids;
pub mod rotate;
pub mod run;

use jiff::{SignedDuration, Timestamp};

use crate::app::Vault;
use crate::cli::{AnswerArgs, CreateArgs};
use crate::entry::{Cluster, Entry, Origin};
use crate::error::{Error, ErrorKind, Result};
use crate::influxctl::output::{Created, Listed};
use crate::secret::Token;
use crate::settings::StoreKind;
use crate::ui;

pub use doctor::{expiry_checks, online_checks};
pub use rotate::{auto_rotate, rotate_command};

/// How one run of influxctl authenticates.
#[derive(Debug, Clone, Copy)]
pub enum Auth<'a> {
    /// No `mgmt_token` in the profile: influxctl uses the user's OAuth login.
    OAuth,
    /// This management token in the profile's `mgmt_token`.
    Token(&'a Token),
}

impl Auth<'_> {
    /// For messages: never the token.
    pub fn describe(&self) -> &'static str {
        match self {
            Auth::OAuth => "your OAuth login",
            Auth::Token(_) => "a stored management token",
        }
    }
}

/// The `management` commands of influxctl that the lifecycle uses.
pub trait Influxctl {
    /// `management create --description D --expires-at T`, parsed.
    fn create(
        &self,
        profile: &str,
        cluster: &Cluster,
        auth: Auth<'_>,
        description: &str,
        expires_at: Timestamp,
    ) -> Result<Created>;

    /// `management revoke --force -- ID` (`id` validated first).
    fn revoke(&self, profile: &str, cluster: &Cluster, auth: Auth<'_>, id: &str) -> Result<()>;

    /// `database list` authenticated with `auth`: whether a (new) token works.
    fn test(&self, profile: &str, cluster: &Cluster, auth: Auth<'_>) -> Result<()>;

    /// `management list --format json`, parsed.
    fn list(&self, profile: &str, cluster: &Cluster, auth: Auth<'_>) -> Result<Vec<Listed>>;
}

/// What replaces influxctl's "this is the only time you will see the token" (its token line
/// is withheld from what we pass on): where the token went, and how it is used from there.
pub fn kept_not_shown(profile: &str, store: StoreKind) -> String {
    format!(
        "the token is not shown (influxctl's \"only time you will see the token\" does not apply): it is kept in the {store} store, `influxctl-cred exec -p {profile} -- influxctl …` hands it to influxctl, and `influxctl-cred get -p {profile}` prints it"
    )
}

/// `create`: a new management token made with the user's OAuth login, stored; prints its id
/// and expiry on stdout, never the token.
pub fn create_command(
    vault: &Vault,
    profile: &str,
    target: Option<StoreKind>,
    args: &CreateArgs,
) -> Result<i32> {
    let now = Timestamp::now();
    let expires_at = match args.expires_at {
        Some(t) if t <= now => {
            return Err(Error::Usage(format!("--expires-at {t} is not in the future")));
        }
        Some(t) => t,
        None => expiry_after(now, args.ttl.unwrap_or(vault.settings.ttl))?,
    };
    let description = match &args.description {
        Some(d) => checked_description(d)?,
        None => default_description(now),
    };
    // One read of influxctl's config for the whole command.
    let snap = vault.snapshot()?;
    let cluster = snap.required_cluster(profile, "`create` runs influxctl with that profile")?;
    let runner = run::Runner::new(vault, &snap, true)?;
    // Under the store lock from the check to the write: a second `create` for the same profile
    // waits here, then sees the entry and refuses, so no token is created and then lost.
    let lock = vault.lock()?;
    match vault.find(profile) {
        Ok(found) => {
            return Err(Error::Usage(format!(
                "profile {profile:?} already has a token in the {} store (id {}); replace it with `influxctl-cred rotate -p {profile}`, or erase it first",
                found.store,
                found.entry.token_id.as_deref().unwrap_or("unknown")
            )));
        }
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    ui::note(format!("creating a management token for profile {profile:?} with your OAuth login"));
    let created = create_token(&runner, profile, &cluster, Auth::OAuth, &description, expires_at)?;
    let mut entry = new_entry(profile, created, Origin::Created, &description, expires_at);
    entry.cluster = cluster;
    let (id, expiry) = (entry.token_id.clone(), entry.expires_at);
    let mut audit = crate::audit::released("create", &entry, "");
    let written = vault.put_locked(entry, target, &lock).map_err(|e| unstored(e, id.as_deref()))?;
    audit.store = Some(written.store.to_string());
    crate::audit::record(&audit);
    drop(lock);
    ui::note(format!("stored the new token of profile {profile:?} in the {} store", written.store));
    ui::note(kept_not_shown(profile, written.store));
    if id.is_none() {
        ui::warn(
            "influxctl did not print the token's id, so `rotate` and `erase --revoke` cannot revoke it; find it with `influxctl management list`",
        );
    }
    let answer = serde_json::json!({
        "profile": profile,
        "token_id": id,
        "expires_at": expiry,
        "store": written.store,
        "replaced": written.replaced,
    });
    print_created(args.answer, id.as_deref(), expiry, &answer)?;
    Ok(0)
}

/// Runs `management create` and, when influxctl (before 2.11) printed no id, looks the new
/// token up in `management list` by its prefix and description.
pub fn create_token(
    runner: &dyn Influxctl,
    profile: &str,
    cluster: &Cluster,
    auth: Auth<'_>,
    description: &str,
    expires_at: Timestamp,
) -> Result<Created> {
    let mut created = runner.create(profile, cluster, auth, description, expires_at)?;
    if created.id.is_none() {
        match runner.list(profile, cluster, auth) {
            Ok(listed) => {
                let mut matching = listed.into_iter().filter(|l| {
                    l.revoked_at.is_none()
                        && l.description.as_deref() == Some(description)
                        && l.token_prefix.as_deref().is_some_and(|p| {
                            p.len() > crate::secret::MANAGEMENT_PREFIX.len()
                                && created.token.starts_with(p)
                        })
                });
                if let (Some(one), None) = (matching.next(), matching.next())
                    && crate::entry::validate_token_id(&one.id).is_ok()
                {
                    created.id = Some(one.id);
                    created.expires_at = created.expires_at.or(one.expires_at);
                }
            }
            Err(e) => ui::verbose(format!("cannot look the new token's id up: {e}")),
        }
    }
    Ok(created)
}

/// The entry for a token influxctl just created.
fn new_entry(
    profile: &str,
    created: Created,
    origin: Origin,
    description: &str,
    requested_expiry: Timestamp,
) -> Entry {
    let mut entry = Entry::new(profile, created.token, origin);
    entry.token_id = created.id;
    entry.description = Some(created.description.unwrap_or_else(|| description.to_owned()));
    entry.expires_at = Some(created.expires_at.unwrap_or(requested_expiry));
    entry
}

/// A store failure after influxctl created a token: the message names the token to revoke.
fn unstored(e: Error, id: Option<&str>) -> Error {
    let revoke = match id {
        Some(id) => format!("revoke it with `influxctl management revoke --force -- {id}`"),
        None => "find it with `influxctl management list` and revoke it".to_owned(),
    };
    e.context(format!(
        "influxctl created the token {} but it could not be stored (nothing stored was changed); {revoke}",
        id.unwrap_or("(id unknown)")
    ))
}

/// The id and expiry on stdout (for scripts), or with `--format json` the `json` answer;
/// never the token.
fn print_created(
    answer: AnswerArgs,
    id: Option<&str>,
    expires_at: Option<Timestamp>,
    json: &serde_json::Value,
) -> Result<()> {
    if answer.json() {
        return ui::answer(json);
    }
    let expires = expires_at.map_or_else(|| "never".to_owned(), |t| t.to_string());
    let text = format!("token_id: {}\nexpires_at: {expires}\n", id.unwrap_or("unknown"));
    crate::ui::stdout(text.as_bytes())
}

/// `erase`'s JSON answer: `existed` (as the helper's `erase`), the stores the entry was
/// erased from, and the token id revoked first (`erase --revoke`), else null.
pub fn erased_answer(
    profile: &str,
    stores: &[StoreKind],
    revoked: Option<&str>,
) -> serde_json::Value {
    serde_json::json!({
        "profile": profile,
        "existed": !stores.is_empty(),
        "stores": stores,
        "revoked": revoked,
    })
}

/// `erase --revoke`: revokes the stored token on the server with itself, then erases it. A
/// failed revoke leaves the entry where it was.
pub fn erase_revoke(
    vault: &Vault,
    profile: &str,
    target: Option<StoreKind>,
    answer: AnswerArgs,
) -> Result<i32> {
    let found = match vault.find(profile) {
        Err(e) if e.kind() == ErrorKind::NotFound => {
            ui::note(format!("no token was stored for profile {profile:?} (existed: false)"));
            if answer.json() {
                ui::answer(&erased_answer(profile, &[], None))?;
            }
            return Ok(0);
        }
        found => found?,
    };
    let entry = &found.entry;
    let Some(id) = entry.token_id.as_deref() else {
        return Err(Error::Usage(format!(
            "the token of profile {profile:?} has no token id, so it cannot be revoked (nothing was erased); find its id with `influxctl management list`, revoke it with `influxctl management revoke --force -- ID`, then run `influxctl-cred erase -p {profile}`"
        )));
    };
    crate::entry::validate_token_id(id).map_err(|e| {
        e.context(format!(
            "the stored token id of profile {profile:?} is not a plain id; nothing was revoked or erased"
        ))
    })?;
    // One read of influxctl's config: checked, then derived for the revoke.
    let snap = vault.snapshot()?;
    vault.check_binding_in(&snap, entry)?;
    let runner = run::Runner::new(vault, &snap, false)?;
    runner.revoke(profile, &entry.cluster, Auth::Token(&entry.token), id).map_err(|e| {
        e.context(format!(
            "the token {id} of profile {profile:?} was not revoked and is still stored"
        ))
    })?;
    ui::note(format!("revoked the token {id} of profile {profile:?}"));
    let stores = vault.erase_from(profile, target)?;
    ui::note(format!("erased the token of profile {profile:?} (existed: {})", !stores.is_empty()));
    if answer.json() {
        ui::answer(&erased_answer(profile, &stores, Some(id)))?;
    }
    Ok(0)
}

/// `now + ttl`, to the second.
pub fn expiry_after(now: Timestamp, ttl: SignedDuration) -> Result<Timestamp> {
    if !ttl.is_positive() {
        return Err(Error::Usage("the token's lifetime must be longer than 0s".into()));
    }
    Timestamp::from_second(now.as_second().saturating_add(ttl.as_secs()))
        .map_err(|e| Error::Usage(format!("the token's lifetime is too long: {e}")))
}

/// A description influxctl accepts: not empty (influxctl 2.10 rejects it), one line.
fn checked_description(d: &str) -> Result<String> {
    let d = d.trim();
    if d.is_empty() {
        return Err(Error::Usage("--description must not be empty".into()));
    }
    if d.chars().any(char::is_control) {
        return Err(Error::Usage("--description must be one line of text".into()));
    }
    crate::entry::check_description(d)?;
    Ok(d.to_owned())
}

/// `influxctl-cred <user>@<host> <date>`.
pub fn default_description(now: Timestamp) -> String {
    format!("influxctl-cred {}@{} {}", user_name(), host_name(), now.strftime("%Y-%m-%d"))
}

fn user_name() -> String {
    for var in ["USER", "USERNAME", "LOGNAME"] {
        if let Some(v) = std::env::var(var).ok().filter(|v| !v.trim().is_empty()) {
            return v.trim().to_owned();
        }
    }
    #[cfg(unix)]
    if let Ok(Some(user)) = nix::unistd::User::from_uid(nix::unistd::getuid()) {
        return user.name;
    }
    "unknown".to_owned()
}

fn host_name() -> String {
    let from_env = ["HOSTNAME", "COMPUTERNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|v| !v.trim().is_empty()));
    let from_file = || {
        ["/proc/sys/kernel/hostname", "/etc/hostname"].iter().find_map(|p| {
            std::fs::read_to_string(p).ok().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
        })
    };
    from_env.or_else(from_file).unwrap_or_else(|| "unknown-host".to_owned())
}

#[cfg(test)]
mod tests;
