//! Binding (docs/spec.md §4) through the binary: a re-pointed profile gets `cluster-mismatch`, and
//! `rebind --yes` accepts the move.

use crate::util::{TOKEN, TestEnv, text};

const BOUND: &str = "[[profile]]\n  name = \"prod\"\n  product = \"clustered\"\n  port = 443\n";

#[test]
fn get_after_profile_gains_host_or_tls_is_cluster_mismatch_until_rebind() {
    let env = TestEnv::new();
    env.write_influxctl_config(BOUND);
    env.cmd()
        .args(["store", "-p", "prod", "--store", "file"])
        .write_stdin(TOKEN)
        .assert()
        .success();
    env.cmd().args(["get", "-p", "prod"]).assert().success();
    let moves = [
        format!("{BOUND}  host = \"evil.example.com\"\n"),
        BOUND.replace("443", "8443"),
        format!("{BOUND}  [profile.tls]\n    disable = true\n"),
        format!("{BOUND}  [profile.tls]\n    ca = \"/tmp/evil-ca.pem\"\n"),
    ];
    for moved in &moves {
        env.write_influxctl_config(moved);
        let out = env.cmd().args(["get", "-p", "prod"]).output().unwrap();
        assert_eq!(out.status.code(), Some(7), "{moved}: {}", text(&out.stderr));
        assert!(!text(&out.stdout).contains(TOKEN) && !text(&out.stderr).contains(TOKEN));
    }
    // Without a terminal, rebind needs --yes.
    let out = env.cmd().args(["rebind", "-p", "prod"]).output().unwrap();
    assert_eq!(out.status.code(), Some(6), "{}", text(&out.stderr));
    env.cmd().args(["rebind", "-p", "prod", "--yes"]).assert().success();
    let out = env.cmd().args(["get", "-p", "prod"]).output().unwrap();
    assert_eq!(text(&out.stdout).trim(), TOKEN);
}

