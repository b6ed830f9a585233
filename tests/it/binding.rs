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
