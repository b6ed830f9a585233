//! The token lifecycle against the stand-in influxctl's `management` commands (its server
//! state in a file): `create` ([`create`]), `rotate` and `erase --revoke` ([`rotate`]), expiry,
//! auto-rotation and `doctor` ([`expiry`]). Every test also checks that no token the stand-in
//! issued appears in anything we printed.

#![cfg(unix)]

mod answers;
mod audit;
mod create;
mod expiry;
mod ids;
mod rotate;

use std::path::PathBuf;

use serde_json::Value;

use crate::fake_influxctl::{path_dir, path_with};
use crate::util::{TestEnv, text};

pub const CONFIG: &str = r#"[[profile]]
  name = "prod"
  product = "dedicated"
  account_id = "acc-1"
  cluster_id = "clu-1"

[[profile]]
  name = "stage"
  product = "dedicated"
  account_id = "acc-1"
  cluster_id = "clu-2"
"#;

/// A test home with influxctl's config, the stand-in on `PATH` as `influxctl`, a server state
/// file, a private runtime dir, and our settings (`store = "file"` plus `extra`).
pub struct Setup {
    pub env: TestEnv,
}

/// The result of one run.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Setup {
    pub fn new() -> Setup {
        Setup::with_settings("")
    }

    pub fn with_settings(extra: &str) -> Setup {
        let env = TestEnv::new();
        env.write_influxctl_config(CONFIG);
        let run = env.path().join("run");
        std::fs::create_dir(&run).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&run, std::fs::Permissions::from_mode(0o700)).unwrap();
        let s = Setup { env };
        s.settings(extra);
        s
    }

    /// Rewrites our settings file.
    pub fn settings(&self, extra: &str) {
        std::fs::create_dir_all(self.env.cred_home()).unwrap();
        let text = format!("store = \"file\"\n{extra}\n");
        std::fs::write(self.env.cred_home().join("config.toml"), text).unwrap();
    }

    pub fn state_path(&self) -> PathBuf {
        self.env.path().join("server.json")
    }

    pub fn run_dir(&self) -> PathBuf {
        self.env.path().join("run")
    }

    pub fn path_var(&self) -> std::ffi::OsString {
        path_with(&path_dir(self.env.path()))
    }

    /// `influxctl-cred` with the stand-in on PATH; `env` adds variables (FAKE_INFLUXCTL_*).
    pub fn cmd(&self, env: &[(&str, &str)]) -> assert_cmd::Command {
        let mut c = self.env.cmd();
        c.env("PATH", self.path_var())
            .env("XDG_RUNTIME_DIR", self.run_dir())
            .env("FAKE_INFLUXCTL_STATE", self.state_path())
            .envs(env.iter().copied());
        c
    }

    /// Runs `influxctl-cred ARGS` and checks that no issued token was printed.
    pub fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let run = self.run_get(args, env);
        self.assert_no_token_in(&run.stdout);
        run
    }

    /// Runs a command whose stdout is a token (`get`): only stderr is checked.
    pub fn run_get(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let out = self.cmd(env).args(args).output().unwrap();
        let run = Run {
            code: out.status.code().unwrap_or(-1),
            stdout: text(&out.stdout),
            stderr: text(&out.stderr),
        };
        self.assert_no_token_in(&run.stderr);
        assert!(!run.stderr.contains("M.V1."), "a token-like string on stderr: {}", run.stderr);
        run
    }

    /// `create -p PROFILE --ttl TTL` with the OAuth switch on; the new token's id.
    pub fn create(&self, profile: &str, ttl: &str) -> String {
        let r =
            self.run(&["create", "-p", profile, "--ttl", ttl], &[("FAKE_INFLUXCTL_OAUTH", "1")]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let id = r.stdout.lines().find_map(|l| l.strip_prefix("token_id: ")).unwrap();
        id.to_owned()
    }

    /// The stand-in's server state.
    pub fn server(&self) -> Value {
        let text = std::fs::read_to_string(self.state_path()).unwrap_or_else(|_| "{}".into());
        serde_json::from_str(&text).unwrap()
    }

    /// The server's tokens.
    pub fn tokens(&self) -> Vec<Value> {
        self.server()["tokens"].as_array().cloned().unwrap_or_default()
    }

    /// The server's record of token `id`.
    pub fn token(&self, id: &str) -> Value {
        self.tokens().into_iter().find(|t| t["id"] == id).unwrap_or(Value::Null)
    }

    /// Whether the server would accept token `id` (listed, not revoked, not expired).
    pub fn works(&self, id: &str) -> bool {
        let t = self.token(id);
        let now = jiff::Timestamp::now().as_second();
        t.is_object()
            && t["revoked_at"].is_null()
            && t["expires_at"].as_i64().is_none_or(|e| e > now)
    }

    /// The calls the server saw for `sub`.
    pub fn calls(&self, sub: &str) -> Vec<Value> {
        let calls = self.server()["calls"].as_array().cloned().unwrap_or_default();
        calls.into_iter().filter(|c| c["sub"] == sub).collect()
    }

    /// The stored token of `profile` (`get`), or `None` with the exit code.
    pub fn stored(&self, profile: &str) -> Result<String, i32> {
        let out = self.cmd(&[]).args(["get", "-p", profile]).output().unwrap();
        match out.status.code() {
            Some(0) => Ok(text(&out.stdout).trim().to_owned()),
            code => Err(code.unwrap_or(-1)),
        }
    }

    /// The server's token string of `id`.
    pub fn secret_of(&self, id: &str) -> String {
        self.token(id)["token"].as_str().unwrap_or_default().to_owned()
    }

    /// The id of the token stored for `profile`, as the server knows it.
    pub fn stored_id(&self, profile: &str) -> Option<String> {
        let token = self.stored(profile).ok()?;
        let t = self.tokens().into_iter().find(|t| t["token"] == token.as_str())?;
        t["id"].as_str().map(str::to_owned)
    }

    /// No token the server ever issued appears in `printed`.
    pub fn assert_no_token_in(&self, printed: &str) {
        for t in self.tokens() {
            let token = t["token"].as_str().unwrap();
            assert!(!printed.contains(token), "a token was printed: {printed}");
        }
    }

    /// Per-run folders left in the runtime dir.
    pub fn leftovers(&self) -> Vec<PathBuf> {
        match std::fs::read_dir(self.run_dir().join("influxctl-cred")) {
            Ok(read) => read.flatten().map(|e| e.path()).collect(),
            Err(_) => Vec::new(),
        }
    }

    /// Stores `token` for `profile` with `store` (token on stdin) and extra flags. An
    /// `--expires-at` is recorded with `annotate` afterwards: `store` refuses a past one, and
    /// tests of expiry need expired entries.
    pub fn store(&self, profile: &str, token: &str, flags: &[&str]) {
        let at = flags.iter().position(|f| *f == "--expires-at");
        let mut rest = flags.to_vec();
        let expires = at.map(|i| rest.drain(i..i + 2).nth(1).unwrap());
        let mut c = self.cmd(&[]);
        c.args(["store", "-p", profile]).args(&rest).write_stdin(format!("{token}\n"));
        c.assert().success();
        if let Some(t) = expires {
            self.cmd(&[]).args(["annotate", "-p", profile, "--expires-at", t]).assert().success();
        }
    }
}

/// The derived config influxctl was given for a lifecycle call never touched a file system: on
/// Linux a sealed memfd (`/dev/fd/N` linking to `/memfd:…`), elsewhere a 0600 file in a 0700
/// folder.
pub fn assert_config_private(call: &Value) {
    if cfg!(target_os = "linux") {
        let link = call["config_link"].as_str().unwrap_or_default();
        assert!(link.starts_with("/memfd:"), "derived config not on a memfd: {call}");
    } else {
        assert_eq!(
            (call["config_mode"].as_u64(), call["dir_mode"].as_u64()),
            (Some(0o600), Some(0o700)),
            "{call}"
        );
    }
}
