//! The `influxctl` shim of a script run by `exec` (docs/spec.md §7.4), and a nested `exec`.
//!
//! `exec` runs a PROGRAM that is not influxctl with its arguments untouched, and puts a private
//! folder first on its `PATH` holding `influxctl`, a link to our own binary
//! ([`crate::spawn::shim_dir`]). It also sets the markers below. When our binary starts under
//! the name `influxctl` with [`REAL_VAR`] set, it is the shim: [`run_if_shim`] (called by `main`
//! before anything else, so the cost of each influxctl call of the script is one `execve`)
//! replaces itself with the real influxctl, `--config` pointing at the derived config the way
//! `exec` rewrites it. Under `--inject memfd` the derived config is a socket of the running
//! `exec` ([`crate::spawn::served`]): the shim receives its own descriptor of the memfd there
//! and passes `--config /dev/fd/N`, the descriptor inherited by influxctl only. The markers
//! name paths and a profile; the token is in none of them.
//!
//! The call's own arguments decide:
//! - `--config X` naming the very config the derived one was made from, or the derived one
//!   (`$INFLUXCTL_CRED_CONFIG`): replaced, as `exec` does. Naming another file: the user chose X; the call runs unchanged (no token), with a
//!   warning.
//! - A profile (`--profile`, else `$INFLUXCTL_PROFILE`) other than the one the token is for,
//!   or an `--account`/`--cluster` other than those the token is bound to: refused (exit 125),
//!   influxctl never runs ([`super::nested::check_call`]). A call that names no profile gets
//!   `--profile <the token's>`, as `exec` adds it.
//! - Markers naming no channel of a live run of ours (a killed `exec`, a forged path): the
//!   call runs unchanged, with a warning; nothing ever waits on a channel nobody serves.
//! - `help`, `version`, `--help`, or arguments influxctl itself would refuse: unchanged.
//!
//! A nested `exec` (the script runs `influxctl-cred exec -- …`, as the `shell-init` function
//! does) sees the markers and injects nothing a second time: influxctl runs as the shim runs
//! it, any other program runs unchanged under the markers it already has.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

use super::target;
use crate::error::{Error, Result};
use crate::influxctl::args::InfluxArgs;
use crate::spawn::child;
use crate::ui;

pub use crate::spawn::shim_dir::{
    BINDING_VAR, CONFIG_VAR, DATABASE_TOKEN_VAR, EXPIRES_VAR, INJECT_VAR, PROFILE_VAR, REAL_VAR,
    SOURCE_VAR, STORE_VAR,
};

/// What the `exec` around this process left in its environment: where the derived config is
/// and what it was derived with (never the token).
#[derive(Debug, Clone, Default)]
pub struct Outer {
    pub config: PathBuf,
    pub real: Option<PathBuf>,
    pub source: PathBuf,
    pub profile: String,
    /// What a nested exec is checked against ([`super::nested`]).
    pub derived: Derivation,
}

/// How the outer exec derived its config, beside the profile and source config.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Derivation {
    /// The store the token came from (`keyring`, `file`, …).
    pub store: String,
    /// When the token expires (Unix seconds); `None` when it never does.
    pub expires: Option<i64>,
    /// The `--inject` mode (`memfd`, `file`, `fifo`).
    pub inject: String,
    /// `--database-token` and its lifetime (`read=db;ttl=3600s`); empty without one.
    pub database_token: String,
    /// Where the token may go; `None` when it is bound to no cluster.
    pub binding: Option<Bound>,
}

/// The account and cluster a token is bound to: an influxctl call of the script may name
/// these with `--account`/`--cluster`, never others.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Bound {
    pub account_id: Option<String>,
    pub cluster_id: Option<String>,
}

impl Outer {
    /// The markers, when [`REAL_VAR`] and [`CONFIG_VAR`] are both set.
    pub fn from_env() -> Option<Outer> {
        let real = std::env::var_os(REAL_VAR)?;
        let config = std::env::var_os(CONFIG_VAR).filter(|v| !v.is_empty())?;
        Some(Outer {
            config: config.into(),
            real: (!real.is_empty()).then(|| real.into()),
            source: std::env::var_os(SOURCE_VAR).unwrap_or_default().into(),
            profile: std::env::var(PROFILE_VAR).unwrap_or_default(),
            derived: Derivation {
                store: std::env::var(STORE_VAR).unwrap_or_default(),
                expires: std::env::var(EXPIRES_VAR).ok().and_then(|v| v.parse().ok()),
                inject: std::env::var(INJECT_VAR).unwrap_or_default(),
                database_token: std::env::var(DATABASE_TOKEN_VAR).unwrap_or_default(),
                // A marker that does not parse allows no --account/--cluster at all.
                binding: std::env::var(BINDING_VAR)
                    .ok()
                    .filter(|v| !v.is_empty())
                    .map(|v| serde_json::from_str(&v).unwrap_or_default()),
            },
        })
    }

