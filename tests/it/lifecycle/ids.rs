//! Token ids for imported tokens (issue #14 item 3): `import` asks `management list` and
//! records the id of the one live token whose prefix the imported token starts with, so that
//! `rotate` and `erase --revoke` can revoke it on the server; `annotate` sets or looks it up
//! later. influxctl failing here never undoes the import.

use serde_json::{Value, json};

use super::{CONFIG, Setup};

const OAUTH: (&str, &str) = ("FAKE_INFLUXCTL_OAUTH", "1");
const IMPORTED: &str = "M.V1.test-0123456789abcdefIMPORTED";
const IMPORTED_ID: &str = "0a0a0a0a-1111-4222-8333-444444444444";

/// The stand-in's server holds the token that config.toml has in plaintext, plus `others`.
fn seed(s: &Setup, others: &[(&str, &str, Option<i64>)]) {
    let now = jiff::Timestamp::now().as_second();
    let record = |id: &str, token: &str, revoked: Option<i64>| {
        json!({"id": id, "account_id": "acc-1", "token": token, "description": "made by hand",
               "created_at": now - 86400, "expires_at": null, "revoked_at": revoked,
               "created_by": "oauth:fake-user"})
    };
    let mut tokens = vec![record(IMPORTED_ID, IMPORTED, None)];
    tokens.extend(others.iter().map(|(id, t, r)| record(id, t, *r)));
    let state = json!({"oauth": false, "tokens": tokens, "calls": []});
    std::fs::write(s.state_path(), state.to_string()).unwrap();
    let config = CONFIG.replacen(
        "cluster_id = \"clu-1\"\n",
        &format!("cluster_id = \"clu-1\"\n  mgmt_token = \"{IMPORTED}\"\n"),
        1,
    );
    s.env.write_influxctl_config(&config);
}

fn import_json(s: &Setup, env: &[(&str, &str)]) -> Value {
    let r = s.run(&["import", "-p", "prod", "--format", "json"], env);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stdout.contains(IMPORTED) && !r.stderr.contains(IMPORTED));
    let v: Value = serde_json::from_str(&r.stdout).expect("one JSON object");
    assert!(!std::fs::read_to_string(s.env.influxctl_config()).unwrap().contains(IMPORTED));
    v
}

#[test]
fn import_finds_the_id_so_rotate_revokes_the_imported_token_on_the_server() {
    let s = Setup::new();
    // A revoked token with the same prefix, and a live one with another prefix.
    let gone = ("0b0b0b0b-1111-4222-8333-444444444444", "M.V1.test-gone0123456789", Some(1));
    let other = ("0c0c0c0c-1111-4222-8333-444444444444", "M.V1.tst2-other0123456789", None);
    seed(&s, &[gone, other]);
    let v = import_json(&s, &[]);
    let p = &v["profiles"][0];
    assert_eq!((p["profile"].as_str(), p["action"].as_str()), (Some("prod"), Some("moved")));
    assert_eq!(
        (p["token_id"].as_str(), p["token_id_lookup"].as_str()),
        (Some(IMPORTED_ID), Some("found"))
    );
    // Without a terminal the lookup authenticated with the imported token itself.
    assert_eq!(s.calls("list")[0]["auth"], format!("token:{IMPORTED_ID}"));
    let list = s.run(&["list", "--format", "json"], &[]);
    let rows: Value = serde_json::from_str(&list.stdout).unwrap();
    assert_eq!(rows[0]["token_id"], IMPORTED_ID);
    assert_eq!(rows[0]["origin"], "imported");

    let r = s.run(&["rotate", "-p", "prod", "--format", "json"], &[OAUTH]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rotated: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        (rotated["old_token_id"].as_str(), rotated["revoked_old"].as_bool()),
        (Some(IMPORTED_ID), Some(true))
    );
    assert!(!s.works(IMPORTED_ID), "the imported token was not revoked on the server");
    let new = s.stored_id("prod").unwrap();
    assert!(s.works(&new) && new != IMPORTED_ID);
    assert_eq!(rotated["token_id"].as_str(), Some(new.as_str()));
}

