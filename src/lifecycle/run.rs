//! Running `influxctl management …` for the lifecycle: the derived config (the user's profile
//! with `mgmt_token` removed for an OAuth login, or set to a token we hold), placed as `exec`
//! places its own (a 0600 file in a fresh 0700 folder on tmpfs, removed on every path, signals
//! forwarded to the child meanwhile); stdin inherited only when a person may be asked (the
//! device login), stderr inherited, stdout captured for parsing. Lines of stdout reach our
//! stderr as they come, except from `M.V1.` to the end of that line: the token.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use jiff::Timestamp;
use zeroize::{Zeroize, Zeroizing};

use super::{Auth, Influxctl};
use crate::app::Vault;
use crate::cli::Inject;
use crate::entry::Cluster;
use crate::error::{Error, Result};
use crate::influxctl::config::{InfluxConfig, Snapshot};
use crate::influxctl::derive;
use crate::influxctl::output::{self, Created, Listed};
use crate::spawn::child::{Forwarder, Spawned, exit_code};
use crate::spawn::place::Derived;
use crate::ui;

/// Overrides the influxctl program (a path, or a name looked up on `PATH`).
pub const PROGRAM_ENV: &str = "INFLUXCTL_CRED_INFLUXCTL";

/// The most of influxctl's stdout we keep; more is an error.
const MAX_STDOUT: usize = 1 << 20;

/// What starts a management token; from here to the end of its line nothing is echoed.
const MARK: &[u8] = b"M.V1.";

/// The real influxctl.
#[derive(Debug, Clone)]
pub struct Runner {
    program: OsString,
    config_path: PathBuf,
    /// The command's one read of influxctl's config ([`Snapshot`]): every derived config of
    /// this run is made from it, never from a fresh read.
    base: Option<InfluxConfig>,
    /// Whether influxctl may read our stdin (a device login on a terminal).
    stdin: bool,
}

impl Runner {
    /// influxctl (`$INFLUXCTL_CRED_INFLUXCTL`, else the real one of an `exec` shim around us,
    /// else `influxctl` on `PATH`) with the config of
    /// `snap`; stdin is passed on only when `attended` and the vault may prompt.
    pub fn new(vault: &Vault, snap: &Snapshot, attended: bool) -> Result<Runner> {
        // Inside a script run by `exec`, `influxctl` on PATH is its shim: the real one instead.
        let program = std::env::var_os(PROGRAM_ENV)
            .filter(|v| !v.is_empty())
            .or_else(|| {
                std::env::var_os(crate::spawn::shim_dir::REAL_VAR).filter(|v| !v.is_empty())
            })
            .unwrap_or_else(|| OsString::from("influxctl"));
        let config_path = snap.path.clone().ok_or_else(|| {
            Error::Other("cannot find influxctl's config folder; pass --influxctl-config".into())
        })?;
        Ok(Runner {
            program,
            config_path,
            base: snap.config.as_deref().cloned(),
            stdin: attended && !vault.opts.non_interactive,
        })
    }

    /// The derived config for `auth`: the user's config with profile `profile`'s `mgmt_token`
    /// removed (OAuth) or set; a missing profile is built from `cluster`.
    fn derived_text(
        &self,
        profile: &str,
        cluster: &Cluster,
        auth: Auth<'_>,
    ) -> Result<Zeroizing<String>> {
        // derive() drops a plaintext `mgmt_token` it does not set.
        let base = self.base.as_ref();
        let set: Vec<(&'static str, &crate::secret::Token)> = match auth {
            Auth::OAuth => Vec::new(),
            Auth::Token(t) => vec![("mgmt_token", t)],
        };
        derive::derive(base, &self.config_path, profile, cluster, &set)
    }

    /// Runs `influxctl --config DERIVED --profile P management ARGS…`; its stdout when it
    /// exited 0. `echo` passes stdout on to our stderr (without the token).
    fn run(
        &self,
        profile: &str,
        cluster: &Cluster,
        auth: Auth<'_>,
        args: &[&str],
        echo: bool,
    ) -> Result<Zeroizing<String>> {
        let mut all = vec!["management"];
        all.extend_from_slice(args);
        self.run_any(profile, cluster, auth, &all, echo)
    }