    /// The markers for a script's environment.
    pub fn vars(&self) -> Vec<(OsString, OsString)> {
        vec![
            (CONFIG_VAR.into(), self.config.clone().into_os_string()),
            (REAL_VAR.into(), self.real.clone().unwrap_or_default().into_os_string()),
            (SOURCE_VAR.into(), self.source.clone().into_os_string()),
            (PROFILE_VAR.into(), self.profile.clone().into()),
            (STORE_VAR.into(), self.derived.store.clone().into()),
            (
                EXPIRES_VAR.into(),
                self.derived.expires.map(|e| e.to_string()).unwrap_or_default().into(),
            ),
            (INJECT_VAR.into(), self.derived.inject.clone().into()),
            (DATABASE_TOKEN_VAR.into(), self.derived.database_token.clone().into()),
            (
                BINDING_VAR.into(),
                self.derived
                    .binding
                    .as_ref()
                    .and_then(|b| serde_json::to_string(b).ok())
                    .unwrap_or_default()
                    .into(),
            ),
        ]
    }

    /// Whether the derived config is a channel of a run of ours that still runs: markers that
    /// outlived their `exec` (a process the script left behind, a killed `exec`) or that were
    /// never ours (`/dev/fd/0`) name none ([`crate::spawn::place::live_channel`]).
    pub fn alive(&self) -> bool {
        crate::spawn::place::live_channel(&self.config)
    }
}

/// When this process is the shim: runs the real influxctl and returns the exit code (only
/// when it could not be started, or off Unix).
pub fn run_if_shim() -> Option<i32> {
    let mut argv = std::env::args_os();
    if !target::named_influxctl(&argv.next()?) {
        return None;
    }
    let outer = Outer::from_env()?;
    let args: Vec<OsString> = argv.collect();
    Some(run_real(&outer, &args))
}

/// A nested `exec -- PROGRAM ARGS` under `outer`, whose flags [`super::nested::check`]
/// found to ask for nothing else: nothing injected a second time.
pub fn nested(outer: &Outer, program: &OsStr, args: &[OsString]) -> i32 {
    ui::verbose("inside another exec: using its derived config, injecting nothing twice");
    if target::is_influxctl(program, outer.real.as_deref()) {
        return run_real(outer, args);
    }
    match child::Forwarder::install() {
        Ok(forwarder) => child::run(program, args, &[], &[], &forwarder),
        Err(e) => {
            ui::report(&e);
            super::EXIT_OWN_FAILURE
        }
    }
}

/// Replaces this process with the real influxctl, given the derived config.
fn run_real(outer: &Outer, args: &[OsString]) -> i32 {
    let Some(real) = outer.real.as_deref() else {
        ui::stderr_line(
            "influxctl-cred: influxctl not found: the shim of `exec` found none on PATH (nor $INFLUXCTL_CRED_INFLUXCTL) when the script started",
        );
        ui::stderr_line(child::NOT_FOUND_HINT);
        return child::EXIT_NOT_FOUND;
    };
    if std::env::current_exe().is_ok_and(|ours| target::same_file(real, &ours)) {
        ui::stderr_line(&format!(
            "influxctl-cred: {} is influxctl-cred itself, not influxctl; not running it",
            real.display()
        ));
        return child::EXIT_NOT_FOUND;
    }
    // Held until `execve`: the config received from a memfd script's socket.
    let (args, _served) = match real_args(outer, args) {
        Ok(got) => got,
        Err(e) => {
            ui::report(&e);
            return super::EXIT_OWN_FAILURE;
        }
    };
    let mut cmd = std::process::Command::new(real);
    cmd.args(&args);
    for (name, _) in std::env::vars_os() {
        if child::is_secret_var(&name) {
            cmd.env_remove(&name);
        }
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        let e = cmd.exec();
        failed(real, e)
    }
    #[cfg(not(unix))]
    match cmd.status() {
        Ok(status) => child::exit_code(status),
        Err(e) => failed(real, e),
    }
}

fn failed(real: &Path, e: std::io::Error) -> i32 {
    let code = match e.kind() {
        std::io::ErrorKind::NotFound => child::EXIT_NOT_FOUND,
        _ => child::EXIT_CANNOT_EXECUTE,
    };
    ui::report(&Error::io("cannot run", real, e));
    code
}

/// The real influxctl's arguments: the call's own, with `--config` set to the derived config
/// (and `--profile` to the outer profile when the call names none) unless the call needs no
/// token or chose another config (module docs); an error when it asks for another profile or
/// cluster than the token is for.
pub fn shim_args(outer: &Outer, args: &[OsString]) -> Result<Vec<OsString>> {
    call_args(outer, args, outer.alive())
}

fn call_args(outer: &Outer, args: &[OsString], live: bool) -> Result<Vec<OsString>> {
    Ok(match wants_config(outer, args, live)? {
        Some(call) => call.args(&outer.config),
        None => args.to_vec(),
    })
}

