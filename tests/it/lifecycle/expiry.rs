//! Expiry: warnings, `--min-ttl`, expired tokens, `list` and `doctor`; auto-rotation in `get`,
//! `exec` and the helper, single-flight across parallel runs.

use std::process::{Command, Stdio};

use jiff::{SignedDuration, Timestamp};

use super::Setup;

fn in_(d: SignedDuration) -> String {
    (Timestamp::now() + d).to_string()
}

#[test]
fn expired_token_get_exits_4_and_exec_125_naming_rotate() {
    let s = Setup::with_settings("auto_rotate = true");
    let past = in_(-SignedDuration::from_secs(60));
    s.store("prod", "M.V1.test-expired-0001", &["--expires-at", &past, "--token-id", "x"]);
    let r = s.run(&["get", "-p", "prod"], &[]);
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert!(r.stdout.is_empty());
    let r = s.run(&["exec", "-p", "prod", "--", "influxctl", "database", "list"], &[]);
    assert_eq!(r.code, 125, "{}", r.stderr);
    assert!(r.stderr.contains("kind: expired"), "{}", r.stderr);
    assert!(r.stderr.contains("`influxctl-cred rotate -p prod`"), "{}", r.stderr);
    assert!(s.tokens().is_empty(), "an expired token is not auto-rotated");
}

#[test]
fn get_warns_inside_renew_before_and_honours_min_ttl() {
    let s = Setup::new();
    let soon = in_(SignedDuration::from_hours(50));
    s.store("prod", "M.V1.test-soon-0001", &["--expires-at", &soon]);
    let r = s.run_get(&["get", "-p", "prod"], &[]);
    assert_eq!(r.code, 0);
    assert!(r.stderr.contains("warning") && r.stderr.contains("expires in 2d"), "{}", r.stderr);
    assert!(r.stderr.contains("rotate -p prod"), "{}", r.stderr);
    assert_eq!(s.run(&["get", "-p", "prod", "--min-ttl", "2d"], &[]).code, 0);
    assert_eq!(s.run(&["get", "-p", "prod", "--min-ttl", "3d"], &[]).code, 4);
    let out = s
        .cmd(&[])
        .arg("helper")
        .write_stdin(concat!(
            r#"{"v":1,"id":1,"kind":"get","profile":"prod","min_ttl_secs":259200}"#,
            "\n",
            r#"{"v":1,"id":2,"kind":"get","profile":"prod","min_ttl_secs":3600}"#,
            "\n"
        ))
        .output()
        .unwrap();
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["error"]["kind"], "expired");
    assert_eq!(lines[1]["ok"]["token"], "M.V1.test-soon-0001");
}

#[test]
fn list_shows_expiry_state_in_table_and_json() {
    let s = Setup::new();
    let past = in_(-SignedDuration::from_hours(1));
    let soon = in_(SignedDuration::from_hours(3 * 24 + 1));
    s.store("prod", "M.V1.test-list-0001", &["--expires-at", &past]);
    s.store("stage", "M.V1.test-list-0002", &["--expires-at", &soon]);
    let table = s.run(&["list"], &[]);
    let line = |p: &str| table.stdout.lines().find(|l| l.starts_with(p)).unwrap().to_owned();
    assert!(line("prod").ends_with("(expired)"), "{}", table.stdout);
    assert!(line("stage").ends_with("(expires in 3d)"), "{}", table.stdout);
    let json = s.run(&["list", "--format", "json"], &[]);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(rows[0]["expiry"], "expired");
    assert_eq!(rows[1]["expiry"], "expires in 3d");
    assert!(!json.stdout.contains("M.V1."));
}

#[test]
fn doctor_reports_expired_and_near_expiry_entries() {
    let s = Setup::new();
    s.store("prod", "M.V1.test-doc-0001", &["--expires-at", &in_(-SignedDuration::from_hours(1))]);
    s.store("stage", "M.V1.test-doc-0002", &["--expires-at", &in_(SignedDuration::from_hours(50))]);
    let r = s.run(&["doctor", "--format", "json"], &[]);
    assert_eq!(r.code, 1, "an expired token fails the doctor");
    let checks: Vec<serde_json::Value> = serde_json::from_str(&r.stdout).unwrap();
    let check = |name: &str| checks.iter().find(|c| c["name"] == name).unwrap().clone();
    assert_eq!(check("expiry prod (file)")["status"], "fail");
    assert_eq!(check("expiry stage (file)")["status"], "warn");
    assert!(check("expiry stage (file)")["detail"].as_str().unwrap().contains("expires in 2d"));
}

