//! `setup` (issue #14 item 1, docs/spec.md §5) through the real binary: on a fresh home with a
//! plaintext influxctl config it creates the identity, moves the tokens only when told, says
//! which store and why, prints the shell-init line; a second run changes nothing. No token in
//! anything printed; files private.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::Value;

use crate::util::{TOKEN, TestEnv, text};

const CONFIG: &str = "# my clusters\n[[profile]]\n  name = \"prod\"\n  product = \"dedicated\"\n  account_id = \"acc-1\"\n  cluster_id = \"clu-1\"\n  mgmt_token = \"M.V1.test-0123456789abcdefTOKEN\"\n\n[[profile]]\n  name = \"dev\"\n  product = \"clustered\"\n  host = \"h.example\"\n";

struct Out {
    code: i32,
    json: Value,
    stderr: String,
}

fn setup(env: &TestEnv, args: &[&str]) -> Out {
    let out = env
        .cmd()
        .arg("setup")
        .args(args)
        .args(["--format", "json"])
        .env("SHELL", "/usr/bin/zsh")
        // No influxctl to ask for ids: the lookup fails, as it may, and must not matter.
        .env("INFLUXCTL_CRED_INFLUXCTL", env.path().join("no-influxctl"))
        .output()
        .unwrap();
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    for printed in [&stdout, &stderr] {
        assert!(!printed.contains(TOKEN), "the token was printed: {printed}");
    }
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    let json = serde_json::from_str(&stdout).expect("one JSON object");
    Out { code: out.status.code().unwrap_or(-1), json, stderr }
}

