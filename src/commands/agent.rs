//! `agent`, `unlock` and `lock` (docs/spec.md §13, docs/agent.md).

use std::time::Duration;

use jiff::SignedDuration;

use crate::app::Vault;
use crate::cli::{AgentArgs, UnlockArgs};
use crate::error::{Error, Result};
use crate::identity::{self, Identities};
use crate::ui;

fn std_dur(d: Option<SignedDuration>, default: Duration, what: &'static str) -> Result<Duration> {
    match d {
        None => Ok(default),
        Some(d) if d.is_positive() => Ok(Duration::from_secs(d.as_secs().max(1) as u64)),
        Some(_) => Err(Error::InvalidValue { what, message: "must be longer than 0s".into() }),
    }
}

/// `agent`: runs the agent in the foreground until its TTL, idle timeout, `lock` or a signal.
pub fn agent(vault: &Vault, args: &AgentArgs) -> Result<i32> {
    #[cfg(unix)]
    {
        let opts = crate::agent::server::Options {
            ttl: std_dur(args.ttl, vault.settings.agent_ttl, "--ttl")?,
            idle: std_dur(args.idle, vault.settings.agent_idle, "--idle")?,
        };
        let dir = crate::agent::runtime_dir().ok_or_else(crate::agent::unsupported)?;
        crate::agent::server::serve(&dir, opts)?;
        Ok(0)
    }
    #[cfg(not(unix))]
    {
        let _ = (vault, args);
        Err(crate::agent::unsupported())
    }
}

/// `unlock`: asks each passphrase once, then hands the keys to the agent (started when none
/// runs). Only the agent's same-uid socket ever sees them.
pub fn unlock(vault: &Vault, args: &UnlockArgs, interactive: bool) -> Result<i32> {
    let ttl = std_dur(args.ttl, vault.settings.agent_ttl, "--ttl")?;
    let prompt = interactive.then(identity::tty_prompt);
    let ids =
        Identities::find(&vault.paths.default_identity(), &vault.settings.identities, prompt)?
            .ok_or_else(|| Error::StoreUnavailable {
                store: "file",
                reason: "no age identity found".into(),
                hint: Some(crate::error::IDENTITY_LOOKUP.to_owned()),
            })?;
    if ids.needs_no_passphrase() {
        ui::note(format!(
            "nothing to unlock: every identity from {} opens without a passphrase",
            ids.source.describe()
        ));
        return Ok(0);
    }
    let found = ids.unlockable()?;
    for path in &found.ssh_skipped {
        ui::warn(format!(
            "{} is a passphrase-protected OpenSSH key, which the agent cannot hold; it still asks \
             on each use",
            path.display()
        ));
    }
    if found.count == 0 {
        return Err(Error::OperationNotSupported(
            "no identity the agent can hold (only age identity files, `age -p`)".into(),
        ));
    }
    #[cfg(unix)]
    {
        use crate::agent::client;
        let pid = match client::status() {
            Some(s) => s.pid,
            None => client::start_detached(ttl, vault.settings.agent_idle)?.pid,
        };
        let status = client::add(&found.keys, Some(ttl))?;
        ui::note(format!(
            "the agent (pid {pid}) holds {} identit{} for {}",
            status.identities,
            if status.identities == 1 { "y" } else { "ies" },
            crate::duration::humanize(SignedDuration::from_secs(ttl.as_secs() as i64))
        ));
        Ok(0)
    }
    #[cfg(not(unix))]
    {
        let _ = (ttl, found);
        Err(crate::agent::unsupported())
    }
}

/// `lock`: the agent forgets everything and exits; then whatever else a session holds.
pub fn lock(vault: &Vault) -> Result<i32> {
    // The vault logins first: those the agent holds are revoked on the server before it
    // forgets them. Each part runs even when the other failed: one failure must not leave the
    // other session open.
    let extras = lock_extras(vault);
    #[cfg(unix)]
    let stopped = crate::agent::client::lock();
    #[cfg(not(unix))]
    let stopped: Result<bool> = Ok(false);
    let stopped = stopped?;
    extras?;
    ui::note(if stopped {
        "the agent forgot every identity and vault login and stopped"
    } else {
        "no agent runs"
    });
    Ok(0)
}

/// What `lock` ends besides the agent: the vault store's cached login (revoked, deleted).
pub fn lock_extras(vault: &Vault) -> Result<()> {
    super::lock::forget_vault_login(vault)
}
