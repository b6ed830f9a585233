//! `exec` (docs/spec.md §7): runs influxctl with a management token that exists only for the life of
//! that one process. It reads influxctl's own flags to find the config and profile influxctl
//! will use ([`crate::influxctl::args`]), gets the token through the [`Vault`] (binding and
//! expiry checked against that very config), writes a *derived* config ([`place`]: a 0600 file
//! in a fresh 0700 folder, or a FIFO), runs the child with `--config` pointing at it, forwards
//! SIGINT/SIGTERM/SIGHUP ([`child`]), removes the derived config on every path, and exits with
//! the child's code. Its own failures before the child runs exit 125 (126 cannot execute, 127
//! not found), as `env` and `timeout` do.
//!
//! The steps are separate functions so that a caller can add secrets between them: [`Secrets`]
//! holds the profile keys written into the derived profile and the variables added to the
//! child's environment (`exec --database-token` adds `token` and `INFLUX_TOKEN` there:
//! [`database`]).

pub mod database;
pub mod doctor;
#[cfg(target_os = "linux")]
mod in_place;
pub mod nested;
mod options;
pub mod script;
pub mod shim;
pub mod target;
pub mod usage;

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use jiff::SignedDuration;

use crate::app::{Found, Options, Vault};
use crate::cli::Inject;
use crate::entry::Cluster;
use crate::error::{Error, ErrorKind, Result};
use crate::influxctl::args::InfluxArgs;
use crate::influxctl::config::Snapshot;
use crate::influxctl::derive;
use crate::paths::Paths;
use crate::secret::Token;
use crate::settings::StoreKind;
use crate::ui;

use crate::spawn::{child, place, shim_dir};

pub use options::ExecOptions;

/// Exit code of our own failures before the child runs.
pub const EXIT_OWN_FAILURE: i32 = 125;

/// What influxctl will use, worked out from its arguments and environment.
#[derive(Debug, Clone)]
pub struct Plan {
    pub program: OsString,
    pub args: InfluxArgs,
    /// The config influxctl would read (and we derive from).
    pub config_path: PathBuf,
    pub profile: String,
    /// `--profile NAME` to add to the child's arguments (when only our `-p` named it).
    pub add_profile: Option<String>,
    /// A PROGRAM that is not influxctl: its arguments pass untouched, a shim adds the config.
    pub script: Option<script::Script>,
    /// What the derived config was made with, for the markers of a script (a nested exec).
    pub derived: shim::Derivation,
    /// The audit record written once the child has started (`not-started` when it was not).
    pub audit: Option<crate::audit::Record>,
}

