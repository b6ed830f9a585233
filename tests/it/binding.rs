//! Binding (SPEC §4) through the binary: a re-pointed profile gets `cluster-mismatch`, and
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
/// keeps working for its unchanged profile: `get` hands the token out, says once that the
/// binding is now recorded in full, and rewrites the entry in the new shape (the next `get` is
/// silent). Against a profile that has since gained `tls.ca`, the same legacy entry is
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
    let first = env.cmd().args(["get", "-p", "prod"]).output().unwrap();
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    assert_eq!(text(&first.stdout).trim(), TOKEN);
    let said = text(&first.stderr);
    assert_eq!(said.matches(NOTICE).count(), 1, "{said}");
    assert!(!said.contains(TOKEN));
    let migrated = crate::planted::read(&env, "prod");
    assert_eq!(
        migrated["cluster"]["tls"],
        serde_json::json!({"disable": false, "insecure": false, "ca": null}),
        "{migrated}"
    );
    assert_eq!(migrated["cluster"]["product"], "clustered");
    assert_eq!(migrated["token"], TOKEN);
    let second = env.cmd().args(["get", "-p", "prod"]).output().unwrap();
    assert_eq!(second.status.code(), Some(0), "{}", text(&second.stderr));
    assert!(!text(&second.stderr).contains(NOTICE), "{}", text(&second.stderr));

    // The same legacy entry, the profile now trusting another CA: refused, not rewritten.
    legacy(&env);
    env.write_influxctl_config(&format!("{BOUND}  [profile.tls]\n    ca = \"/tmp/evil-ca.pem\"\n"));
    let out = env.cmd().args(["get", "-p", "prod"]).output().unwrap();
    let said = text(&out.stderr);
    assert_eq!(out.status.code(), Some(7), "{said}");
    assert!(said.contains("cluster-mismatch") && said.contains("tls.ca"), "{said}");
    assert!(!text(&out.stdout).contains(TOKEN) && !said.contains(TOKEN));
    assert!(crate::planted::read(&env, "prod")["cluster"].get("tls").is_none(), "rewritten");
}
