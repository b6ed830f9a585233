//! A locked keyring on the real gnome-keyring, with no settings forcing the store (issue 10,
//! docs/spec.md §3): `get` is `store-unavailable` (5), never `not-found` (3), when the user named the
//! keyring or it is the profile's store; `erase` fails (5) and says what it did not erase;
//! `store` never leaves a second, stale copy in the file store.
//!
//! Locking the default collection would disturb every other test of a shared session, so each
//! test here starts its own [`PrivateKeyring`]: a `dbus-daemon` with a minimal session
//! configuration (no service activation, so nothing else can claim the Secret Service name) and
//! a `gnome-keyring-daemon --foreground --unlock` fed a throwaway password on stdin, both
//! children of the test and killed by process id when it ends. The collection is locked over
//! D-Bus (`org.freedesktop.Secret.Service.Lock`). gnome-keyring offers no prompt-less unlock
//! over D-Bus (`Unlock` needs a prompter, and `gnome-keyring-daemon --unlock` against a running
//! daemon starts a second one instead), so "unlock" restarts the daemon on the same keyring
//! files with the same password, which is what a log-in does.
//!
//! Needs `dbus-daemon`, `dbus-send` and `gnome-keyring-daemon` (scripts/install-test-deps).
//! `#[ignore]`d like the other Secret Service tests; run with
//! `scripts/with-keyring cargo test --test it keyring -- --include-ignored` (these tests do not
//! use that session's keyring, only its tools).

#![cfg(target_os = "linux")]

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use crate::util::{TOKEN, TestEnv, text};

/// A second token, to tell a replaced entry from the original.
const NEW_TOKEN: &str = "M.V1.test-replacement-000000000000";

const SECRETS: &str = "org.freedesktop.secrets";
const DEFAULT: &str = "/org/freedesktop/secrets/aliases/default";

const BUS_CONFIG: &str = r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir=DIR</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#;

/// A private session bus with its own gnome-keyring; both die with this value.
struct PrivateKeyring {
    dir: tempfile::TempDir,
    address: String,
    bus: Child,
    daemon: Option<Child>,
    password: String,
}

impl PrivateKeyring {
    fn start() -> PrivateKeyring {
        let dir = tempfile::Builder::new().prefix("icred-kr-").tempdir().expect("temp dir");
        for sub in ["home", "data", "config", "cache", "runtime", "bus"] {
            std::fs::create_dir_all(dir.path().join(sub)).expect("mkdir");
        }
        let config = dir.path().join("bus.conf");
        let listen = dir.path().join("bus");
        std::fs::write(&config, BUS_CONFIG.replace("DIR", listen.to_str().expect("UTF-8 path")))
            .expect("write bus config");
        let mut bus = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", config.display()))
            .args(["--nofork", "--print-address=1"])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon runs (apt-get install dbus)");
        let mut address = String::new();
        let stdout = bus.stdout.take().expect("bus stdout");
        BufReader::new(stdout).read_line(&mut address).expect("bus address");
        let address = address.trim().to_owned();
        assert!(address.starts_with("unix:"), "dbus-daemon printed {address:?}");
        // A throwaway password for a keyring that lives as long as this test.
        let tag = dir.path().file_name().and_then(|n| n.to_str()).unwrap_or("x").to_owned();
        let password = format!("throwaway-{tag}");
        let mut kr = PrivateKeyring { dir, address, bus, daemon: None, password };
        kr.start_daemon();
        kr
    }

    fn path(&self, sub: &str) -> PathBuf {
        self.dir.path().join(sub)
    }

