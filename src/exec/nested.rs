//! A nested `exec` (docs/influxctl.md, "Nested exec"): an `exec` inside the script of another
//! (a script that calls `influxctl-cred exec`, the `shell-init` function) uses the outer
//! derived config only when it asks for nothing else. A `-p`, `--store`, `--influxctl-config`,
//! `--inject` or `--database-token` that differs from what the outer run derived, or a
//! `--min-ttl` the outer token does not meet, is a usage error (exit 125) and the program
//! never runs: the inner run cannot honour it without a second token the script was not given.

use jiff::{SignedDuration, Timestamp};

use super::ExecOptions;
use super::shim::{Derivation, Outer, same_config};
use crate::cli::Inject;
use crate::error::{Error, Result};
use crate::influxctl::args::InfluxArgs;

/// The name `--inject` takes for `inject`.
pub fn inject_name(inject: Inject) -> &'static str {
    match inject {
        Inject::Memfd => "memfd",
        Inject::File => "file",
        Inject::Fifo => "fifo",
    }
}

/// The marker of `--database-token` for a run: its spec and lifetime; empty without one.
pub fn database_token_mark(opts: &ExecOptions) -> String {
    opts.database_token
        .as_ref()
        .map(|s| format!("{s};ttl={}s", opts.database_token_ttl.as_secs()))
        .unwrap_or_default()
}

/// Refuses an inner run that asks for anything the outer one did not derive.
pub fn check(outer: &Outer, opts: &ExecOptions) -> Result<()> {
    check_at(outer, opts, Timestamp::now())
}

fn check_at(outer: &Outer, opts: &ExecOptions, now: Timestamp) -> Result<()> {
    let d: &Derivation = &outer.derived;
    let refuse = |what: String| {
        Err(Error::Usage(format!(
            "this exec runs inside another exec (profile {:?}), whose derived config it would use, but {what}; run it outside the other exec, or drop the flag",
            outer.profile
        )))
    };
    if let Some(p) = opts.profile_flag.as_deref().filter(|p| *p != outer.profile) {
        return refuse(format!("-p {p:?} asks for another profile"));
    }
    if let Some(p) = env_profile().filter(|p| *p != outer.profile) {
        return refuse(format!("$INFLUXCTL_PROFILE {p:?} asks for another profile"));
    }
    if let Some(s) = opts.store.filter(|s| s.as_str() != d.store) {
        return refuse(format!("--store {s} asks for another store than {:?}", d.store));
    }
    if let Some(c) = opts.influxctl_config.as_deref().filter(|c| !same_config(c, &outer.source)) {
        return refuse(format!(
            "--influxctl-config {} is not the config {} it was derived from",
            c.display(),
            outer.source.display()
        ));
    }
    if let Some(i) = opts.inject.map(inject_name).filter(|i| *i != d.inject) {
        return refuse(format!("--inject {i} asks for another injection than {:?}", d.inject));
    }
    if let (Some(min), Some(expires)) = (opts.min_ttl, d.expires) {
        let left = Timestamp::from_second(expires)
            .map(|e| e.duration_since(now))
            .unwrap_or(SignedDuration::ZERO);
        if left < min {
            return refuse(format!(
                "--min-ttl {} asks for more than the {} its token has left",
                crate::duration::humanize(min),
                crate::duration::humanize(left.max(SignedDuration::ZERO))
            ));
        }
    }
    let db = database_token_mark(opts);
    if !db.is_empty() && db != d.database_token {
        let theirs = if d.database_token.is_empty() { "none" } else { d.database_token.as_str() };
        return refuse(format!("--database-token {db} differs from the outer one ({theirs})"));
    }
    Ok(())
}

fn env_profile() -> Option<String> {
    std::env::var("INFLUXCTL_PROFILE").ok().filter(|p| !p.is_empty())
}

/// Checks an influxctl call that gets the outer derived config (through the shim or a nested
/// `exec`): the profile it names (`--profile`, else `$INFLUXCTL_PROFILE`) must be the outer
/// one, and its `--account`/`--cluster` those the token is bound to, as a top-level `exec`
/// checks them. The `--profile` to add: the outer profile when the call names none.
pub fn check_call(outer: &Outer, args: &InfluxArgs) -> Result<Option<String>> {
    check_call_with(outer, args, env_profile())
}

fn check_call_with(
    outer: &Outer,
    args: &InfluxArgs,
    env: Option<String>,
) -> Result<Option<String>> {
    let named = match (args.profile(), env) {
        (Some(p), _) => Some((p.to_owned(), "--profile")),
        (None, Some(p)) => Some((p, "$INFLUXCTL_PROFILE")),
        (None, None) => None,
    };
    if let Some((p, source)) = named.as_ref().filter(|(p, _)| *p != outer.profile) {
        return Err(Error::Usage(format!(
            "this influxctl call runs inside an exec whose derived config holds the token of profile {:?} only, but its {source} names profile {p:?}; run it outside that exec",
            outer.profile
        )));
    }
    if let Some(bound) = &outer.derived.binding {
        let asked = [
            ("account_id", bound.account_id.as_deref(), args.account()),
            ("cluster_id", bound.cluster_id.as_deref(), args.cluster()),
        ];
        for (field, stored, asked) in asked {
            if let Some(a) = asked.filter(|a| Some(*a) != stored) {
                return Err(Error::ClusterMismatch {
                    profile: outer.profile.clone(),
                    field,
                    stored: stored.unwrap_or("(not set)").to_owned(),
                    configured: a.to_owned(),
                });
            }
        }
    }
    Ok(named.is_none().then(|| outer.profile.clone()))
}

#[cfg(test)]
mod tests;