/// A profile bound to our loopback server, then re-pointed at an attacker's listener (another
/// port, another host spelling, or TLS turned into something else): on every path that would
/// hand the token out — get, exec, helper get, verify, doctor --online, exec --database-token,
/// erase --revoke, rotate — the answer is `cluster-mismatch`, influxctl never runs (neither
/// the stand-in given to exec nor the one on PATH that the lifecycle commands run), the entry
/// is kept, and the listener hears nothing.
#[test]
fn repointed_profile_is_cluster_mismatch_on_every_path_and_the_listener_hears_nothing() {
    use crate::apiserver::{ApiServer, Reply};
    let ok = || Reply::json(200, "[]");
    let good = ApiServer::start(move |_| ok());
    let evil = ApiServer::start(move |_| Reply::json(200, "[]"));
    let profile = |host: &str, port: u16, tls: &str| {
        format!(
            "[[profile]]\n  name = \"prod\"\n  product = \"clustered\"\n  host = \"{host}\"\n  port = \"{port}\"\n  [profile.tls]\n    disable = true\n{tls}"
        )
    };
    let env = TestEnv::new();
    let report = env.path().join("report.json");
    env.write_influxctl_config(&profile("127.0.0.1", good.addr.port(), ""));
    // With a token id, so that `erase --revoke` has something to revoke.
    env.cmd()
        .args(["store", "-p", "prod", "--store", "file", "--token-id", "tok-1"])
        .write_stdin(TOKEN)
        .assert()
        .success();
    // `influxctl` on PATH (for erase --revoke and rotate) is the stand-in, its server state here.
    let path = crate::fake_influxctl::path_with(&crate::fake_influxctl::path_dir(env.path()));
    let state = env.path().join("server.json");
    let lifecycle = |args: &[&str]| {
        env.cmd()
            .env("PATH", &path)
            .env("FAKE_INFLUXCTL_STATE", &state)
            .env("FAKE_INFLUXCTL_OAUTH", "1")
            .env("FAKE_INFLUXCTL_REPORT", &report)
            .args(args)
            .output()
            .unwrap()
    };
    // Bound and served while the profile is unchanged.
    env.cmd().args(["verify", "-p", "prod"]).assert().success();
    assert_eq!(good.requests().len(), 1);

    let moves = [
        profile("127.0.0.1", evil.addr.port(), ""),
        profile("127.0.0.2", good.addr.port(), ""),
        profile("127.0.0.1", good.addr.port(), "    ca = \"/tmp/attacker-ca.pem\"\n"),
        profile("127.0.0.1", good.addr.port(), "    insecure = true\n"),
    ];
    for moved in &moves {
        env.write_influxctl_config(moved);
        let helper_line = "{\"v\":1,\"id\":1,\"kind\":\"get\",\"profile\":\"prod\"}\n";
        let runs: Vec<(&str, std::process::Output)> = vec![
            ("get", env.cmd().args(["get", "-p", "prod"]).output().unwrap()),
            ("verify", env.cmd().args(["verify", "-p", "prod"]).output().unwrap()),
            ("doctor --online", env.cmd().args(["doctor", "--online"]).output().unwrap()),
            (
                "exec",
                env.cmd()
                    .env("FAKE_INFLUXCTL_REPORT", &report)
                    .args(["exec", "-p", "prod", "--"])
                    .arg(crate::fake_influxctl::binary())
                    .args(["database", "list"])
                    .output()
                    .unwrap(),
            ),
            (
                "exec --database-token",
                env.cmd()
                    .env("FAKE_INFLUXCTL_REPORT", &report)
                    .args(["exec", "-p", "prod", "--database-token", "read=db", "--"])
                    .arg(crate::fake_influxctl::binary())
                    .args(["query", "SELECT 1"])
                    .output()
                    .unwrap(),
            ),
            ("helper", env.cmd().arg("helper").write_stdin(helper_line).output().unwrap()),
            ("erase --revoke", lifecycle(&["erase", "-p", "prod", "--revoke"])),
            ("rotate", lifecycle(&["rotate", "-p", "prod"])),
            (
                "rotate --with-current-token",
                lifecycle(&["rotate", "-p", "prod", "--with-current-token"]),
            ),
        ];
        for (what, out) in &runs {
            let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
            assert!(!stdout.contains(TOKEN) && !stderr.contains(TOKEN), "{what} leaked: {moved}");
            // The helper answers each request and exits 0 at EOF; its answer carries the kind.
            if *what != "helper" {
                assert_ne!(out.status.code(), Some(0), "{what} succeeded for {moved}: {stderr}");
            }
            let said = format!("{stdout}{stderr}");
            assert!(
                said.contains("cluster-mismatch")
                    || said.contains("refusing to hand it out")
                    || out.status.code() == Some(7),
                "{what} for {moved}: {said}"
            );
        }
        assert!(!report.exists(), "influxctl ran with the token for {moved}");
        assert!(!state.exists(), "influxctl management ran for {moved}");
        assert_eq!(evil.requests().len(), 0, "the attacker's listener was reached: {moved}");
        assert_eq!(good.requests().len(), 1, "a request went out for {moved}");
        assert!(env.store_dir().join("prod.age").is_file(), "the entry is gone: {moved}");
    }
    // Back to the bound profile: the same entry, the same token.
    env.write_influxctl_config(&profile("127.0.0.1", good.addr.port(), ""));
    let out = env.cmd().args(["get", "-p", "prod", "--format", "json"]).output().unwrap();
    let entry: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((entry["token"].as_str(), entry["token_id"].as_str()), (Some(TOKEN), Some("tok-1")));
}

