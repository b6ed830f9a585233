//! The keyring store through the binary. Tests marked `#[ignore]` need a real Secret Service:
//! run them with `scripts/with-keyring cargo test --test it keyring -- --include-ignored`, which
//! starts a private D-Bus session with an unlocked gnome-keyring. The others run anywhere: they
//! prove that a missing or silent D-Bus session costs little and never hangs.

#![cfg(target_os = "linux")]

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{TOKEN, TestEnv, text};

/// The session bus of the test process (scripts/with-keyring's private one).
fn real_bus() -> String {
    std::env::var("DBUS_SESSION_BUS_ADDRESS")
        .expect("DBUS_SESSION_BUS_ADDRESS is unset: run under scripts/with-keyring")
}

/// A profile name no other test (or earlier run against the same keyring) uses.
fn unique(env: &TestEnv, name: &str) -> String {
    let tag = env.path().file_name().and_then(|n| n.to_str()).unwrap_or("x").to_owned();
    format!("{name}-{tag}")
}

/// The binary with the real session bus put back.
fn cmd(env: &TestEnv) -> assert_cmd::Command {
    let mut c = env.cmd();
    c.env("DBUS_SESSION_BUS_ADDRESS", real_bus());
    c
}

fn write_settings(env: &TestEnv, text: &str) {
    std::fs::write(env.cred_home().join("config.toml"), text).unwrap();
}

fn assert_no_token(env: &TestEnv, stderr: &[u8]) {
    assert!(!text(stderr).contains(TOKEN), "token on stderr: {}", text(stderr));
    assert!(
        env.files_containing(TOKEN).is_empty(),
        "token on disk: {:?}",
        env.files_containing(TOKEN)
    );
}

#[test]
#[ignore = "needs a Secret Service (run under scripts/with-keyring)"]
fn store_get_list_erase_with_keyring_round_trips() {
    let env = TestEnv::new();
    let p = unique(&env, "round");
    let out = cmd(&env)
        .args(["-v", "store", "-p", &p, "--store", "keyring"])
        .write_stdin(TOKEN)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("keyring"), "{}", text(&out.stderr));
    assert_no_token(&env, &out.stderr);

    let out = cmd(&env).args(["-v", "get", "-p", &p, "--store", "keyring"]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), format!("{TOKEN}\n"));
    assert_no_token(&env, &out.stderr);

    let out = cmd(&env).args(["list", "--format", "json"]).output().unwrap();
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let row = rows.as_array().unwrap().iter().find(|r| r["profile"] == p.as_str()).unwrap();
    assert_eq!(row["store"], "keyring");
    assert!(!text(&out.stdout).contains(TOKEN));

    let out = cmd(&env)
        .args(["store", "-p", &p, "--store", "keyring"])
        .write_stdin(TOKEN)
        .output()
        .unwrap();
    assert!(text(&out.stderr).contains("replaced"), "{}", text(&out.stderr));

    for existed in [true, false] {
        let out = cmd(&env).args(["-v", "erase", "-p", &p, "--store", "keyring"]).output().unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert_eq!(text(&out.stderr).contains("existed: false"), !existed, "{}", text(&out.stderr));
        assert_no_token(&env, &out.stderr);
    }
    let out = cmd(&env).args(["get", "-p", &p]).output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(
        !env.cred_home().join("store/keyring").read_dir().unwrap().any(|_| true),
        "index emptied"
    );
}

#[test]
#[ignore = "needs a Secret Service (run under scripts/with-keyring)"]
fn store_without_store_flag_writes_to_usable_keyring() {
    let env = TestEnv::new();
    let p = unique(&env, "default");
    let out = cmd(&env).args(["store", "-p", &p]).write_stdin(TOKEN).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("in the keyring store"), "{}", text(&out.stderr));
    assert!(env.cred_home().join("store/keyring").join(format!("{p}.meta.json")).is_file());
    assert_no_token(&env, &out.stderr);
    let out = cmd(&env).args(["erase", "-p", &p, "--store", "keyring"]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
#[ignore = "needs a Secret Service (run under scripts/with-keyring)"]
fn get_corrupt_keyring_secret_is_typed_error_without_content() {
    use keyring_core::CredentialStore;
    let env = TestEnv::new();
    let p = unique(&env, "corrupt");
    write_settings(&env, "store = \"keyring\"\n");
    // Another program wrote something that is not our entry under our service name.
    let garbage = b"{\"token\":\"M.V1.test-garbage-not-json";
    let ss: std::sync::Arc<CredentialStore> =
        zbus_secret_service_keyring_store::Store::new().unwrap();
    let item = ss.build("influxctl-cred", &p, None).unwrap();
    item.set_secret(garbage).unwrap();

    let out = cmd(&env).args(["-v", "get", "-p", &p]).output().unwrap();
    let _ = item.delete_credential();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("corrupt"), "{}", text(&out.stderr));
    assert!(!text(&out.stderr).contains("garbage"), "{}", text(&out.stderr));
}

