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
/// hand the token out — get, exec, helper get, verify, doctor --online, exec --database-token —
/// the answer is `cluster-mismatch`, influxctl never runs, and the listener hears nothing.
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
    env.write_influxctl_config(&profile("127.0.0.1", good.addr.port(), ""));
    env.cmd()
        .args(["store", "-p", "prod", "--store", "file"])
        .write_stdin(TOKEN)
        .assert()
        .success();
    // Bound and served while the profile is unchanged.
    env.cmd().args(["verify", "-p", "prod"]).assert().success();
    assert_eq!(good.requests().len(), 1);

    let report = env.path().join("report.json");
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
        assert_eq!(evil.requests().len(), 0, "the attacker's listener was reached: {moved}");
        assert_eq!(good.requests().len(), 1, "a request went out for {moved}");
    }
}
