//! Issue #27, "a new user's second day": what misled someone following README.md and docs/.
//! Each test names its item. Through the real binary, with the stand-in influxctl where a
//! server is needed.

#![cfg(unix)]

use serde_json::Value;

use crate::lifecycle::{CONFIG, Setup};
use crate::util::text;

const OAUTH: (&str, &str) = ("FAKE_INFLUXCTL_OAUTH", "1");
const TOKEN: &str = "M.V1.test-0123456789abcdefSECONDDAY";

/// Item 6: influxctl's "only time you will see the token" next to a table whose token line we
/// withhold is answered by where the token went.
#[test]
fn create_and_rotate_say_where_the_withheld_token_went() {
    let s = Setup::new();
    let r = s.run(&["create", "-p", "prod", "--ttl", "30d"], &[OAUTH]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("it is kept in the file store"), "{}", r.stderr);
    assert!(r.stderr.contains("influxctl-cred get -p prod"), "{}", r.stderr);
    let r = s.run(&["rotate", "-p", "prod"], &[OAUTH]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("it is kept in the file store"), "{}", r.stderr);
}

/// Item 9: a duration shown rounds to the nearest unit: right after `create --ttl 30d` the
/// token "expires in 30d", not 29d.
#[test]
fn a_fresh_30_day_token_expires_in_30d() {
    let s = Setup::new();
    s.create("prod", "30d");
    let list = s.run(&["list", "--format", "json"], &[]);
    let rows: Value = serde_json::from_str(&list.stdout).unwrap();
    assert_eq!(rows[0]["expiry"], "expires in 30d", "{rows}");
    let table = s.run(&["list"], &[]);
    assert!(table.stdout.contains("(expires in 30d)"), "{}", table.stdout);
}

/// Item 9: an entry whose metadata cannot be read shows EXPIRES "unknown" (and why on
/// stderr), never "never".
#[test]
fn list_shows_unknown_expiry_for_an_entry_it_cannot_read() {
    let s = Setup::new();
    s.store("prod", TOKEN, &["--expires-at", "2099-01-01T00:00:00Z"]);
    // The entry's sidecar is gone and the identity that opens it is replaced by another.
    let store = s.env.store_dir();
    for item in std::fs::read_dir(&store).unwrap().flatten() {
        if !item.file_name().to_string_lossy().ends_with(".age") && item.path().is_file() {
            std::fs::remove_file(item.path()).unwrap();
        }
    }
    let identity = s.env.cred_home().join("identity.txt");
    std::fs::remove_file(&identity).unwrap();
    let made = std::process::Command::new("age-keygen").arg("-o").arg(&identity).output();
    assert!(made.is_ok_and(|o| o.status.success()), "age-keygen");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&identity, std::fs::Permissions::from_mode(0o600)).unwrap();
    let table = s.run(&["list"], &[]);
    let row = table.stdout.lines().find(|l| l.starts_with("prod")).unwrap_or_default();
    assert!(row.trim_end().ends_with("unknown") && !row.contains("never"), "{}", table.stdout);
    assert!(table.stderr.contains("expiry is unknown"), "{}", table.stderr);
    let json = s.run(&["list", "--format", "json"], &[]);
    let rows: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(rows[0]["expiry"], "unknown", "{rows}");
}