/// The secrets that go into the derived profile and the child's environment.
#[derive(Debug, Default)]
pub struct Secrets {
    /// Profile keys influxctl knows: `mgmt_token`, and `token` for a database token.
    pub keys: Vec<(&'static str, Token)>,
    /// Variables added to the child's environment (never the management token).
    pub env: Vec<(OsString, Token)>,
}

/// `exec` from the command line: never an `Err`, since every failure has its own exit code.
pub fn command(opts: &ExecOptions) -> i32 {
    match run(opts) {
        Ok(code) => code,
        Err(e) => {
            ui::report(&e);
            EXIT_OWN_FAILURE
        }
    }
}

fn run(opts: &ExecOptions) -> Result<i32> {
    // A mistyped flag taken for PROGRAM: refused before any store is opened.
    usage::check_program(&opts.program)?;
    // Inside the script of another exec: its derived config, not a second one, and only when
    // this run asks for nothing else.
    if let Some(outer) = shim::Outer::from_env().filter(shim::Outer::alive) {
        nested::check(&outer, opts)?;
        return Ok(shim::nested(&outer, &opts.program, &opts.args));
    }
    let inject = opts.inject.unwrap_or(Inject::DEFAULT);
    let mut plan = Plan::resolve(opts)?;
    // influxctl itself must exist before a token is read for it ($INFLUXCTL_CRED_INFLUXCTL
    // names it for a bare `influxctl`).
    if plan.script.is_none() {
        let Some(program) = target::direct_or_report(&plan.program) else {
            return Ok(child::EXIT_NOT_FOUND);
        };
        plan.program = program;
    }
    // A database token was asked for explicitly, whatever the program's arguments look like;
    // a script is never `influxctl help`.
    if plan.args.needs_no_token() && plan.script.is_none() && opts.database_token.is_none() {
        ui::verbose("influxctl needs no token for this; running it unchanged");
        return plan.run_without_token();
    }
    let vault = plan.open_vault(opts.non_interactive, opts.store)?;
    // The one read of influxctl's config: checked, derived from, and handed to the child.
    let snap = plan.snapshot()?;
    crate::lifecycle::auto_rotate(&vault, &snap, &plan.profile, opts.min_ttl)?;
    let found = match plan.lookup(&vault, &snap, opts.min_ttl) {
        Err(e) if opts.allow_missing && e.kind() == ErrorKind::NotFound => {
            ui::verbose(format!("{e}; running the program unchanged (--allow-missing)"));
            return plan.run_without_token();
        }
        Err(e) if opts.allow_missing && e.kind() == ErrorKind::StoreUnavailable => {
            ui::warn(format!("{e}; running the program without a stored token (--allow-missing)"));
            return plan.run_without_token();
        }
        found => found.inspect_err(|e| crate::audit::refused("exec", &plan.profile, e))?,
    };
    plan.derived = shim::Derivation {
        store: found.store.as_str().to_owned(),
        expires: found.entry.expires_at.map(|t| t.as_second()),
        inject: nested::inject_name(inject).to_owned(),
        database_token: nested::database_token_mark(opts),
        // Checked only for a stored binding, as `lookup` checks `--account`/`--cluster`.
        binding: (found.store != StoreKind::Env && !found.entry.cluster.is_empty()).then(|| {
            shim::Bound {
                account_id: found.entry.cluster.account_id.clone(),
                cluster_id: found.entry.cluster.cluster_id.clone(),
            }
        }),
    };
    if let Some(spec) = &opts.database_token {
        // The management token leaves the store for the Management API call, child or not.
        crate::audit::record(
            &crate::audit::released("database-token", &found.entry, found.store)
                .with_program(&plan.program),
        );
        return database::run(&plan, &vault, &snap, found, spec, opts.database_token_ttl, inject);
    }
    plan.audit =
        Some(crate::audit::released("exec", &found.entry, found.store).with_program(&plan.program));
    let secrets = Secrets { keys: vec![("mgmt_token", found.entry.token)], env: Vec::new() };
    plan.run(&snap, &found.entry.cluster, secrets, inject)
}

impl Plan {
    /// Finds influxctl's config and profile (docs/spec.md §7.1). A `-p` or `--influxctl-config` that
    /// contradicts what influxctl will use is a usage error.
    pub fn resolve(opts: &ExecOptions) -> Result<Plan> {
        let script = match target::classify(&opts.program) {
            target::Program::Influxctl => None,
            target::Program::Other { real } => {
                ui::verbose(format!(
                    "{} is not influxctl: its arguments pass untouched; an influxctl shim on its PATH adds the derived config",
                    Path::new(&opts.program).display()
                ));
                Some(script::Script { args: opts.args.clone(), real })
            }
        };
        // A script's arguments are its own, not influxctl's flags.
        let args = match script {
            None => InfluxArgs::parse(&opts.args)?,
            Some(_) => InfluxArgs::default(),
        };
        let config_path = match (args.config(), &opts.influxctl_config) {
            (Some(a), Some(b)) if !same_file(&a, b) => {
                return Err(Error::Usage(format!(
                    "--influxctl-config {} contradicts influxctl's --config {}; give one",
                    b.display(),
                    a.display()
                )));
            }
            (Some(a), _) => a,
            (None, Some(b)) => b.clone(),
            (None, None) => crate::paths::influxctl_default_config().ok_or_else(|| {
                Error::Other("cannot find influxctl's config folder; pass --config".into())
            })?,
        };
        let env = std::env::var("INFLUXCTL_PROFILE").ok().filter(|s| !s.is_empty());
        let (profile, add_profile) =
            resolve_profile(args.profile(), env.as_deref(), opts.profile_flag.as_deref())?;
        crate::store::validate_profile(&profile)?;
        // `exec --database-token -- influxctl …` inside a script: the real influxctl, not the
        // shim first on PATH (which would see a --config it did not expect).
        let program = match shim::Outer::from_env().filter(shim::Outer::alive).and_then(|o| o.real)
        {
            Some(real) if script.is_none() && opts.program == "influxctl" => real.into_os_string(),
            _ => opts.program.clone(),
        };
        Ok(Plan {
            program,
            args,
            config_path,
            profile,
            add_profile,
            script,
            derived: shim::Derivation::default(),
            audit: None,
        })
    }