/// Runs `script` with bash inside a fresh with-keyring session of its own (so that locking its
/// keyring cannot disturb the other tests), with `$BIN` the binary under test and TOKEN on stdin.
fn in_own_keyring(env: &TestEnv, script: &str) -> std::process::Output {
    let with_keyring = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/with-keyring");
    let mut child = Command::new(with_keyring)
        .args(["bash", "-c", script])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("BIN", assert_cmd::cargo::cargo_bin("influxctl-cred"))
        .env("INFLUXCTL_CRED_HOME", env.cred_home())
        .env("CI", "true")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(TOKEN.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
#[ignore = "needs a Secret Service (run under scripts/with-keyring)"]
fn get_from_locked_keyring_exits_5_within_the_timeout() {
    let env = TestEnv::new();
    write_settings(&env, "store = \"keyring\"\nkeyring_timeout = \"2s\"\n");
    let out = in_own_keyring(
        &env,
        r#"set -u
        IFS= read -r token || [ -n "$token" ] || exit 89
        printf %s "$token" | "$BIN" store -p prod || exit 90
        dbus-send --session --print-reply --dest=org.freedesktop.secrets /org/freedesktop/secrets \
            org.freedesktop.Secret.Service.Lock array:objpath:/org/freedesktop/secrets/aliases/default \
            >/dev/null || exit 91
        for verb in get store erase; do
            start=$(date +%s%N)
            printf %s "$token" | "$BIN" -v "$verb" -p prod
            rc=$?
            echo "RESULT $verb rc=$rc ms=$(( ($(date +%s%N) - start) / 1000000 ))" >&2
        done"#,
    );
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    for verb in ["get", "store", "erase"] {
        let line = err.lines().find(|l| l.starts_with(&format!("RESULT {verb} "))).expect(&err);
        assert!(line.contains("rc=5"), "{verb}: {line}\n{err}");
        let ms: u64 = line.rsplit("ms=").next().unwrap().parse().unwrap();
        assert!(ms < 2_000, "{verb} took {ms}ms, the timeout is 2s\n{err}");
    }
    assert!(err.contains("locked") && err.contains("hint: unlock your keyring"), "{err}");
    assert!(!err.contains(TOKEN));
    assert!(env.files_containing(TOKEN).is_empty());
}

#[test]
fn get_keyring_without_dbus_exits_5_fast_with_hint() {
    let env = TestEnv::new();
    write_settings(&env, "store = \"keyring\"\n");
    let start = Instant::now();
    let out = env.cmd().args(["-v", "get", "-p", "prod", "--store", "keyring"]).output().unwrap();
    let took = start.elapsed();
    assert_eq!(out.status.code(), Some(5), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("the keyring store is unavailable"),
        "{}",
        text(&out.stderr)
    );
    assert!(text(&out.stderr).contains("hint:"), "{}", text(&out.stderr));
    assert!(took < Duration::from_secs(1), "took {took:?}");
}

#[test]
fn get_with_silent_bus_times_out_and_exits() {
    let env = TestEnv::new();
    write_settings(&env, "store = \"keyring\"\nkeyring_timeout = \"1s\"\n");
    // A socket that accepts connections but never says a word: D-Bus authentication waits.
    let sock = env.path().join("silent-bus");
    let _listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    let start = Instant::now();
    let out = env
        .cmd()
        .env("DBUS_SESSION_BUS_ADDRESS", format!("unix:path={}", sock.display()))
        .args(["get", "-p", "prod"])
        .timeout(Duration::from_secs(20))
        .output()
        .unwrap();
    let took = start.elapsed();
    assert_eq!(out.status.code(), Some(5), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("did not answer within 1s"), "{}", text(&out.stderr));
    assert!(took < Duration::from_secs(4), "took {took:?}");
}

#[test]
fn store_without_dbus_falls_back_to_file_store() {
    let env = TestEnv::new();
    let out = env.cmd().args(["store", "-p", "prod"]).write_stdin(TOKEN).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("in the file store"), "{}", text(&out.stderr));
    assert_no_token(&env, &out.stderr);
}

#[test]
#[ignore = "needs a Secret Service (run under scripts/with-keyring)"]
fn exec_from_the_keyring_forwards_sigterm_while_dbus_threads_run() {
    // The keyring store starts D-Bus threads (with nothing blocked) before the child exists;
    // exec blocks the signals in its own thread only, so a SIGTERM sent to the process may
    // land on one of them (the relay to the waiting thread; the unit tests of spawn::signals
    // force that case). Either way it must reach the child (128+15), and never end us before
    // the cleanup.
    let env = TestEnv::new();
    let p = unique(&env, "sigterm");
    env.write_influxctl_config(&format!(
        "[[profile]]\n  name = \"{p}\"\n  product = \"dedicated\"\n  account_id = \"a\"\n  cluster_id = \"c\"\n"
    ));
    let out = cmd(&env).args(["store", "-p", &p, "--store", "keyring"]).write_stdin(TOKEN).output();
    let out = out.unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let run = tempfile::Builder::new().prefix("icred-run-").tempdir_in("/dev/shm").unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(run.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    let ready = env.path().join("ready");
    let fake = crate::fake_influxctl::binary();
    let helper = Command::new(env!("CARGO_BIN_EXE_influxctl-cred"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", env.path().join("home"))
        .env("XDG_CONFIG_HOME", env.path().join("xdg-config"))
        .env("XDG_RUNTIME_DIR", run.path())
        .env("INFLUXCTL_CRED_HOME", env.cred_home())
        .env("CI", "true")
        .env("DBUS_SESSION_BUS_ADDRESS", real_bus())
        .env("FAKE_INFLUXCTL_SLEEP_MS", "20000")
        .env("FAKE_INFLUXCTL_READY", &ready)
        .env("FAKE_INFLUXCTL_REPORT", env.path().join("report.json"))
        .args(["exec", "--store", "keyring", "-p", &p, "--inject", "file", "--"])
        .arg(&fake)
        .args(["database", "list"])
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ready.exists() {
        assert!(Instant::now() < deadline, "the stand-in never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    let folders = || std::fs::read_dir(run.path().join("influxctl-cred")).unwrap().count();
    assert_eq!(folders(), 1, "the derived config exists while the child runs");
    let pid = nix::unistd::Pid::from_raw(helper.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    let out = helper.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(128 + 15), "{:?}: {}", out.status, text(&out.stderr));
    assert_eq!(folders(), 0, "the derived config was left behind");
    assert_no_token(&env, &out.stderr);
}