/// Every file under the home with its bytes (the lock file aside: it is empty by design).
fn files(env: &TestEnv) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![env.path().to_owned()];
    while let Some(dir) = stack.pop() {
        for item in std::fs::read_dir(&dir).unwrap().flatten() {
            let p = item.path();
            if item.file_type().unwrap().is_dir() {
                stack.push(p);
            } else if p.file_name().is_some_and(|n| n != ".lock") {
                out.insert(p.clone(), std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

#[cfg(unix)]
fn mode(p: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn setup_twice_on_a_fresh_home_moves_the_token_once_then_changes_nothing() {
    let env = TestEnv::new();
    let config = env.write_influxctl_config(CONFIG);
    // Without a terminal and without --import: only the identity is made; the token stays.
    let first = setup(&env, &[]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert_eq!(first.json["changed"], serde_json::json!(["identity"]));
    assert_eq!(first.json["store"]["name"], "file");
    assert_eq!(first.json["store"]["keyring"]["usable"], false);
    assert_eq!(first.json["import"]["pending"], serde_json::json!(["prod"]));
    assert_eq!(std::fs::read_to_string(&config).unwrap(), CONFIG);
    let profiles = first.json["influxctl_config"]["profiles"].as_array().unwrap().clone();
    assert_eq!(profiles[0]["name"], "prod");
    assert_eq!(
        (profiles[0]["plaintext_token"].as_bool(), profiles[1]["plaintext_token"].as_bool()),
        (Some(true), Some(false))
    );
    let identity = env.cred_home().join("identity.txt");
    assert_eq!(first.json["identity"]["path"].as_str(), identity.to_str());
    let public = first.json["identity"]["public_keys"][0].as_str().unwrap().to_owned();
    assert!(public.starts_with("age1"), "{public}");
    assert!(
        first.stderr.contains(&public) && first.stderr.contains("keyring does not answer"),
        "{}",
        first.stderr
    );
    assert!(first.stderr.contains("eval \"$(influxctl-cred shell-init zsh)\""), "{}", first.stderr);
    assert_eq!(first.json["shell"]["name"], "zsh");

    let moved = setup(&env, &["--import"]);
    assert_eq!(moved.code, 0, "{}", moved.stderr);
    assert_eq!(moved.json["changed"], serde_json::json!(["import"]));
    let report = &moved.json["import"]["report"];
    assert_eq!(report["config_rewritten"], true);
    let prod =
        report["profiles"].as_array().unwrap().iter().find(|p| p["profile"] == "prod").unwrap();
    assert_eq!((prod["action"].as_str(), prod["store"].as_str()), (Some("moved"), Some("file")));
    assert_eq!(prod["token_id_lookup"], "failed");
    let now = std::fs::read_to_string(&config).unwrap();
    assert!(!now.contains("mgmt_token") && now.starts_with("# my clusters\n"), "{now}");
    let got = env.cmd().args(["get", "-p", "prod"]).output().unwrap();
    assert_eq!(text(&got.stdout).trim(), TOKEN);

    let before = files(&env);
    let again = setup(&env, &[]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(again.json["changed"], serde_json::json!([]));
    assert_eq!(again.json["identity"]["created"], false);
    assert_eq!(again.json["identity"]["public_keys"][0].as_str(), Some(public.as_str()));
    assert!(again.stderr.contains("nothing to change"), "{}", again.stderr);
    assert_eq!(files(&env), before, "the second run changed a file");
    // Only the encrypted store holds the token now: nowhere in plaintext.
    assert!(env.files_containing(TOKEN).is_empty(), "{:?}", env.files_containing(TOKEN));
    #[cfg(unix)]
    {
        assert_eq!(mode(&identity), 0o600);
        assert_eq!(mode(&env.store_dir()), 0o700);
        for f in std::fs::read_dir(env.store_dir()).unwrap().flatten() {
            assert_eq!(mode(&f.path()), 0o600, "{}", f.path().display());
        }
    }
}

#[test]
fn setup_without_an_influxctl_config_still_makes_the_identity_and_says_where_it_looked() {
    let env = TestEnv::new();
    let out = setup(&env, &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.json["influxctl_config"]["exists"], false);
    assert!(out.stderr.contains("no influxctl config at"), "{}", out.stderr);
    assert_eq!(out.json["changed"], serde_json::json!(["identity"]));
    assert_eq!(setup(&env, &[]).json["changed"], serde_json::json!([]));
}

#[test]
fn missing_identity_in_ci_names_the_age_keygen_command() {
    let env = TestEnv::new();
    let mut store = env.cmd();
    store.args(["store", "-p", "prod", "--store", "file"]).write_stdin(format!("{TOKEN}\n"));
    store.assert().success();
    std::fs::remove_file(env.cred_home().join("identity.txt")).unwrap();
    let out = env.cmd().args(["get", "-p", "prod"]).output().unwrap();
    assert_eq!(out.status.code(), Some(5));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("age-keygen -o ci-identity.txt"), "{stderr}");
    assert!(stderr.contains("INFLUXCTL_CRED_AGE_IDENTITY"), "{stderr}");
    assert!(!stderr.contains(TOKEN) && out.stdout.is_empty());
}

/// `setup` on a terminal (a pty from util-linux `script`), answering `answer` to its question.
#[cfg(target_os = "linux")]
fn setup_on_a_terminal(env: &TestEnv, answer: &str) -> Option<String> {
    if !std::path::Path::new("/usr/bin/script").exists() {
        eprintln!("skipped: no util-linux `script` to give setup a terminal");
        return None;
    }
    use std::io::Write;
    let bin = env!("CARGO_BIN_EXE_influxctl-cred");
    let mut child = std::process::Command::new("/usr/bin/script")
        .args(["-qec", &format!("{bin} setup"), "/dev/null"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", env.path().join("home"))
        .env("XDG_CONFIG_HOME", env.path().join("xdg-config"))
        .env("XDG_DATA_HOME", env.path().join("xdg-data"))
        .env("INFLUXCTL_CRED_HOME", env.cred_home())
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/influxctl-cred-test-bus")
        .env("INFLUXCTL_CRED_SCRYPT_LOG_N", "10")
        .env("INFLUXCTL_CRED_INFLUXCTL", env.path().join("no-influxctl"))
        .env("SHELL", "/bin/bash")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The question is asked once the identity exists; answer when it is there.
    let identity = env.cred_home().join("identity.txt");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !identity.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(format!("{answer}\n").as_bytes()).unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let all = text(&out.stdout) + &text(&out.stderr);
    assert!(out.status.success(), "{all}");
    assert!(!all.contains(TOKEN), "the token was printed: {all}");
    Some(all)
}

#[cfg(target_os = "linux")]
#[test]
fn setup_on_a_terminal_asks_before_moving_tokens() {
    let env = TestEnv::new();
    let config = env.write_influxctl_config(CONFIG);
    let Some(no) = setup_on_a_terminal(&env, "n") else { return };
    assert!(no.contains("[y/N]"), "{no}");
    assert_eq!(std::fs::read_to_string(&config).unwrap(), CONFIG, "moved without a yes");
    let Some(yes) = setup_on_a_terminal(&env, "y") else { return };
    assert!(yes.contains("moved to the file store"), "{yes}");
    assert!(!std::fs::read_to_string(&config).unwrap().contains("mgmt_token"));
    assert!(yes.contains("shell-init bash"), "{yes}");
}

#[cfg(target_os = "linux")]
#[test]
#[ignore = "needs a Secret Service (run under scripts/with-keyring)"]
fn setup_with_a_keyring_that_answers_uses_it_and_makes_no_identity() {
    let env = TestEnv::new();
    let bus = std::env::var("DBUS_SESSION_BUS_ADDRESS").expect("run under scripts/with-keyring");
    let tag = env.path().file_name().and_then(|n| n.to_str()).unwrap_or("x").to_owned();
    let profile = format!("setup-{tag}");
    env.write_influxctl_config(&CONFIG.replacen("\"prod\"", &format!("{profile:?}"), 1));
    let run = |args: &[&str]| {
        let out = env
            .cmd()
            .env("DBUS_SESSION_BUS_ADDRESS", &bus)
            .env("INFLUXCTL_CRED_INFLUXCTL", env.path().join("no-influxctl"))
            .arg("setup")
            .args(args)
            .args(["--format", "json"])
            .output()
            .unwrap();
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert!(out.status.success(), "{stderr}");
        assert!(!stdout.contains(TOKEN) && !stderr.contains(TOKEN));
        serde_json::from_str::<Value>(&stdout).unwrap()
    };
    let first = run(&["--import"]);
    assert_eq!(first["store"]["name"], "keyring");
    assert_eq!(first["store"]["keyring"]["usable"], true);
    assert!(first["identity"].is_null());
    assert_eq!(first["changed"], serde_json::json!(["import"]));
    assert!(!env.cred_home().join("identity.txt").exists());
    assert_eq!(run(&[])["changed"], serde_json::json!([]));
    let got = env
        .cmd()
        .env("DBUS_SESSION_BUS_ADDRESS", &bus)
        .args(["get", "-p", &profile])
        .output()
        .unwrap();
    assert_eq!(text(&got.stdout).trim(), TOKEN);
    assert!(env.files_containing(TOKEN).is_empty());
    env.cmd()
        .env("DBUS_SESSION_BUS_ADDRESS", &bus)
        .args(["erase", "-p", &profile])
        .assert()
        .success();
}