    /// The vault, binding against the config influxctl will read; reading only from `store`
    /// when one is named.
    pub fn open_vault(&self, non_interactive: bool, store: Option<StoreKind>) -> Result<Vault> {
        let opts = Options { non_interactive, influxctl_config: Some(self.config_path.clone()) };
        Ok(Vault::open(Paths::from_env()?, opts)?.reading_only_from(store))
    }

    /// influxctl's config as this run reads it, once ([`Snapshot`]).
    pub fn snapshot(&self) -> Result<Snapshot> {
        Snapshot::read(Some(self.config_path.clone()))
    }

    /// The checked entry (binding, expiry) against `snap`, also against `--account`/`--cluster`
    /// in the arguments, which change where influxctl sends the token. Warns near expiry.
    pub fn lookup(
        &self,
        vault: &Vault,
        snap: &Snapshot,
        min_ttl: Option<SignedDuration>,
    ) -> Result<Found> {
        let found = vault.get_in(snap, &self.profile, min_ttl)?;
        // Where influxctl will send it: the snapshot's profile, or (when the config lacks it)
        // the profile built from the binding; then its --account/--cluster.
        let mut target =
            snap.cluster(&self.profile)?.unwrap_or_else(|| found.entry.cluster.clone());
        if let Some(a) = self.args.account() {
            target.account_id = Some(a.to_owned());
        }
        if let Some(c) = self.args.cluster() {
            target.cluster_id = Some(c.to_owned());
        }
        if found.store != StoreKind::Env {
            found.entry.cluster.check(&self.profile, &target)?;
        }
        crate::api::endpoint::check_plain_http(&vault.settings, &self.profile, &target)?;
        if let Some(w) = vault.expiry_warning(&found.entry.meta()) {
            ui::warn(w);
        }
        Ok(found)
    }

    /// Runs the program with its arguments as given (plus `--profile` from our `-p`).
    pub fn run_without_token(&self) -> Result<i32> {
        let forwarder = child::Forwarder::install()?;
        if let Some(s) = &self.script {
            let env = script::profile_env(self.add_profile.as_deref());
            return Ok(child::run(&self.program, &s.args, &[], &env, &forwarder));
        }
        let args = self.args.rewrite(None, self.add_profile.as_deref());
        Ok(child::run(&self.program, &args, &[], &[], &forwarder))
    }

    /// Writes the derived config (from `snap`), runs the child, cleans up; the child's exit
    /// code. The
    /// profile keys are dropped as soon as the derived config holds them.
    pub fn run(
        &self,
        snap: &Snapshot,
        cluster: &Cluster,
        secrets: Secrets,
        inject: Inject,
    ) -> Result<i32> {
        // Nothing to clean up after influxctl: this process becomes influxctl (in_place.rs).
        #[cfg(target_os = "linux")]
        if self.may_exec_in_place(inject, &secrets) {
            return self.exec_in_place(snap, cluster, secrets);
        }
        // Signals are caught from here on, so none can kill us while the derived config exists.
        let forwarder = child::Forwarder::install()?;
        self.run_caught(snap, cluster, secrets, inject, &forwarder)
    }