#[test]
fn import_with_two_matching_tokens_stores_it_without_an_id_then_annotate_sets_it() {
    let s = Setup::new();
    let twin = ("0d0d0d0d-1111-4222-8333-444444444444", "M.V1.test-twin0123456789", None);
    seed(&s, &[twin]);
    let r = s.run(&["import", "-p", "prod", "--format", "json"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("annotate -p prod --token-id ID"), "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["profiles"][0]["token_id_lookup"], "ambiguous");
    assert!(v["profiles"][0]["token_id"].is_null());
    assert_eq!(s.stored("prod").as_deref(), Ok(IMPORTED));
    // erase --revoke refuses without an id, and keeps the entry.
    assert_ne!(s.run(&["erase", "-p", "prod", "--revoke"], &[]).code, 0);

    let r = s.run(&["annotate", "-p", "prod", "--token-id", IMPORTED_ID, "--format", "json"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let a: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!((a["token_id"].as_str(), a["store"].as_str()), (Some(IMPORTED_ID), Some("file")));
    let r = s.run(&["erase", "-p", "prod", "--revoke", "--format", "json"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let e: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        e,
        json!({"profile": "prod", "existed": true, "stores": ["file"], "revoked": IMPORTED_ID})
    );
    assert!(!s.works(IMPORTED_ID));
}

#[test]
fn import_survives_a_failing_influxctl_and_annotate_lookup_id_fills_the_id_later() {
    let s = Setup::new();
    seed(&s, &[]);
    let v = import_json(&s, &[("FAKE_INFLUXCTL_FAIL", "list")]);
    assert_eq!(v["profiles"][0]["token_id_lookup"], "failed");
    assert!(v["profiles"][0]["token_id_hint"].as_str().unwrap().contains("--lookup-id"));
    assert_eq!(s.stored("prod").as_deref(), Ok(IMPORTED));

    // Asked for explicitly, a failure is an error (influxctl-failed), and nothing changes.
    let r = s.run(&["annotate", "-p", "prod", "--lookup-id"], &[("FAKE_INFLUXCTL_FAIL", "list")]);
    assert_eq!(r.code, 8, "{}", r.stderr);
    let r = s.run(&["annotate", "-p", "prod", "--lookup-id", "--format", "json"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let a: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        (a["token_id"].as_str(), a["token_id_lookup"].as_str()),
        (Some(IMPORTED_ID), Some("found"))
    );
    assert_eq!(s.stored("prod").as_deref(), Ok(IMPORTED));
}

#[test]
fn annotate_changes_metadata_only_and_refuses_bad_input() {
    let s = Setup::new();
    s.store("prod", IMPORTED, &["--description", "first"]);
    let before = s.run(&["list", "--format", "json"], &[]);
    let before: Value = serde_json::from_str(&before.stdout).unwrap();
    let r = s.run(
        &[
            "annotate",
            "-p",
            "prod",
            "--description",
            "second",
            "--expires-at",
            "2099-01-02T03:04:05Z",
        ],
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let after = s.run(&["list", "--format", "json"], &[]);
    let after: Value = serde_json::from_str(&after.stdout).unwrap();
    assert_eq!(after[0]["description"], "second");
    assert_eq!(after[0]["expires_at"], "2099-01-02T03:04:05Z");
    for same in ["created_at", "origin", "cluster"] {
        assert_eq!(after[0][same], before[0][same], "{same}");
    }
    assert_eq!(s.stored("prod").as_deref(), Ok(IMPORTED));
    let r = s.run(&["annotate", "-p", "prod", "--clear-expiry"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let cleared = s.run(&["list", "--format", "json"], &[]);
    assert!(serde_json::from_str::<Value>(&cleared.stdout).unwrap()[0]["expires_at"].is_null());

    for (args, code) in [
        (&["annotate", "-p", "prod", "--token-id", "--force"][..], 2),
        (&["annotate", "-p", "prod", "--token-id=-x"][..], 2),
        (&["annotate", "-p", "prod"][..], 2),
        (&["annotate", "-p", "prod", "--description", "a\u{1b}[31mb"][..], 2),
        (&["annotate", "-p", "nobody", "--description", "x"][..], 3),
    ] {
        let r = s.run(args, &[]);
        assert_eq!(r.code, code, "{args:?}: {}", r.stderr);
    }
    assert_eq!(s.stored("prod").as_deref(), Ok(IMPORTED));
}

#[test]
fn lookup_id_for_a_profile_moved_to_another_cluster_sends_the_token_nowhere() {
    let s = Setup::new();
    seed(&s, &[]);
    let v = import_json(&s, &[("FAKE_INFLUXCTL_FAIL", "list")]);
    assert_eq!(v["profiles"][0]["token_id_lookup"], "failed");
    let calls_before = s.server()["calls"].as_array().map_or(0, Vec::len);
    s.env.write_influxctl_config(&CONFIG.replacen("clu-1", "clu-9", 1));
    let r = s.run(&["annotate", "-p", "prod", "--lookup-id", "--with-current-token"], &[]);
    assert_eq!(r.code, 7, "{}", r.stderr);
    assert_eq!(s.server()["calls"].as_array().map_or(0, Vec::len), calls_before, "influxctl ran");
    let list = s.run(&["list", "--format", "json"], &[]);
    let rows: Value = serde_json::from_str(&list.stdout).unwrap();
    assert!(rows[0]["token_id"].is_null(), "{rows}");
    assert_eq!(rows[0]["cluster"]["cluster_id"], "clu-1");
}

#[test]
fn import_all_dry_run_answers_every_profile_and_changes_nothing() {
    let s = Setup::new();
    seed(&s, &[]);
    let before = std::fs::read_to_string(s.env.influxctl_config()).unwrap();
    let r = s.run(&["import", "--all", "--dry-run", "--format", "json"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        (v["dry_run"].as_bool(), v["config_rewritten"].as_bool()),
        (Some(true), Some(false))
    );
    let by = |name: &str| {
        v["profiles"].as_array().unwrap().iter().find(|p| p["profile"] == name).cloned().unwrap()
    };
    assert_eq!(
        (by("prod")["action"].as_str(), by("prod")["store"].as_str()),
        (Some("would-move"), Some("file"))
    );
    assert!(by("prod")["token_id_lookup"].is_null());
    assert_eq!(by("stage")["action"], "skipped");
    assert!(by("stage")["reason"].as_str().unwrap().contains("no plaintext"));
    assert_eq!(std::fs::read_to_string(s.env.influxctl_config()).unwrap(), before);
    assert!(s.server()["calls"].as_array().is_none_or(Vec::is_empty), "influxctl ran");
    assert!(!r.stdout.contains(IMPORTED));
}

/// Runs `influxctl-cred ARGS` on a fresh pseudo-terminal (as a person at a terminal would),
/// with the environment of [`Setup::cmd`] but no `CI`; answers the exit code and what the
/// terminal showed.
pub fn on_a_terminal(s: &Setup, args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let home = s.env.path();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/pty-type.py");
    let out = std::process::Command::new("python3")
        .arg(script)
        .arg("no-passphrase-is-asked")
        .arg(env!("CARGO_BIN_EXE_influxctl-cred"))
        .args(args)
        .env_clear()
        .env("PATH", s.path_var())
        .env("HOME", home.join("home"))
        .env("XDG_CONFIG_HOME", home.join("xdg-config"))
        .env("XDG_DATA_HOME", home.join("xdg-data"))
        .env("XDG_CACHE_HOME", home.join("xdg-cache"))
        .env("INFLUXCTL_CRED_HOME", s.env.cred_home())
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/influxctl-cred-test-bus")
        .env("INFLUXCTL_CRED_SCRYPT_LOG_N", "10")
        .env("XDG_RUNTIME_DIR", s.run_dir())
        .env("FAKE_INFLUXCTL_STATE", s.state_path())
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let shown = crate::util::text(&out.stderr);
    s.assert_no_token_in(&shown);
    (out.status.code().unwrap_or(-1), shown)
}

/// Issue #27 item 1: on a terminal, `annotate --lookup-id` (and `setup`, through `import`)
/// asked with the OAuth login, which someone who kept a plaintext token usually lacks, and the
/// hint said to run the same command again. Now the stored token asks first (and it is said);
/// the OAuth login only when the token cannot list; when neither can, the hint says what works.
#[test]
fn lookup_id_on_a_terminal_uses_the_stored_token_then_the_login_then_says_what_works() {
    let s = Setup::new();
    seed(&s, &[]);
    import_json(&s, &[]);
    // No OAuth login (the stand-in's default), a person at the terminal.
    let (code, shown) = on_a_terminal(&s, &["annotate", "-p", "prod", "--lookup-id"], &[]);
    assert_eq!(code, 0, "{shown}");
    assert!(shown.contains("authenticated with its stored token"), "{shown}");
    assert_eq!(s.calls("list").last().unwrap()["auth"], format!("token:{IMPORTED_ID}"));
    assert!(!s.calls("list").iter().any(|c| c["auth"].is_null()), "a login was tried");
    assert_eq!(s.stored_id("prod").as_deref(), Some(IMPORTED_ID));

    // A token the server does not accept: the OAuth login lists instead, and it is said.
    s.store("stage", "M.V1.zzzz-unknown0123456789abcdef", &[]);
    let args = ["annotate", "-p", "stage", "--lookup-id"];
    let (code, shown) = on_a_terminal(&s, &args, &[OAUTH]);
    assert_eq!(code, 1, "no live token matches, but the login listed: {shown}");
    assert!(shown.contains("trying your OAuth login"), "{shown}");
    assert_eq!(s.calls("list").last().unwrap()["auth"], "oauth:fake-user");

    // Neither: exit 8, and the hint names what works rather than the same command again.
    let (code, shown) = on_a_terminal(&s, &args, &[]);
    assert_eq!(code, 8, "{shown}");
    assert!(shown.contains("nor your OAuth login"), "{shown}");
    assert!(shown.contains("annotate -p stage --token-id ID"), "{shown}");
    assert!(!shown.contains("--lookup-id`"), "{shown}");
}

/// Issue #27 item 1, through `setup`: on a terminal, `setup --import` finds the moved token's
/// id with the token itself, with no OAuth login at hand.
#[test]
fn setup_on_a_terminal_finds_the_imported_id_without_a_login() {
    let s = Setup::new();
    seed(&s, &[]);
    let (code, shown) = on_a_terminal(&s, &["setup", "--import"], &[("SHELL", "/bin/bash")]);
    assert_eq!(code, 0, "{shown}");
    assert!(shown.contains(&format!("its token id is {IMPORTED_ID}")), "{shown}");
    assert!(!shown.contains("not logged in"), "{shown}");
    assert_eq!(s.calls("list")[0]["auth"], format!("token:{IMPORTED_ID}"));
    assert_eq!(s.stored_id("prod").as_deref(), Some(IMPORTED_ID));
}