/// Item 7: `rotate` does not send a description of our making ("imported from <local path>")
/// to the server as the new token's.
#[test]
fn rotate_keeps_the_imported_from_description_local() {
    let s = Setup::new();
    let id = "0a0a0a0a-1111-4222-8333-444444444444";
    let now = jiff::Timestamp::now().as_second();
    let state = serde_json::json!({"oauth": false, "calls": [], "tokens": [
        {"id": id, "account_id": "acc-1", "token": TOKEN, "description": "by hand",
         "created_at": now - 86400, "expires_at": null, "revoked_at": null,
         "created_by": "oauth:fake-user"}]});
    std::fs::write(s.state_path(), state.to_string()).unwrap();
    let config = CONFIG.replacen(
        "cluster_id = \"clu-1\"\n",
        &format!("cluster_id = \"clu-1\"\n  mgmt_token = \"{TOKEN}\"\n"),
        1,
    );
    s.env.write_influxctl_config(&config);
    let r = s.run(&["import", "-p", "prod"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let listed = s.run(&["list", "--format", "json"], &[]);
    let rows: Value = serde_json::from_str(&listed.stdout).unwrap();
    assert!(rows[0]["description"].as_str().unwrap().starts_with("imported from /"), "{rows}");
    let r = s.run(&["rotate", "-p", "prod"], &[OAUTH]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let new = s.stored_id("prod").unwrap();
    let sent = s.token(&new)["description"].as_str().unwrap_or_default().to_owned();
    assert!(!sent.contains("imported from") && sent.starts_with("influxctl-cred "), "{sent}");
}

/// Item 8: `erase` without `--revoke` says the token still works on the server; `store`
/// refuses a past `--expires-at` (nothing stored) and warns about a value without `M.V1.`.
#[test]
fn erase_and_store_say_what_a_user_would_not_guess() {
    let s = Setup::new();
    let store = |token: &str, flags: &[&str]| {
        let out = s
            .cmd(&[])
            .args(["store", "-p", "prod"])
            .args(flags)
            .write_stdin(format!("{token}\n"))
            .output()
            .unwrap();
        (out.status.code().unwrap_or(-1), text(&out.stderr))
    };
    let (code, stderr) = store(TOKEN, &["--expires-at", "2001-01-01T00:00:00Z"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("in the past"), "{stderr}");
    assert_eq!(s.stored("prod"), Err(3), "a refused store stored something");
    let (code, stderr) = store("not-a-management-token-0123", &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("does not begin with M.V1."), "{stderr}");
    let (code, stderr) = store(TOKEN, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("warning"), "{stderr}");
    let r = s.run(&["erase", "-p", "prod"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("still works on the server"), "{}", r.stderr);
    assert!(r.stderr.contains("erase --revoke"), "{}", r.stderr);
}

/// Item 10: `setup` says influxctl's config once, with "1 profile" / "2 profiles"; the
/// keyring's failure is one clause, not three nested parentheses; `doctor` with
/// `store = "file"` pinned does not warn about the keyring it was told not to use.
#[test]
fn setup_and_doctor_say_each_thing_once_and_plainly() {
    let s = Setup::with_settings("");
    std::fs::write(s.env.cred_home().join("config.toml"), "").unwrap();
    let r = s.run(&["setup"], &[("SHELL", "/bin/bash")]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stderr.matches("influxctl's config is").count(), 1, "{}", r.stderr);
    assert!(r.stderr.contains("(2 profiles)"), "{}", r.stderr);
    let why = r.stderr.lines().find(|l| l.contains("keyring does not answer")).unwrap_or_default();
    assert!(!why.contains("(("), "{why}");
    assert!(why.matches('(').count() <= 2, "parentheses nest: {why}");
    s.env.write_influxctl_config(&CONFIG[..CONFIG.find("\n\n").unwrap() + 1]);
    let r = s.run(&["setup"], &[("SHELL", "/bin/bash")]);
    assert!(r.stderr.contains("(1 profile)"), "{}", r.stderr);

    s.settings("");
    let r = s.run(&["doctor", "--format", "json"], &[]);
    let checks: Value = serde_json::from_str(&r.stdout).expect("doctor's JSON");
    let keyring = checks
        .as_array()
        .into_iter()
        .flatten()
        .chain(checks["checks"].as_array().into_iter().flatten())
        .find(|c| c["name"] == "store keyring")
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(keyring["status"], "ok", "{checks}");
    assert!(keyring["detail"].as_str().unwrap_or_default().contains("not in use"), "{keyring}");
}

/// Item 11: `rebind` without a terminal does not tell someone who never passed
/// `--non-interactive` to drop it; `shell-init` without a shell takes `$SHELL`.
#[test]
fn rebind_hint_names_the_real_reason_and_shell_init_reads_shell() {
    let s = Setup::new();
    s.store("prod", TOKEN, &[]);
    s.env.write_influxctl_config(&CONFIG.replacen("clu-1", "clu-9", 1));
    let r = s.run(&["rebind", "-p", "prod"], &[]);
    assert_eq!(r.code, 6, "{}", r.stderr);
    assert!(!r.stderr.contains("drop --non-interactive"), "{}", r.stderr);
    assert!(r.stderr.contains("CI"), "CI=true is what turned questions off: {}", r.stderr);
    let r = s.run(&["--non-interactive", "rebind", "-p", "prod"], &[]);
    assert!(r.stderr.contains("drop --non-interactive"), "{}", r.stderr);

    let r = s.run(&["shell-init"], &[("SHELL", "/usr/bin/fish")]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("function influxctl"), "{}", r.stdout);
    let r = s.run(&["shell-init"], &[("SHELL", "/bin/tcsh")]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("bash, zsh, fish"), "{}", r.stderr);
}

/// Item 11: `import --all --dry-run` reports every profile, each conflict included, instead of
/// stopping at the first; it exits as the real run would (2), having changed nothing.
#[test]
fn import_all_dry_run_reports_every_conflict() {
    let s = Setup::new();
    let other = "M.V1.test-0123456789abcdefOTHER";
    s.store("prod", other, &[]);
    s.store("stage", other, &[]);
    let config = CONFIG.replace(
        "product = \"dedicated\"\n",
        &format!("product = \"dedicated\"\n  mgmt_token = \"{TOKEN}\"\n"),
    );
    s.env.write_influxctl_config(&config);
    let r = s.run(&["import", "--all", "--dry-run", "--format", "json"], &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).expect("the report, also on refusal");
    let refused: Vec<&str> = v["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["action"] == "refused")
        .map(|p| p["profile"].as_str().unwrap())
        .collect();
    assert_eq!(refused, ["prod", "stage"], "{v}");
    assert!(r.stderr.contains("\"prod\"") && r.stderr.contains("\"stage\""), "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(s.env.influxctl_config()).unwrap(), config);
    assert_eq!(s.stored("prod").as_deref(), Ok(other));
}