    /// The derived config's text (zeroized when dropped): the user's config from `snap` with
    /// `secrets`' keys set in this run's profile, or the profile built from `cluster`.
    fn derive_text(
        &self,
        snap: &Snapshot,
        cluster: &Cluster,
        secrets: &Secrets,
    ) -> Result<zeroize::Zeroizing<String>> {
        let keys: Vec<(&'static str, &Token)> = secrets.keys.iter().map(|(k, t)| (*k, t)).collect();
        derive::derive(snap.config.as_deref(), &self.config_path, &self.profile, cluster, &keys)
    }

    /// [`Plan::run`] under a [`child::Forwarder`] the caller installed earlier (before making
    /// a secret that must be cleaned up, as `--database-token` does). A signal caught before
    /// the child is spawned stops the run without starting it. The profile keys are dropped
    /// (zeroized) as soon as the derived config holds them (docs/spec.md §10.8).
    pub fn run_caught(
        &self,
        snap: &Snapshot,
        cluster: &Cluster,
        secrets: Secrets,
        inject: Inject,
        forwarder: &child::Forwarder,
    ) -> Result<i32> {
        let text = self.derive_text(snap, cluster, &secrets)?;
        // A script's processes inherit nothing that outlives this run: no memfd (a background
        // process would keep it), but a socket served by this process (script::place).
        let derived = match &self.script {
            Some(_) => script::place(inject, text)?,
            None => place::Derived::place(inject, text)?,
        };
        let Secrets { keys: owned_keys, env } = secrets;
        drop(owned_keys);
        ui::verbose(format!("derived config at {}", derived.path().display()));
        let audit = self.audit.clone();
        let note = move |started: bool| {
            if let Some(mut record) = audit {
                if !started {
                    "not-started".clone_into(&mut record.outcome);
                }
                crate::audit::record(&record);
            }
        };
        if let Some(s) = &self.script {
            let shim = shim_dir::ShimDir::create(&place::Root::for_scripts()?)?;
            let outer = shim::Outer {
                config: derived.path().to_owned(),
                real: s.real.clone(),
                source: self.config_path.clone(),
                profile: self.profile.clone(),
                derived: self.derived.clone(),
            };
            let vars = script::env(shim.path(), &outer, self.add_profile.as_deref())?;
            let code = child::run_noting(&self.program, &s.args, &env, &vars, forwarder, note);
            drop(shim);
            drop(derived);
            return Ok(code);
        }
        let args = self.args.rewrite(Some(derived.path()), self.add_profile.as_deref());
        let code = child::run_noting(&self.program, &args, &env, &[], forwarder, note);
        drop(derived);
        Ok(code)
    }
}

/// Whether two paths name the same file (the same text, or the same file once resolved).
fn same_file(a: &std::path::Path, b: &std::path::Path) -> bool {
    a == b
        || matches!((std::fs::canonicalize(a), std::fs::canonicalize(b)), (Ok(x), Ok(y)) if x == y)
}

/// docs/spec.md §7.1: `--profile` in the arguments, else `$INFLUXCTL_PROFILE`, else our `-p`, else
/// `default`. Our `-p` must agree with the first two; when only `-p` names the profile it is
/// passed on to influxctl as `--profile`.
pub fn resolve_profile(
    from_args: Option<&str>,
    from_env: Option<&str>,
    flag: Option<&str>,
) -> Result<(String, Option<String>)> {
    let influxctl_choice = from_args
        .map(|p| (p, "influxctl's --profile"))
        .or_else(|| from_env.map(|p| (p, "$INFLUXCTL_PROFILE")));
    match (influxctl_choice, flag) {
        (Some((chosen, source)), Some(p)) if chosen != p => Err(Error::Usage(format!(
            "-p {p:?} contradicts {source} {chosen:?}, which influxctl will use; give one"
        ))),
        (Some((chosen, _)), _) => Ok((chosen.to_owned(), None)),
        (None, Some(p)) => Ok((p.to_owned(), Some(p.to_owned()))),
        (None, None) => Ok(("default".to_owned(), None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_profile_follows_influxctl_order() {
        let r = |a, e, f| resolve_profile(a, e, f).unwrap();
        assert_eq!(r(Some("a"), Some("e"), None), ("a".into(), None));
        assert_eq!(r(None, Some("e"), None), ("e".into(), None));
        assert_eq!(r(None, None, Some("f")), ("f".into(), Some("f".into())));
        assert_eq!(r(None, None, None), ("default".into(), None));
        assert_eq!(r(Some("a"), Some("e"), Some("a")), ("a".into(), None));
        assert_eq!(r(None, Some("e"), Some("e")), ("e".into(), None));
    }

    #[test]
    fn resolve_profile_contradiction_is_usage_error() {
        let err = resolve_profile(Some("a"), None, Some("b")).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidRequest);
        assert!(err.to_string().contains("--profile"));
        let err = resolve_profile(None, Some("e"), Some("b")).unwrap_err();
        assert!(err.to_string().contains("INFLUXCTL_PROFILE"));
    }
}
