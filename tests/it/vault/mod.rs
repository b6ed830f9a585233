//! The `vault` store (docs/spec.md §12) through the real binary against a real OpenBao
//! ([`crate::openbao`]): round trip, `bao kv` interop, check-and-set and mounts ([`kv`]),
//! policies and logins ([`access`]), the CI flow with no stored secret ([`ci`]), rotation across
//! machines ([`rotate`]), https, namespaces and the token's sources ([`tls`]), a raft cluster
//! losing its leader and unreachable servers ([`ha`]). Each test home is one "machine": its own
//! HOME and settings, pointed at the server by `[vault] addrs` and `BAO_TOKEN` (or a login) in
//! the environment. Every run's stderr is scanned for the management token and for the server
//! tokens the test made; no test needs more than one dev server (the raft test, one cluster).

#![cfg(unix)]

mod access;
mod ci;
mod ha;
mod kv;
mod rotate;
mod tls;

use std::time::{Duration, Instant};

use crate::lifecycle::Setup;
use crate::util::{TOKEN, text};

/// One finished run.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub took: Duration,
}

/// A machine: a [`Setup`] (influxctl's config with profiles `prod` and `stage`, the stand-in
/// influxctl on PATH) whose profiles `prod` and `stage` live in the vault store at `addrs`.
pub struct Machine {
    pub s: Setup,
    /// Server tokens and other secrets that must never be printed.
    pub secrets: Vec<String>,
    /// `BAO_TOKEN` for every run, when set.
    pub token: Option<String>,
}

/// Our settings for a vault store at `addrs`, with `vault` added inside `[vault]` and `top`
/// outside; `vault_timeout` is 2 s unless `vault` sets it.
pub fn settings(addrs: &[String], top: &str, vault: &str) -> String {
    let list: Vec<String> = addrs.iter().map(|a| format!("{a:?}")).collect();
    let timeout = if vault.contains("vault_timeout") { "" } else { "vault_timeout = \"2s\"\n" };
    format!(
        "{top}\n[vault]\naddrs = [{}]\n{timeout}{vault}\n\
         [profiles.prod]\nstore = \"vault\"\n[profiles.stage]\nstore = \"vault\"\n",
        list.join(", ")
    )
}

impl Machine {
    /// A machine using `addr` with token `token`.
    pub fn new(addr: &str, token: &str) -> Machine {
        Machine::with(&[addr.to_owned()], Some(token), "", "")
    }

    pub fn with(addrs: &[String], token: Option<&str>, top: &str, vault: &str) -> Machine {
        let s = Setup::with_settings(&settings(addrs, top, vault));
        let mut secrets = vec![TOKEN.to_owned()];
        secrets.extend(token.map(str::to_owned));
        Machine { s, secrets, token: token.map(str::to_owned) }
    }

    /// A file in this machine's home, 0600 (secret_id, jwt).
    pub fn secret_file(&self, name: &str, text: &str) -> std::path::PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let p = self.s.env.path().join(name);
        std::fs::write(&p, text).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        p
    }

    pub fn cmd(&self, env: &[(&str, &str)]) -> assert_cmd::Command {
        let mut c = self.s.cmd(env);
        if let Some(t) = &self.token {
            c.env("BAO_TOKEN", t);
        }
        c
    }

    /// The same as [`Machine::cmd`] as a `std::process::Command`, for runs started together.
    pub fn std_cmd(&self, env: &[(&str, &str)]) -> std::process::Command {
        let p = self.s.env.path();
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_influxctl-cred"));
        c.env_clear()
            .env("PATH", self.s.path_var())
            .env("HOME", p.join("home"))
            .env("XDG_CONFIG_HOME", p.join("xdg-config"))
            .env("XDG_DATA_HOME", p.join("xdg-data"))
            .env("XDG_CACHE_HOME", p.join("xdg-cache"))
            .env("XDG_RUNTIME_DIR", self.s.run_dir())
            .env("INFLUXCTL_CRED_HOME", self.s.env.cred_home())
            .env("CI", "true")
            .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/influxctl-cred-test-bus")
            .env("INFLUXCTL_CRED_SCRYPT_LOG_N", "10")
            .env("FAKE_INFLUXCTL_STATE", self.s.state_path())
            .envs(env.iter().copied());
        if let Some(t) = &self.token {
            c.env("BAO_TOKEN", t);
        }
        c
    }

    /// Runs `influxctl-cred ARGS` with `stdin`; fails the test when stderr holds a secret, or
    /// stdout does and this is neither `get` nor `helper`.
    pub fn run_in(&self, args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Run {
        let mut c = self.cmd(env);
        c.args(args).write_stdin(stdin.unwrap_or_default());
        let start = Instant::now();
        let out = c.output().unwrap();
        let run = Run {
            code: out.status.code().unwrap_or(-1),
            stdout: text(&out.stdout),
            stderr: text(&out.stderr),
            took: start.elapsed(),
        };
        self.assert_clean(&run.stderr);
        // `get` and the helper print the token on stdout by design.
        if !matches!(args.first(), Some(&"get" | &"helper")) {
            self.assert_clean(&run.stdout);
        }
        run
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.run_in(args, None, &[])
    }

    /// `store -p PROFILE` of `token` on stdin (one line), with `flags`.
    pub fn store(&self, profile: &str, token: &str, flags: &[&str]) -> Run {
        let mut args = vec!["store", "-p", profile];
        args.extend_from_slice(flags);
        self.run_in(&args, Some(&format!("{token}\n")), &[])
    }

    /// `get -p PROFILE`: the token, or the failed run.
    pub fn get(&self, profile: &str) -> Result<String, Run> {
        let r = self.run(&["get", "-p", profile]);
        if r.code == 0 { Ok(r.stdout.trim().to_owned()) } else { Err(r) }
    }

    /// No secret of this machine (nor any token the stand-in issued) in `printed`.
    pub fn assert_clean(&self, printed: &str) {
        for s in &self.secrets {
            assert!(!printed.contains(s.as_str()), "a secret was printed: {printed}");
        }
        assert!(!printed.contains("M.V1."), "a token-like string was printed: {printed}");
        self.s.assert_no_token_in(printed);
    }
}

/// The entry JSON the vault store keeps for `profile` (`data.data` of `bao kv get`).
pub fn stored_entry(bao: &crate::openbao::Bao, profile: &str) -> Option<serde_json::Value> {
    let got = bao.kv_get(&format!("influxctl-cred/{profile}"))?;
    Some(got["data"]["data"].clone())
}