    /// Runs `influxctl --config DERIVED --profile P ARGS…`.
    fn run_any(
        &self,
        profile: &str,
        cluster: &Cluster,
        auth: Auth<'_>,
        args: &[&str],
        echo: bool,
    ) -> Result<Zeroizing<String>> {
        let what =
            format!("`influxctl {}`", args.iter().take(2).copied().collect::<Vec<_>>().join(" "));
        let text = self.derived_text(profile, cluster, auth)?;
        let forwarder = Forwarder::install()?;
        let derived = Derived::place(Inject::DEFAULT, text)?;
        let mut cmd = Command::new(&self.program);
        cmd.arg("--config")
            .arg(derived.path())
            .args(["--profile", profile])
            .args(args)
            .stdin(if self.stdin { Stdio::inherit() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (name, _) in std::env::vars_os() {
            if crate::spawn::child::is_secret_var(&name) {
                cmd.env_remove(&name);
            }
        }
        ui::verbose(format!("running {what} with the profile {profile:?} ({})", auth.describe()));
        let mut child = match forwarder.spawn(&mut cmd) {
            Ok(Spawned::Child(child)) => child,
            Ok(Spawned::Interrupted(sig)) => {
                return Err(Error::InfluxctlFailed(format!(
                    "{what} was not started: stopped by signal {sig}"
                )));
            }
            Err(e) => {
                return Err(Error::InfluxctlFailed(format!(
                    "cannot run {} ({e}); install influxctl, or set {PROGRAM_ENV} to its path",
                    self.program.to_string_lossy()
                )));
            }
        };
        let mut tee = Tee::new(echo);
        // stdout is read on a thread of its own (started with the signals blocked, as this
        // one has them) while this thread waits, so that a signal reaches influxctl at once,
        // not once it has closed its stdout.
        let stdout = child.stdout.take();
        let tee_ref = &mut tee;
        let (read, status) = std::thread::scope(|scope| {
            let reader = stdout.map(|mut out| scope.spawn(move || tee_ref.drain(&mut out)));
            let status = forwarder.wait(&mut child);
            let read = match reader.map(|r| r.join()) {
                None => Ok(()),
                Some(Ok(read)) => read,
                Some(Err(_)) => Err(std::io::Error::other("the reading thread panicked")),
            };
            (read, status)
        });
        let status =
            status.map_err(|e| Error::InfluxctlFailed(format!("cannot wait for {what}: {e}")))?;
        drop(derived);
        read.map_err(|e| Error::InfluxctlFailed(format!("cannot read the output of {what}: {e}")))?;
        if !status.success() {
            let code = exit_code(status);
            let how = if code > 128 && status.code().is_none() {
                format!("was killed by signal {}", code - 128)
            } else {
                format!("exited with status {code}")
            };
            return Err(Error::InfluxctlFailed(format!("{what} {how}")));
        }
        tee.into_text(&what)
    }
}

impl Influxctl for Runner {
    fn create(
        &self,
        profile: &str,
        cluster: &Cluster,
        auth: Auth<'_>,
        description: &str,
        expires_at: Timestamp,
    ) -> Result<Created> {
        let expires = expires_at.to_string();
        let args = ["create", "--description", description, "--expires-at", &expires];
        let stdout = self.run(profile, cluster, auth, &args, true)?;
        output::parse_create(&stdout)
    }

    fn revoke(&self, profile: &str, cluster: &Cluster, auth: Auth<'_>, id: &str) -> Result<()> {
        crate::entry::validate_token_id(id)?;
        self.run(profile, cluster, auth, &["revoke", "--force", "--", id], true).map(drop)
    }

    fn test(&self, profile: &str, cluster: &Cluster, auth: Auth<'_>) -> Result<()> {
        self.run_any(profile, cluster, auth, &["database", "list"], false).map(drop)
    }

    fn list(&self, profile: &str, cluster: &Cluster, auth: Auth<'_>) -> Result<Vec<Listed>> {
        let stdout = self.run(profile, cluster, auth, &["list", "--format", "json"], false)?;
        output::parse_list_json(&stdout)
    }
}

/// Keeps influxctl's stdout (zeroized on drop) and passes it on to a writer (our stderr) as it
/// comes, except from [`MARK`] to the end of that line. Bytes that may be the start of the
/// mark are held until the next read tells.
pub struct Tee<W: Write = std::io::Stderr> {
    out: Option<W>,
    kept: Zeroizing<Vec<u8>>,
    /// Bytes before this index have been echoed or withheld.
    done: usize,
    /// Inside a token, until the end of its line.
    secret: bool,
    /// The token began its line: its newline is withheld too.
    whole_line: bool,
    overflow: bool,
}

impl Tee {
    fn new(echo: bool) -> Tee {
        Tee::to(echo.then(std::io::stderr))
    }
}

impl<W: Write> Tee<W> {
    /// A tee echoing to `out` (nothing when `None`).
    pub fn to(out: Option<W>) -> Tee<W> {
        Tee {
            out,
            kept: Zeroizing::new(Vec::with_capacity(64 * 1024)),
            done: 0,
            secret: false,
            whole_line: false,
            overflow: false,
        }
    }

    /// Reads `input` to its end.
    pub fn drain(&mut self, input: &mut impl Read) -> std::io::Result<()> {
        let mut chunk = Zeroizing::new([0u8; 4096]);
        loop {
            let n = match input.read(&mut chunk[..]) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            self.feed(&chunk[..n]);
        }
        self.finish();
        Ok(())
    }

    /// Takes in one chunk.
    pub fn feed(&mut self, chunk: &[u8]) {
        if self.overflow || self.kept.len() + chunk.len() > MAX_STDOUT {
            // Keep reading (the child would block on a full pipe), keep nothing more.
            self.overflow = true;
            return;
        }
        if self.kept.len() + chunk.len() > self.kept.capacity() {
            let mut bigger =
                Zeroizing::new(Vec::with_capacity(2 * (self.kept.len() + chunk.len())));
            bigger.extend_from_slice(&self.kept);
            self.kept = bigger; // the old buffer is zeroized as it drops
        }
        self.kept.extend_from_slice(chunk);
        let mut i = self.done;
        let mut echo_from = self.done;
        while i < self.kept.len() {
            if self.secret {
                if self.kept[i] == b'\n' {
                    self.secret = false;
                    echo_from = if self.whole_line { i + 1 } else { i };
                }
                i += 1;
                continue;
            }
            let rest = &self.kept[i..];
            if rest.starts_with(MARK) {
                self.emit(echo_from, i);
                self.secret = true;
                self.whole_line = i == 0 || self.kept[i - 1] == b'\n';
                i += MARK.len();
                continue;
            }
            if MARK.starts_with(rest) {
                break; // perhaps the start of a token: wait for the next chunk
            }
            i += 1;
        }
        if !self.secret {
            self.emit(echo_from, i);
        }
        self.done = i;
    }

    /// End of input: what was held back was not a token.
    pub fn finish(&mut self) {
        if !self.secret && !self.overflow {
            self.emit(self.done, self.kept.len());
            self.done = self.kept.len();
        }
    }

    fn emit(&mut self, from: usize, to: usize) {
        if let Some(out) = self.out.as_mut()
            && from < to
        {
            let _ = out.write_all(&self.kept[from..to]).and_then(|()| out.flush());
        }
    }

    /// Everything kept, as text (zeroized on drop).
    pub fn into_text(mut self, what: &str) -> Result<Zeroizing<String>> {
        if self.overflow {
            return Err(Error::InfluxctlFailed(format!(
                "{what} printed more than {} KiB on stdout",
                MAX_STDOUT / 1024
            )));
        }
        let bytes = std::mem::take(&mut *self.kept);
        match String::from_utf8(bytes) {
            Ok(text) => Ok(Zeroizing::new(text)),
            Err(e) => {
                e.into_bytes().zeroize();
                Err(Error::InfluxctlFailed(format!("{what} printed text that is not UTF-8")))
            }
        }
    }
}

#[cfg(test)]
mod tests;
