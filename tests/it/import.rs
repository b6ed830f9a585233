//! `import`, `doctor`'s influxctl checks and `shell-init`, against a real file store and the
//! stand-in influxctl: tokens move out of config.toml with every comment and inline table
//! kept, nothing changes on a dry run, a broken or conflicting config is left byte-identical.

#[cfg(unix)]
use crate::fake_influxctl::{path_dir, path_with, report, sha256};
use crate::util::{TestEnv, text};

const A: &str = "M.V1.test-import-a-0123456789";
const B: &str = "M.V1.test-import-b-0123456789";

fn config() -> String {
    format!(
        r#"# influxctl profiles — edited by hand
[[profile]]
  name = "default"   # the usual one
  product = "dedicated"
  account_id = "acc-1"
  cluster_id = "clu-1"
  # pasted from the console
  mgmt_token = "{A}" # expires in May
  tls = {{ insecure = false, ca = "" }}

[[profile]]
  name = "onprem"
  product = "clustered"
  host = "influx.example.com"
  port = "8443"
  mgmt_token = '{B}'

  [profile.auth.oauth2]
    client_id = "abc"
    parameters = {{ audience = "x" }}
"#
    )
}

fn without_tokens() -> String {
    r#"# influxctl profiles — edited by hand
[[profile]]
  name = "default"   # the usual one
  product = "dedicated"
  account_id = "acc-1"
  cluster_id = "clu-1"
  # pasted from the console
  # expires in May
  tls = { insecure = false, ca = "" }

[[profile]]
  name = "onprem"
  product = "clustered"
  host = "influx.example.com"
  port = "8443"

  [profile.auth.oauth2]
    client_id = "abc"
    parameters = { audience = "x" }
"#
    .to_owned()
}

fn import(env: &TestEnv, args: &[&str]) -> std::process::Output {
    env.cmd().args(["--store", "file", "import"]).args(args).output().unwrap()
}

fn get(env: &TestEnv, profile: &str) -> (i32, String) {
    let out = env.cmd().args(["get", "-p", profile]).output().unwrap();
    (out.status.code().unwrap(), text(&out.stdout).trim().to_owned())
}

#[test]
fn import_all_moves_tokens_keeping_comments_and_inline_tables() {
    let env = TestEnv::new();
    let path = env.write_influxctl_config(&config());
    let out = import(&env, &["--all"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), without_tokens());
    assert_eq!(get(&env, "default"), (0, A.to_owned()));
    assert_eq!(get(&env, "onprem"), (0, B.to_owned()));
    assert!(!text(&out.stderr).contains(A) && !text(&out.stderr).contains(B));
    assert!(env.files_containing(A).is_empty(), "{:?}", env.files_containing(A));
    // The stored entry is bound to the profile's cluster.
    let out = env.cmd().args(["get", "-p", "onprem", "--format", "json"]).output().unwrap();
    let entry: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(entry["cluster"]["host"], "influx.example.com");
    assert_eq!(entry["origin"], "imported");
    // Nothing left to import.
    let out = import(&env, &["--all"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), without_tokens());
}

