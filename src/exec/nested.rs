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

#[cfg(test)]
mod tests;
