//! The harness itself: the dev server is up and the `bao` CLI works against it, the JWTs it
//! signs log in (and one for another subject does not), AppRole set-up gives a working login,
//! and a dropped server is gone. (The raft cluster is exercised by vault::ha alone: it costs
//! about 15 s to start.)

use super::Bao;
use super::jwt::{Signer, claims};

#[test]
#[ignore = "needs OpenBao (bao)"]
fn dev_server_answers_kv_put_and_get_and_dies_with_its_handle() {
    let bao = Bao::dev();
    bao.ok(&["kv", "put", "secret/selftest", "answer=42"]);
    let got = bao.kv_get("selftest").expect("kv get");
    assert_eq!(got["data"]["data"]["answer"], "42");
    assert_eq!(got["data"]["metadata"]["version"], 1);
    // The root token went in by the environment, not argv.
    let cmdline = std::fs::read(format!("/proc/{}/cmdline", bao.server.pid)).unwrap_or_default();
    assert!(!String::from_utf8_lossy(&cmdline).contains(&bao.root));
    let (pid, addr) = (bao.server.pid, bao.addr.clone());
    drop(bao);
    assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists(), "bao {pid} still runs");
    assert_eq!(super::health(&addr), None);
}

#[test]
#[ignore = "needs OpenBao (bao)"]
fn signed_jwt_logs_in_for_its_subject_only_and_approle_logs_in() {
    let bao = Bao::dev();
    let signer = Signer::new(&bao);
    bao.enable_jwt(&signer);
    bao.policy("reader", r#"path "secret/data/*" { capabilities = ["read"] }"#);
    bao.jwt_role("ci", "repo:example-org/app:ref:refs/heads/main", &["reader"]);
    let good = signer.sign(&claims("repo:example-org/app:ref:refs/heads/main"));
    let out = bao.cli_as(
        "",
        &["write", "-field=token", "auth/jwt/login", "role=ci", "jwt=-"],
        Some(&good),
    );
    assert!(out.status.success(), "jwt login: {}", String::from_utf8_lossy(&out.stderr));
    let bad = signer.sign(&claims("repo:example-org/other:ref:refs/heads/main"));
    let out = bao.cli_as("", &["write", "auth/jwt/login", "role=ci", "jwt=-"], Some(&bad));
    assert!(!out.status.success(), "a JWT for another subject logged in");

    let (role_id, secret_id) = bao.approle("ci", &["reader"]);
    let out = bao.cli_as(
        "",
        &[
            "write",
            "-field=token",
            "auth/approle/login",
            &format!("role_id={role_id}"),
            "secret_id=-",
        ],
        Some(&secret_id),
    );
    assert!(out.status.success(), "approle login: {}", String::from_utf8_lossy(&out.stderr));
}