    /// gnome-keyring-daemon in the foreground (our child), unlocking (or creating) the login
    /// keyring with the password; returns once it owns the Secret Service name.
    fn start_daemon(&mut self) {
        assert!(self.daemon.is_none());
        let mut daemon = Command::new("gnome-keyring-daemon")
            .args(["--foreground", "--unlock", "--components=secrets"])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.path("home"))
            .env("XDG_DATA_HOME", self.path("data"))
            .env("XDG_CONFIG_HOME", self.path("config"))
            .env("XDG_CACHE_HOME", self.path("cache"))
            .env("XDG_RUNTIME_DIR", self.path("runtime"))
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("gnome-keyring-daemon runs (apt-get install gnome-keyring)");
        let mut stdin = daemon.stdin.take().expect("daemon stdin");
        stdin.write_all(self.password.as_bytes()).expect("password to the daemon");
        drop(stdin);
        self.daemon = Some(daemon);
        self.wait_for_owner(true);
    }

    fn stop_daemon(&mut self) {
        if let Some(mut daemon) = self.daemon.take() {
            let _ = daemon.kill();
            let _ = daemon.wait();
            self.wait_for_owner(false);
        }
    }

    /// `dbus-send` on this bus; its standard output.
    fn send(&self, args: &[&str]) -> String {
        let out = Command::new("dbus-send")
            .args(["--print-reply", &format!("--bus={}", self.address)])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("dbus-send runs");
        assert!(out.status.success(), "dbus-send {args:?}: {}", text(&out.stderr));
        text(&out.stdout)
    }

    /// Polls (bounded) until the Secret Service name is owned, or no longer owned.
    fn wait_for_owner(&self, owned: bool) {
        let want = if owned { "boolean true" } else { "boolean false" };
        for _ in 0..400 {
            let reply = self.send(&[
                "--dest=org.freedesktop.DBus",
                "/",
                "org.freedesktop.DBus.NameHasOwner",
                &format!("string:{SECRETS}"),
            ]);
            if reply.contains(want) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(25));
        }
        panic!("the Secret Service name never became owned={owned}");
    }

    fn lock(&self) {
        self.send(&[
            &format!("--dest={SECRETS}"),
            "/org/freedesktop/secrets",
            "org.freedesktop.Secret.Service.Lock",
            &format!("array:objpath:{DEFAULT}"),
        ]);
        assert!(self.is_locked(), "the default collection did not lock");
    }

    /// Unlocks without a prompt: a new daemon on the same keyring files and password.
    fn unlock(&mut self) {
        self.stop_daemon();
        self.start_daemon();
        assert!(!self.is_locked(), "the default collection is still locked");
    }

    fn is_locked(&self) -> bool {
        let reply = self.send(&[
            &format!("--dest={SECRETS}"),
            DEFAULT,
            "org.freedesktop.DBus.Properties.Get",
            "string:org.freedesktop.Secret.Collection",
            "string:Locked",
        ]);
        reply.contains("boolean true")
    }

    /// The binary under test in `env`, talking to this keyring.
    fn cmd(&self, env: &TestEnv) -> assert_cmd::Command {
        let mut c = env.cmd();
        c.env("DBUS_SESSION_BUS_ADDRESS", &self.address);
        c
    }
}

impl Drop for PrivateKeyring {
    fn drop(&mut self) {
        if let Some(mut daemon) = self.daemon.take() {
            let _ = daemon.kill();
            let _ = daemon.wait();
        }
        let _ = self.bus.kill();
        let _ = self.bus.wait();
    }
}

/// Asserts the exit code, with stderr in the message, and that the token never leaked.
fn assert_exit(env: &TestEnv, out: &std::process::Output, code: i32) -> String {
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "stderr: {err}");
    assert!(!err.contains("internal error"), "{err}");
    assert!(!err.contains(TOKEN) && !err.contains(NEW_TOKEN), "token on stderr: {err}");
    for t in [TOKEN, NEW_TOKEN] {
        assert!(env.files_containing(t).is_empty(), "token on disk: {:?}", env.files_containing(t));
    }
    err
}

/// Stores TOKEN for `profile` with no `--store` and no settings: the usable keyring takes it.
fn store_in_keyring(kr: &PrivateKeyring, env: &TestEnv, profile: &str) {
    let out = kr.cmd(env).args(["store", "-p", profile]).write_stdin(TOKEN).output().unwrap();
    let err = assert_exit(env, &out, 0);
    assert!(err.contains("in the keyring store"), "{err}");
    assert!(!env.cred_home().join("config.toml").exists(), "no settings in these tests");
}

fn file_entry(env: &TestEnv, profile: &str) -> PathBuf {
    env.store_dir().join(format!("{profile}.age"))
}

/// The rows of `list --format json` for `profile`.
fn rows(kr: &PrivateKeyring, env: &TestEnv, profile: &str) -> Vec<serde_json::Value> {
    let out = kr.cmd(env).args(["list", "--format", "json"]).output().unwrap();
    assert_exit(env, &out, 0);
    let all: serde_json::Value = serde_json::from_slice(&out.stdout).expect("list JSON");
    all.as_array().expect("an array").iter().filter(|r| r["profile"] == profile).cloned().collect()
}

fn get(kr: &PrivateKeyring, env: &TestEnv, args: &[&str]) -> std::process::Output {
    kr.cmd(env).arg("get").args(args).output().unwrap()
}

#[test]
#[ignore = "needs gnome-keyring and dbus-daemon (run under scripts/with-keyring)"]
fn erase_locked_keyring_fails_and_keeps_entry() {
    let mut kr = PrivateKeyring::start();
    let env = TestEnv::new();
    store_in_keyring(&kr, &env, "prod");
    kr.lock();
    for args in [&["erase", "-p", "prod"][..], &["erase", "-p", "prod", "--store", "keyring"]] {
        let out = kr.cmd(&env).args(args).output().unwrap();
        let err = assert_exit(&env, &out, 5);
        assert!(err.contains("store-unavailable"), "{args:?}: {err}");
        assert!(err.contains("locked"), "{args:?}: {err}");
        assert!(!err.contains("erased profile"), "{args:?}: {err}");
        if args.len() == 3 {
            assert!(err.contains("NOT from the keyring store; it is still there"), "{err}");
        }
        assert!(text(&out.stdout).is_empty(), "{args:?}: {}", text(&out.stdout));
    }
    assert_eq!(rows(&kr, &env, "prod").len(), 1, "still listed");
    kr.unlock();
    let out = get(&kr, &env, &["-p", "prod"]);
    assert_exit(&env, &out, 0);
    assert_eq!(text(&out.stdout), format!("{TOKEN}\n"), "the entry is back after unlock");
    // Unlocked, the erase goes through.
    let out = kr.cmd(&env).args(["erase", "-p", "prod"]).output().unwrap();
    assert_exit(&env, &out, 0);
    assert_exit(&env, &get(&kr, &env, &["-p", "prod"]), 3);
}