/// An entry in the stored-binding shape of the previous version (endpoint fields, no TLS trust)
/// keeps working for its unchanged profile: `get` hands the token out and says once that the
/// binding is now recorded in full — for the file store on this machine (`first-use/`), the age
/// file left byte for byte as it was, since it may be shared (the next `get` is silent).
/// Against a profile that has since gained `tls.ca`, the same legacy entry is
/// `cluster-mismatch` and is left as it was.
#[test]
fn legacy_binding_without_tls_is_migrated_once_and_refused_for_a_profile_with_a_ca() {
    const NOTICE: &str = "was stored without the profile's TLS trust";
    let env = TestEnv::new();
    env.write_influxctl_config(BOUND);
    env.cmd()
        .args(["store", "-p", "prod", "--store", "file"])
        .write_stdin(TOKEN)
        .assert()
        .success();
    let legacy = |env: &TestEnv| {
        crate::planted::edit(env, "prod", |e| {
            let cluster = e["cluster"].as_object_mut().expect("a binding");
            assert!(cluster.remove("tls").is_some(), "the current shape records the TLS trust");
        });
        assert!(crate::planted::read(env, "prod")["cluster"].get("tls").is_none());
    };
    legacy(&env);
    let age = env.store_dir().join("prod.age");
    let before = std::fs::read(&age).unwrap();
    let first = env.cmd().args(["get", "-p", "prod"]).output().unwrap();
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    assert_eq!(text(&first.stdout).trim(), TOKEN);
    let said = text(&first.stderr);
    assert_eq!(said.matches(NOTICE).count(), 1, "{said}");
    assert!(!said.contains(TOKEN));
    assert_eq!(std::fs::read(&age).unwrap(), before, "the age file was rewritten");
    let record = env.cred_home().join("first-use").join("prod.json");
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&record).unwrap()).unwrap();
    assert_eq!(
        record["cluster"]["tls"],
        serde_json::json!({"disable": false, "insecure": false, "ca": null}),
        "{record}"
    );
    assert_eq!(record["cluster"]["product"], "clustered");
    assert!(record["was"].get("tls").is_none(), "{record}");
    assert!(!record.to_string().contains(TOKEN));
    let second = env.cmd().args(["get", "-p", "prod"]).output().unwrap();
    assert_eq!(second.status.code(), Some(0), "{}", text(&second.stderr));
    assert!(!text(&second.stderr).contains(NOTICE), "{}", text(&second.stderr));

    // The same legacy entry (still so on disk), the profile now trusting another CA: refused.
    assert!(crate::planted::read(&env, "prod")["cluster"].get("tls").is_none());
    env.write_influxctl_config(&format!("{BOUND}  [profile.tls]\n    ca = \"/tmp/evil-ca.pem\"\n"));
    let out = env.cmd().args(["get", "-p", "prod"]).output().unwrap();
    let said = text(&out.stderr);
    assert_eq!(out.status.code(), Some(7), "{said}");
    assert!(said.contains("cluster-mismatch") && said.contains("tls.ca"), "{said}");
    assert!(!text(&out.stdout).contains(TOKEN) && !said.contains(TOKEN));
    assert!(crate::planted::read(&env, "prod")["cluster"].get("tls").is_none(), "rewritten");
}