/// [`shim_args`], where the derived config may be a memfd script's socket: then the config is
/// the descriptor received on it, `/dev/fd/N` (returned, and inherited by the real influxctl
/// only). When the socket cannot be reached (its `exec` has ended), the call runs unchanged.
#[cfg(target_os = "linux")]
fn real_args(
    outer: &Outer,
    args: &[OsString],
) -> Result<(Vec<OsString>, Option<std::os::fd::OwnedFd>)> {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::FileTypeExt;
    let Some(call) = wants_config(outer, args, outer.alive())? else {
        return Ok((args.to_vec(), None));
    };
    let is_socket = std::fs::metadata(&outer.config).is_ok_and(|m| m.file_type().is_socket());
    if !is_socket {
        return Ok((call.args(&outer.config), None));
    }
    let served = crate::spawn::served::receive(&outer.config)
        .and_then(|fd| crate::spawn::served::inheritable(&fd).map(|()| fd));
    Ok(match served {
        Ok(fd) => {
            let path = PathBuf::from(format!("/dev/fd/{}", fd.as_raw_fd()));
            (call.args(&path), Some(fd))
        }
        Err(e) => {
            ui::warn(format!(
                "cannot get the derived config from the exec around this script ({}: {e}); running influxctl without it",
                outer.config.display()
            ));
            (args.to_vec(), None)
        }
    })
}

#[cfg(not(target_os = "linux"))]
fn real_args(outer: &Outer, args: &[OsString]) -> Result<(Vec<OsString>, Option<()>)> {
    Ok((shim_args(outer, args)?, None))
}

/// A call that gets the derived config.
struct Call {
    parsed: InfluxArgs,
    /// `--profile` to add: the outer profile, when the call names none.
    add_profile: Option<String>,
}

impl Call {
    fn args(&self, config: &Path) -> Vec<OsString> {
        self.parsed.rewrite(Some(config), self.add_profile.as_deref())
    }
}

/// The parsed call when it gets the derived config; `None` when it runs unchanged (with the
/// warnings of the module docs); an error when it names another profile or cluster
/// ([`super::nested::check_call`]). `live`: whether the derived config is still served.
fn wants_config(outer: &Outer, args: &[OsString], live: bool) -> Result<Option<Call>> {
    let Ok(parsed) = InfluxArgs::parse(args) else { return Ok(None) };
    if parsed.needs_no_token() {
        return Ok(None);
    }
    if !live {
        ui::warn(format!(
            "the derived config {} of the exec around this script is gone (or not ours); running influxctl without it",
            outer.config.display()
        ));
        return Ok(None);
    }
    // `--config "$INFLUXCTL_CRED_CONFIG"` is the derived config itself: served as any call's.
    let ours = |c: &PathBuf| same_config(c, &outer.source) || same_config(c, &outer.config);
    if let Some(own) = parsed.config().filter(|c| !ours(c)) {
        ui::warn(format!(
            "this influxctl call names its own --config {}; running it unchanged, without the stored token",
            own.display()
        ));
        return Ok(None);
    }
    let add_profile = super::nested::check_call(outer, &parsed)?;
    Ok(Some(Call { parsed, add_profile }))
}

pub fn same_config(a: &Path, b: &Path) -> bool {
    a == b || target::same_file(a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    fn outer(dir: &Path) -> Outer {
        let config = dir.join("derived.toml");
        std::fs::write(&config, "").unwrap();
        Outer {
            config,
            real: None,
            source: dir.join("config.toml"),
            profile: "default".into(),
            derived: Derivation::default(),
        }
    }

    #[test]
    fn shim_adds_the_derived_config_or_replaces_the_source() {
        let dir = tempfile::tempdir().unwrap();
        let o = outer(dir.path());
        let derived = o.config.to_string_lossy().into_owned();
        let args = |a: &[&str]| call_args(&o, &os(a), true).unwrap();
        assert_eq!(
            args(&["database", "list"]),
            os(&["--profile", "default", "--config", &derived, "database", "list"])
        );
        let source = format!("--config={}", o.source.display());
        assert_eq!(
            args(&["--profile", "default", &source, "database", "list"]),
            os(&["--profile", "default", &format!("--config={derived}"), "database", "list"])
        );
    }

    #[test]
    fn shim_leaves_other_configs_help_and_bad_arguments_alone() {
        let dir = tempfile::tempdir().unwrap();
        let o = outer(dir.path());
        for args in [
            &["--config", "/elsewhere.toml", "database", "list"][..],
            &["help"],
            &["database", "list", "--help"],
            &["database", "--config"],
        ] {
            assert_eq!(call_args(&o, &os(args), true).unwrap(), os(args), "{args:?}");
        }
        let gone = call_args(&o, &os(&["database", "list"]), false).unwrap();
        assert_eq!(gone, os(&["database", "list"]), "gone");
        // A derived config in no run folder of ours is not served.
        assert_eq!(shim_args(&o, &os(&["database", "list"])).unwrap(), gone);
    }
}