#[test]
#[ignore = "needs gnome-keyring and dbus-daemon (run under scripts/with-keyring)"]
fn get_store_keyring_locked_is_store_unavailable() {
    let kr = PrivateKeyring::start();
    let env = TestEnv::new();
    store_in_keyring(&kr, &env, "prod");
    kr.lock();
    // Named by the user: held there or not, the answer is "cannot search it", never "absent".
    for profile in ["prod", "never-stored"] {
        let out = get(&kr, &env, &["-p", profile, "--store", "keyring"]);
        let err = assert_exit(&env, &out, 5);
        assert!(err.contains("kind: store-unavailable"), "{profile}: {err}");
        assert!(err.contains("hint: unlock your keyring"), "{profile}: {err}");
        assert!(text(&out.stdout).is_empty());
    }
    // A profile this tool never put in the keyring, not named: the locked keyring is skipped
    // and the answer is not-found, saying which store could not be searched.
    let out = get(&kr, &env, &["-p", "never-stored"]);
    let err = assert_exit(&env, &out, 3);
    assert!(err.contains("keyring store could not be searched"), "{err}");
}

#[test]
#[ignore = "needs gnome-keyring and dbus-daemon (run under scripts/with-keyring)"]
fn get_profile_store_keyring_locked_is_store_unavailable() {
    let kr = PrivateKeyring::start();
    let env = TestEnv::new();
    // The profile's store is the keyring because its entry is there (no settings at all).
    store_in_keyring(&kr, &env, "prod");
    kr.lock();
    let out = get(&kr, &env, &["-p", "prod"]);
    let err = assert_exit(&env, &out, 5);
    assert!(err.contains("holds an entry of profile \"prod\""), "{err}");
    assert!(text(&out.stdout).is_empty());
    // The helper answers the same kind.
    let req = "{\"v\":1,\"id\":1,\"kind\":\"get\",\"profile\":\"prod\"}\n";
    let out = kr.cmd(&env).arg("helper").write_stdin(req).output().unwrap();
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one answer");
    assert_eq!(answer["error"]["kind"], "store-unavailable", "{answer}");
    // `exec` hands nothing out either, and says why (125: its own failure).
    let out = kr.cmd(&env).args(["exec", "-p", "prod", "--", "sh", "-c", "exit 0"]).output();
    let out = out.unwrap();
    let err = assert_exit(&env, &out, 125);
    assert!(err.contains("store-unavailable"), "{err}");
}

#[test]
#[ignore = "needs gnome-keyring and dbus-daemon (run under scripts/with-keyring)"]
fn get_configured_keyring_profile_locked_is_store_unavailable() {
    let kr = PrivateKeyring::start();
    let env = TestEnv::new();
    // The profile's configured store is the keyring (settings name it for that profile only),
    // and it holds nothing this tool knows of: still not "not found" while locked.
    std::fs::write(env.cred_home().join("config.toml"), "[profiles.prod]\nstore = \"keyring\"\n")
        .unwrap();
    kr.lock();
    let out = get(&kr, &env, &["-p", "prod"]);
    let err = assert_exit(&env, &out, 5);
    assert!(err.contains("kind: store-unavailable"), "{err}");
    // Another profile, keyring not its store: the locked keyring is skipped.
    assert_exit(&env, &get(&kr, &env, &["-p", "stage"]), 3);
}

#[test]
#[ignore = "needs gnome-keyring and dbus-daemon (run under scripts/with-keyring)"]
fn store_locked_keyring_leaves_no_second_copy_in_the_file_store() {
    let mut kr = PrivateKeyring::start();
    let env = TestEnv::new();
    store_in_keyring(&kr, &env, "prod");
    kr.lock();
    let out = kr.cmd(&env).args(["store", "-p", "prod"]).write_stdin(NEW_TOKEN).output().unwrap();
    let err = assert_exit(&env, &out, 5);
    assert!(err.contains("keyring"), "{err}");
    assert!(!file_entry(&env, "prod").exists(), "a second copy in the file store: {err}");
    let listed = rows(&kr, &env, "prod");
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["store"], "keyring");
    kr.unlock();
    let out = get(&kr, &env, &["-p", "prod"]);
    assert_exit(&env, &out, 0);
    assert_eq!(text(&out.stdout), format!("{TOKEN}\n"), "the refused store changed nothing");
    // A profile the keyring does not hold may go to the file store while it is locked, and
    // the store it went to is said.
    kr.lock();
    let out = kr.cmd(&env).args(["store", "-p", "fresh"]).write_stdin(NEW_TOKEN).output().unwrap();
    let err = assert_exit(&env, &out, 0);
    assert!(err.contains("in the file store"), "{err}");
    assert!(file_entry(&env, "fresh").exists());
    assert_eq!(rows(&kr, &env, "fresh").len(), 1);
}