/// An entry stored before influxctl had the profile is bound on its first use on this machine
/// without touching its age file (which may be committed and shared): the binding is recorded
/// in `first-use/`. It holds (a moved profile is `cluster-mismatch`), `rebind --yes` moves that
/// record and still leaves the file as it is, and `erase` removes it.
#[test]
fn first_use_and_rebind_of_a_file_entry_leave_its_age_file_as_it_was() {
    let env = TestEnv::new();
    let (code, err) = {
        let out = env
            .cmd()
            .args(["store", "-p", "prod", "--store", "file"])
            .write_stdin(TOKEN)
            .output()
            .unwrap();
        (out.status.code(), text(&out.stderr))
    };
    assert_eq!(code, Some(0), "{err}");
    let age = env.store_dir().join("prod.age");
    let sidecar = env.store_dir().join("prod.meta.json");
    let files = || (std::fs::read(&age).unwrap(), std::fs::read(&sidecar).unwrap());
    let stored = files();
    let record = env.cred_home().join("first-use").join("prod.json");
    env.write_influxctl_config(BOUND);
    let out = env.cmd().args(["get", "-p", "prod"]).output().unwrap();
    assert_eq!(text(&out.stdout).trim(), TOKEN, "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("first use"), "{}", text(&out.stderr));
    assert_eq!(files(), stored, "the first use rewrote the entry");
    assert!(record.is_file());

    // Every reader sees the binding recorded here: a re-pointed profile gets nothing.
    let moved = format!("{BOUND}  host = \"127.0.0.1\"\n  [profile.tls]\n    disable = true\n");
    env.write_influxctl_config(&moved);
    let out = env.cmd().args(["get", "-p", "prod"]).output().unwrap();
    assert_eq!(out.status.code(), Some(7), "{}", text(&out.stderr));
    assert!(!text(&out.stdout).contains(TOKEN));
    for args in [&["verify", "-p", "prod"][..], &["doctor", "--online"]] {
        let out = env.cmd().args(args).output().unwrap();
        let said = format!("{}{}", text(&out.stdout), text(&out.stderr));
        assert_ne!(out.status.code(), Some(0), "{args:?}: {said}");
        assert!(said.contains("refusing to hand it out"), "{args:?}: {said}");
        assert!(!said.contains(TOKEN), "{args:?}: {said}");
    }
    let out = env.cmd().args(["rebind", "-p", "prod", "--yes"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(files(), stored, "rebind rewrote the entry");
    let out = env.cmd().args(["get", "-p", "prod"]).output().unwrap();
    assert_eq!(text(&out.stdout).trim(), TOKEN, "{}", text(&out.stderr));
    env.write_influxctl_config(BOUND);
    let out = env.cmd().args(["get", "-p", "prod"]).output().unwrap();
    assert_eq!(out.status.code(), Some(7), "{}", text(&out.stderr));

    // A record that cannot be read is an error naming it, never a fresh first use.
    let kept = std::fs::read(&record).unwrap();
    std::fs::write(&record, "{\"v\":1,").unwrap();
    let out = env.cmd().args(["get", "-p", "prod"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains(&record.display().to_string()), "{}", text(&out.stderr));
    assert!(!text(&out.stdout).contains(TOKEN));
    std::fs::write(&record, kept).unwrap();

    env.cmd().args(["erase", "-p", "prod"]).assert().success();
    assert!(!record.exists(), "erase left the first-use record");
}

/// Two `[[profile]]` tables of one name: which one influxctl uses is not defined, so every
/// reader of the config refuses it (exit 2; 125 from exec), naming the profile and the file,
/// before any token moves — store, get, exec and the helper's get alike.
#[test]
fn duplicate_profile_names_are_refused_by_store_get_exec_and_helper() {
    let env = TestEnv::new();
    env.write_influxctl_config(BOUND);
    env.cmd()
        .args(["store", "-p", "prod", "--store", "file"])
        .write_stdin(TOKEN)
        .assert()
        .success();
    let age = env.store_dir().join("prod.age");
    let before = std::fs::read(&age).unwrap();
    let config = env.write_influxctl_config(&format!(
        "{BOUND}\n[[profile]]\n  name = \"other\"\n\n[[profile]]\n  name = \"prod\"\n  product = \"clustered\"\n  host = \"other.example.com\"\n"
    ));
    let says_text = |said: &str, what: &str| {
        assert!(said.contains("\"prod\" is defined twice (lines 1 and 9)"), "{what}: {said}");
        assert!(said.contains(&config.display().to_string()), "{what}: {said}");
        assert!(!said.contains(TOKEN), "{what}: {said}");
    };
    let says = |out: &std::process::Output, what: &str| {
        says_text(&format!("{}{}", text(&out.stdout), text(&out.stderr)), what);
    };
    for profile in ["prod", "other"] {
        let out = env
            .cmd()
            .args(["store", "-p", profile, "--store", "file"])
            .write_stdin("M.V1.test-dup-second-token")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "store {profile}: {}", text(&out.stderr));
        says(&out, "store");
        let out = env.cmd().args(["get", "-p", profile]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "get {profile}: {}", text(&out.stderr));
        says(&out, "get");
    }
    assert_eq!(std::fs::read(&age).unwrap(), before, "the entry was rewritten");
    assert!(!env.store_dir().join("other.age").exists(), "a token was stored");

    let report = env.path().join("report.json");
    let out = env
        .cmd()
        .env("FAKE_INFLUXCTL_REPORT", &report)
        .args(["exec", "-p", "prod", "--"])
        .arg(crate::fake_influxctl::binary())
        .args(["database", "list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(125), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("kind: invalid-request"), "{}", text(&out.stderr));
    says(&out, "exec");
    assert!(!report.exists(), "influxctl ran");

    let line = "{\"v\":1,\"id\":1,\"kind\":\"get\",\"profile\":\"prod\"}\n";
    let out = env.cmd().arg("helper").write_stdin(line).output().unwrap();
    let answer: serde_json::Value =
        serde_json::from_str(text(&out.stdout).lines().next().unwrap_or("{}")).unwrap();
    assert_eq!(answer["error"]["kind"], "invalid-request", "{answer}");
    says_text(answer["error"]["message"].as_str().unwrap_or(""), "helper get");
    assert!(!text(&out.stdout).contains(TOKEN) && !text(&out.stderr).contains(TOKEN));
}

/// A first-use record may complete a legacy binding (the same endpoint, its TLS trust added),
/// never move it: a record planted beside the store that names another host for a legacy entry
/// is refused, the token goes nowhere, and the entry is left as it was.
#[test]
fn first_use_record_moving_a_legacy_binding_is_refused() {
    let env = TestEnv::new();
    env.write_influxctl_config(BOUND);
    env.cmd()
        .args(["store", "-p", "prod", "--store", "file"])
        .write_stdin(TOKEN)
        .assert()
        .success();
    crate::planted::edit(&env, "prod", |e| {
        let cluster = e["cluster"].as_object_mut().expect("a binding");
        assert!(cluster.remove("tls").is_some(), "the current shape records the TLS trust");
    });
    let legacy = crate::planted::read(&env, "prod")["cluster"].clone();
    let evil = "[[profile]]\n  name = \"prod\"\n  product = \"clustered\"\n  host = \"evil.example.net\"\n  port = 443\n";
    env.write_influxctl_config(evil);
    let refused = env.cmd().args(["get", "-p", "prod"]).output().unwrap();
    assert_eq!(refused.status.code(), Some(7), "{}", text(&refused.stderr));

    let folder = env.cred_home().join("first-use");
    std::fs::create_dir_all(&folder).unwrap();
    let record = serde_json::json!({
        "v": 1,
        "profile": "prod",
        "was": legacy,
        "cluster": {"product": "clustered", "host": "evil.example.net", "port": "443",
                    "tls": {"disable": false, "insecure": false, "ca": null}},
        "bound_at": "2026-12-01T00:00:00Z",
    });
    let path = folder.join("prod.json");
    std::fs::write(&path, record.to_string()).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o700)).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let fake = crate::fake_influxctl::binary();
    let exec = ["exec", "-p", "prod", "--", fake.to_str().unwrap(), "database", "list"];
    for args in [&["get", "-p", "prod"][..], &exec[..]] {
        let out = env.cmd().args(args).output().unwrap();
        let said = text(&out.stderr);
        assert_ne!(out.status.code(), Some(0), "{args:?}: {said}");
        assert!(said.contains("never move it"), "{args:?}: {said}");
        assert!(!text(&out.stdout).contains(TOKEN) && !said.contains(TOKEN), "{args:?}");
    }
    assert!(crate::planted::read(&env, "prod")["cluster"].get("tls").is_none(), "rewritten");
}