#[test]
fn import_selected_profile_only() {
    let env = TestEnv::new();
    let path = env.write_influxctl_config(&config());
    let out = import(&env, &["-p", "onprem"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let now = std::fs::read_to_string(&path).unwrap();
    assert!(now.contains(A) && !now.contains(B), "{now}");
    assert_eq!(get(&env, "onprem"), (0, B.to_owned()));
    assert_ne!(get(&env, "default").0, 0);
    let out = import(&env, &["-p", "nope"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn import_dry_run_changes_nothing() {
    let env = TestEnv::new();
    let path = env.write_influxctl_config(&config());
    let before = std::fs::read(&path).unwrap();
    let out = import(&env, &["--all", "--dry-run"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("would move"), "{}", text(&out.stderr));
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert_ne!(get(&env, "default").0, 0, "nothing stored");
}

#[test]
fn import_keep_plaintext_stores_and_leaves_config() {
    let env = TestEnv::new();
    let path = env.write_influxctl_config(&config());
    let before = std::fs::read(&path).unwrap();
    let out = import(&env, &["--all", "--keep-plaintext"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert_eq!(get(&env, "default"), (0, A.to_owned()));
}

#[test]
fn import_broken_toml_is_refused_untouched() {
    let env = TestEnv::new();
    let broken = config().replace("port = \"8443\"", "port = \"8443");
    let path = env.write_influxctl_config(&broken);
    let out = import(&env, &["--all"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("line 15"), "{}", text(&out.stderr));
    assert!(!text(&out.stderr).contains(B));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), broken);
}

#[test]
fn import_refuses_a_different_stored_token_untouched() {
    let env = TestEnv::new();
    let path = env.write_influxctl_config(&config());
    let out = env
        .cmd()
        .args(["--store", "file", "store", "-p", "onprem"])
        .write_stdin("M.V1.test-already-there")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = import(&env, &["--all"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), config());
    assert_eq!(get(&env, "onprem"), (0, "M.V1.test-already-there".to_owned()));
    assert_ne!(get(&env, "default").0, 0, "nothing of a refused import is stored");
}

#[cfg(unix)]
#[test]
fn doctor_reports_plaintext_bindings_and_influxctl_version() {
    let env = TestEnv::new();
    env.write_influxctl_config(&config());
    let bin = path_dir(env.path());
    let out = env.cmd().env("PATH", path_with(&bin)).args(["doctor"]).output().unwrap();
    let report = text(&out.stdout);
    assert!(report.contains("plaintext token default"), "{report}");
    assert!(report.contains("plaintext token onprem"), "{report}");
    assert!(report.contains("influxctl 2.12.0"), "{report}");
    assert!(!report.contains(A) && !text(&out.stderr).contains(A));
    // Move the tokens, then point onprem at another host: its binding no longer matches.
    assert_eq!(import(&env, &["--all"]).status.code(), Some(0));
    env.write_influxctl_config(
        &without_tokens().replace("influx.example.com", "other.example.com"),
    );
    let out = env.cmd().env("PATH", path_with(&bin)).args(["doctor"]).output().unwrap();
    let report = text(&out.stdout);
    assert!(report.contains("ok    plaintext tokens: none"), "{report}");
    assert!(report.contains("fail  binding onprem (file)"), "{report}");
    assert!(report.contains("ok    binding default (file)"), "{report}");
    assert_eq!(out.status.code(), Some(1));
    let out = env.cmd().env("PATH", "/nonexistent").args(["doctor"]).output().unwrap();
    assert!(text(&out.stdout).contains("influxctl: not found on PATH"), "{}", text(&out.stdout));
}

#[cfg(unix)]
#[test]
fn shell_init_function_runs_influxctl_through_exec() {
    let env = TestEnv::new();
    env.write_influxctl_config(&config());
    let bin = path_dir(env.path());
    let rep = env.path().join("report.json");
    let out = env.cmd().args(["shell-init", "bash"]).output().unwrap();
    let init = text(&out.stdout);
    assert!(init.contains("influxctl()"), "{init}");
    let bash = std::process::Command::new("bash")
        .args(["-c", "eval \"$INIT\" && influxctl database list"])
        .env_clear()
        .env("PATH", path_with(&bin))
        .env("HOME", env.path().join("home"))
        .env("XDG_CONFIG_HOME", env.path().join("xdg-config"))
        .env("XDG_RUNTIME_DIR", env.path())
        .env("INFLUXCTL_CRED_HOME", env.cred_home())
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/influxctl-cred-test-bus")
        .env("FAKE_INFLUXCTL_REPORT", &rep)
        .env("INFLUXCTL_CRED_TOKEN_DEFAULT", "M.V1.test-from-env")
        .env("INIT", &init)
        .output()
        .unwrap();
    assert_eq!(bash.status.code(), Some(0), "{}", text(&bash.stderr));
    let r = report(&rep).unwrap();
    assert_eq!(r["mgmt_token_sha256"], sha256("M.V1.test-from-env"), "the stored token, not A");
    // The derived config: the default injection (a sealed memfd on Linux, else a file).
    let derived = r["config_path"].as_str().unwrap();
    assert!(
        derived.starts_with("/dev/fd/") || derived.contains("influxctl-cred/exec-"),
        "{derived}"
    );
}