#[test]
fn doctor_online_reports_revoked_and_unlisted_tokens() {
    let s = Setup::new();
    let prod = s.create("prod", "30d");
    let stage = s.create("stage", "30d");
    let r = s.run(&["doctor", "--online", "--format", "json"], &[]);
    let checks: Vec<serde_json::Value> = serde_json::from_str(&r.stdout).unwrap();
    let status = |cs: &[serde_json::Value], name: &str| {
        cs.iter().find(|c| c["name"] == name).map(|c| c["status"].clone()).unwrap()
    };
    assert_eq!(status(&checks, "server prod (file)"), "ok", "{}", r.stdout);
    assert_eq!(status(&checks, "server stage (file)"), "ok");
    // The stand-in's server revokes stage's token; prod's token still lists them all.
    let mut c = Command::new(crate::fake_influxctl::binary());
    c.args(["--config", s.env.influxctl_config().to_str().unwrap(), "--profile", "stage"])
        .arg("management")
        .args(["revoke", "--force", &stage])
        .env("FAKE_INFLUXCTL_STATE", s.state_path())
        .env("FAKE_INFLUXCTL_OAUTH", "1");
    assert!(c.status().unwrap().success());
    let r = s.run(&["doctor", "--online", "--format", "json"], &[]);
    assert_eq!(r.code, 1);
    let checks: Vec<serde_json::Value> = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(status(&checks, "server stage (file)"), "fail");
    let detail = checks.iter().find(|c| c["name"] == "server stage (file)").unwrap();
    assert!(detail["detail"].as_str().unwrap().contains("as revoked"), "{detail}");
    assert_eq!(status(&checks, "server prod (file)"), "ok");
    // Without --online, nothing is asked.
    let before = s.calls("list").len();
    s.run(&["doctor"], &[]);
    assert_eq!(s.calls("list").len(), before);
    let _ = prod;
}

#[test]
fn auto_rotate_in_get_and_helper_rotates_with_the_current_token() {
    let s = Setup::with_settings("auto_rotate = true");
    let old = s.create("prod", "2d");
    let r = s.run_get(&["get", "-p", "prod"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let new = s.stored_id("prod").unwrap();
    assert_ne!(new, old);
    assert!(r.stderr.contains("auto-rotating the token of profile \"prod\""), "{}", r.stderr);
    assert_eq!(r.stdout.trim(), s.secret_of(&new), "get prints the new token");
    assert!(!s.works(&old));
    assert_eq!(s.calls("create")[1]["auth"], format!("token:{old}"));

    let stage = s.create("stage", "2d");
    let out = s
        .cmd(&[])
        .arg("helper")
        .write_stdin("{\"v\":1,\"id\":1,\"kind\":\"get\",\"profile\":\"stage\"}\n")
        .output()
        .unwrap();
    let line: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let token = line["ok"]["token"].as_str().unwrap();
    assert_ne!(token, s.secret_of(&stage));
    assert_eq!(Some(line["ok"]["token_id"].as_str().unwrap().to_owned()), s.stored_id("stage"));
    assert_eq!(out.stdout.iter().filter(|b| **b == b'\n').count(), 1, "only the answer");
}

#[test]
fn auto_rotate_failure_falls_back_to_the_still_valid_token() {
    let s = Setup::with_settings("auto_rotate = true");
    let old = s.create("prod", "2d");
    let r = s.run_get(&["get", "-p", "prod"], &[("FAKE_INFLUXCTL_FAIL", "create")]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("auto-rotation of profile \"prod\" failed"), "{}", r.stderr);
    assert_eq!(r.stdout.trim(), s.secret_of(&old));
    // …but not when the token is too short-lived for what was asked.
    let r = s.run(&["get", "-p", "prod", "--min-ttl", "3d"], &[("FAKE_INFLUXCTL_FAIL", "create")]);
    assert_eq!(r.code, 8, "{}", r.stderr);
}

#[test]
fn auto_rotate_20_parallel_execs_create_exactly_one_token() {
    let s = Setup::with_settings("auto_rotate = true\nlock_timeout = \"60s\"");
    let old = s.create("prod", "2d");
    let p = s.env.path();
    let children: Vec<_> = (0..20)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_influxctl-cred"))
                .env_clear()
                .env("PATH", s.path_var())
                .env("HOME", p.join("home"))
                .env("XDG_CONFIG_HOME", p.join("xdg-config"))
                .env("XDG_RUNTIME_DIR", s.run_dir())
                .env("INFLUXCTL_CRED_HOME", s.env.cred_home())
                .env("CI", "true")
                .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/influxctl-cred-test-bus")
                .env("FAKE_INFLUXCTL_STATE", s.state_path())
                .args(["exec", "-p", "prod", "--", "influxctl", "database", "list"])
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut rotated_by = 0;
    for child in children {
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        assert!(!stderr.contains("M.V1."), "{stderr}");
        rotated_by += usize::from(stderr.contains("auto-rotating"));
    }
    assert_eq!(s.calls("create").len(), 2, "the first create, and one rotation");
    assert_eq!(s.tokens().len(), 2);
    assert_eq!(rotated_by, 1);
    let new = s.stored_id("prod").unwrap();
    assert!(s.works(&new) && !s.works(&old));
    assert!(s.leftovers().is_empty());
}
