//! `verify` and the Management API client, through the real binary: against prism built from
//! InfluxData's documents (valid tokens, both products, no "Violation"), and against our own
//! server for what prism cannot show (401/403/5xx, a slow server, TLS with a private CA, plain
//! HTTP), `doctor --online` (which verifies every stored token), plus the paths that must never
//! touch HTTP.

use std::time::{Duration, Instant};

use crate::apiserver::{ApiServer, Reply, TestPki};
use crate::prism::{Doc, prism};
use crate::util::{TOKEN, TestEnv, text};

/// A UUID v4-shaped id, different per test, so that prism's shared log can be told apart.
pub fn uuid(n: u32) -> String {
    format!("{n:08x}-1111-4111-8111-111111111111")
}

fn dedicated(account: &str, cluster: &str) -> String {
    format!(
        "[[profile]]\n  name = \"prod\"\n  product = \"dedicated\"\n  account_id = \"{account}\"\n  cluster_id = \"{cluster}\"\n"
    )
}

fn clustered(host: &str, port: u16, tls: &str) -> String {
    format!(
        "[[profile]]\n  name = \"prod\"\n  product = \"clustered\"\n  host = \"{host}\"\n  port = \"{port}\"\n{tls}"
    )
}

/// `influxctl-cred verify -p prod` with the token in the env store.
fn verify(env: &TestEnv, api_url: Option<&str>, extra: &[&str]) -> std::process::Output {
    let mut cmd = env.cmd();
    cmd.args(["verify", "-p", "prod"]).args(extra).env("INFLUXCTL_CRED_TOKEN_PROD", TOKEN);
    if let Some(url) = api_url {
        cmd.env("INFLUXCTL_CRED_API_URL", url);
    }
    let out = cmd.output().expect("run verify");
    assert!(!text(&out.stdout).contains(TOKEN) && !text(&out.stderr).contains(TOKEN));
    out
}

fn ok_databases() -> Reply {
    Reply::json(
        200,
        r#"[{"name":"DatabaseOne","maxTables":500,"maxColumnsPerTable":200,"retentionPeriod":0}]"#,
    )
}

/// A loopback port with nothing listening.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

#[test]
#[ignore = "needs prism (npm)"]
fn verify_dedicated_against_prism_is_valid_without_violation() {
    let p = prism(Doc::Dedicated);
    let env = TestEnv::new();
    let (account, cluster) = (uuid(0x5e71f1), uuid(0x5e71f2));
    env.write_influxctl_config(&dedicated(&account, &cluster));
    let out = verify(&env, Some(&p.url), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("prod: valid"), "{}", text(&out.stdout));
    assert!(p.saw("GET", &format!("/accounts/{account}/clusters/{cluster}/databases")));
    p.assert_clean();
}

#[test]
#[ignore = "needs prism (npm)"]
fn verify_clustered_against_prism_is_valid_without_violation() {
    let p = prism(Doc::Clustered);
    let env = TestEnv::new();
    env.write_influxctl_config(&clustered("influx.example.com", 8443, ""));
    let out = verify(&env, Some(&p.url), &["--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["status"], "valid");
    assert_eq!(v["databases"], 2, "the document's example lists two");
    assert!(p.saw("GET", "/databases"));
    p.assert_clean();
}

#[test]
fn verify_rejected_token_exits_9_and_names_it_invalid() {
    let server = ApiServer::start(|_| Reply::json(401, r#"{"code":401,"message":"unauthorized"}"#));
    let env = TestEnv::new();
    env.write_influxctl_config(&dedicated(&uuid(1), &uuid(2)));
    let out = verify(&env, Some(&server.url()), &["-v"]);
    assert_eq!(out.status.code(), Some(9), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("invalid") && err.contains("HTTP 401") && err.contains("unauthorized"),
        "{err}"
    );
    assert!(err.contains("kind: api-error"), "{err}");
    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].method, "GET");
    assert_eq!(reqs[0].path, format!("/accounts/{}/clusters/{}/databases", uuid(1), uuid(2)));
    assert_eq!(reqs[0].header("authorization"), Some(format!("Bearer {TOKEN}").as_str()));
    assert_eq!(reqs[0].header("accept"), Some("application/json"));
}

#[test]
fn verify_forbidden_token_says_under_privileged() {
    let server = ApiServer::start(|_| Reply::json(403, r#"{"code":403,"message":"forbidden"}"#));
    let env = TestEnv::new();
    env.write_influxctl_config(&dedicated(&uuid(3), &uuid(4)));
    let out = verify(&env, Some(&server.url()), &["--format", "json"]);
    assert_eq!(out.status.code(), Some(9));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!((v["status"].as_str(), v["kind"].as_str()), (Some("invalid"), Some("api-error")));
    assert!(v["message"].as_str().unwrap_or_default().contains("under-privileged"), "{v}");
}

#[test]
fn verify_server_error_carries_code_and_message() {
    let server = ApiServer::start(|_| {
        Reply::json(500, r#"{"code":500,"message":"database catalog unavailable"}"#)
    });
    let env = TestEnv::new();
    env.write_influxctl_config(&dedicated(&uuid(5), &uuid(6)));
    let out = verify(&env, Some(&server.url()), &["--format", "json"]);
    assert_eq!(out.status.code(), Some(9));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["status"], "error");
    let msg = v["message"].as_str().unwrap_or_default();
    assert!(msg.contains("HTTP 500") && msg.contains("database catalog unavailable"), "{msg}");
}

#[test]
fn verify_uses_settings_api_url_and_env_overrides_it() {
    let server = ApiServer::start(|_| ok_databases());
    let env = TestEnv::new();
    env.write_influxctl_config(&dedicated(&uuid(15), &uuid(16)));
    let settings = env.cred_home().join("config.toml");
    std::fs::write(&settings, format!("api_url = \"{}/\"\n", server.url())).expect("settings");
    let out = verify(&env, None, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(server.requests().len(), 1);
    let closed = format!("http://127.0.0.1:{}", closed_port());
    std::fs::write(&settings, format!("api_url = \"{closed}\"\n")).expect("settings");
    let out = verify(&env, Some(&server.url()), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(server.requests().len(), 2);
}

#[test]
fn verify_closed_port_is_unreachable_exit_1() {
    let env = TestEnv::new();
    env.write_influxctl_config(&dedicated(&uuid(7), &uuid(8)));
    let url = format!("http://127.0.0.1:{}", closed_port());
    let out = verify(&env, Some(&url), &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), "prod: unreachable");
    let err = text(&out.stderr);
    assert!(
        err.contains("cannot reach the Management API") && err.contains("kind: other"),
        "{err}"
    );
}

#[test]
fn verify_slow_server_times_out_as_unreachable() {
    let server = ApiServer::start(|_| ok_databases().after(Duration::from_secs(8)));
    let env = TestEnv::new();
    env.write_influxctl_config(&dedicated(&uuid(9), &uuid(10)));
    let started = Instant::now();
    let out = env
        .cmd()
        .args(["verify", "-p", "prod"])
        .env("INFLUXCTL_CRED_TOKEN_PROD", TOKEN)
        .env("INFLUXCTL_CRED_API_URL", server.url())
        .env("INFLUXCTL_CRED_API_TIMEOUT", "1s")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("timed out"), "{}", text(&out.stderr));
    assert!(started.elapsed() < Duration::from_secs(6), "{:?}", started.elapsed());
}

#[test]
fn verify_bad_timeout_setting_is_a_usage_error() {
    let server = ApiServer::start(|_| ok_databases());
    let env = TestEnv::new();
    env.write_influxctl_config(&dedicated(&uuid(17), &uuid(18)));
    let out = env
        .cmd()
        .args(["verify", "-p", "prod"])
        .env("INFLUXCTL_CRED_TOKEN_PROD", TOKEN)
        .env("INFLUXCTL_CRED_API_URL", server.url())
        .env("INFLUXCTL_CRED_API_TIMEOUT", "soon")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("INFLUXCTL_CRED_API_TIMEOUT"), "{}", text(&out.stderr));
    assert!(server.requests().is_empty());
}

#[test]
fn verify_clustered_https_trusts_the_profile_ca() {
    let pki = TestPki::new();
    let server = ApiServer::start_tls(pki.server.clone(), |_| ok_databases());
    let env = TestEnv::new();
    let ca = env.path().join("ca.pem");
    std::fs::write(&ca, &pki.ca_pem).expect("write ca");
    let tls = format!("  [profile.tls]\n    ca = \"{}\"\n", ca.display());
    env.write_influxctl_config(&clustered("127.0.0.1", server.port(), &tls));
    let out = verify(&env, None, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].path, "/api/v0/databases");
    assert_eq!(reqs[0].header("authorization"), Some(format!("Bearer {TOKEN}").as_str()));
}

#[test]
fn verify_private_ca_without_ca_option_is_refused() {
    let pki = TestPki::new();
    let server = ApiServer::start_tls(pki.server.clone(), |_| ok_databases());
    let env = TestEnv::new();
    env.write_influxctl_config(&clustered("127.0.0.1", server.port(), ""));
    let out = verify(&env, None, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("cannot reach"), "{}", text(&out.stderr));
    assert!(server.requests().is_empty(), "no request may pass an untrusted handshake");
}

#[test]
fn verify_insecure_profile_accepts_unknown_ca_with_warning() {
    let pki = TestPki::new();
    let server = ApiServer::start_tls(pki.server.clone(), |_| ok_databases());
    let env = TestEnv::new();
    let tls = "  [profile.tls]\n    insecure = true\n";
    env.write_influxctl_config(&clustered("127.0.0.1", server.port(), tls));
    let out = verify(&env, None, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("insecure"), "{}", text(&out.stderr));
}

#[test]
fn verify_tls_disable_uses_plain_http() {
    let server = ApiServer::start(|_| ok_databases());
    let env = TestEnv::new();
    let tls = "  [profile.tls]\n    disable = true\n";
    env.write_influxctl_config(&clustered("127.0.0.1", server.port(), tls));
    let out = verify(&env, None, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(server.requests()[0].path, "/api/v0/databases");
}

#[test]
fn verify_missing_ca_file_is_an_error_before_any_request() {
    let server = ApiServer::start(|_| ok_databases());
    let env = TestEnv::new();
    let tls = "  [profile.tls]\n    ca = \"/nonexistent/ca.pem\"\n";
    env.write_influxctl_config(&clustered("127.0.0.1", server.port(), tls));
    let out = verify(&env, Some(&server.url()), &[]);
    assert_ne!(out.status.code(), Some(0));
    assert!(text(&out.stderr).contains("/nonexistent/ca.pem"), "{}", text(&out.stderr));
    assert!(server.requests().is_empty());
}

#[test]
fn verify_without_token_or_with_bad_flag_sends_nothing() {
    let server = ApiServer::start(|_| ok_databases());
    let env = TestEnv::new();
    env.write_influxctl_config(&dedicated(&uuid(11), &uuid(12)));
    let out = env
        .cmd()
        .args(["verify", "-p", "prod"])
        .env("INFLUXCTL_CRED_API_URL", server.url())
        .output()
        .expect("run");
    // not-found (3), or store-unavailable (5) where a store could not be asked.
    assert!(matches!(out.status.code(), Some(3 | 5)), "{}", text(&out.stderr));
    let out = verify(&env, Some(&server.url()), &["--format", "nonsense"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(server.requests().is_empty());
}

#[test]
fn get_and_list_never_touch_http() {
    let server = ApiServer::start(|_| ok_databases());
    let env = TestEnv::new();
    env.write_influxctl_config(&dedicated(&uuid(13), &uuid(14)));
    let closed = format!("http://127.0.0.1:{}", closed_port());
    let fake = crate::fake_influxctl::binary().to_string_lossy().into_owned();
    let report = env.path().join("report.json");
    let plain_exec = ["exec", "-p", "prod", "--", &fake, "database", "list"];
    for url in [server.url(), closed] {
        for args in [&["get", "-p", "prod"][..], &["list"][..], &plain_exec[..]] {
            let _ = std::fs::remove_file(&report);
            let out = env
                .cmd()
                .args(args)
                .env("INFLUXCTL_CRED_TOKEN_PROD", TOKEN)
                .env("INFLUXCTL_CRED_API_URL", &url)
                .env("FAKE_INFLUXCTL_REPORT", &report)
                .output()
                .expect("run");
            assert_eq!(out.status.code(), Some(0), "{args:?}: {}", text(&out.stderr));
        }
        let got = crate::fake_influxctl::report(&report).expect("plain exec ran the stand-in");
        assert_eq!(got["mgmt_token_sha256"], crate::fake_influxctl::sha256(TOKEN));
        assert!(got["env_influx_token_sha256"].is_null(), "plain exec made a database token");
    }
    let out =
        env.cmd().args(["get", "-p", "prod"]).env("INFLUXCTL_CRED_TOKEN_PROD", TOKEN).output();
    assert_eq!(text(&out.expect("run").stdout).trim(), TOKEN);
    assert!(server.requests().is_empty(), "get/list/exec sent {:?}", server.requests());
}

#[test]
fn doctor_online_verifies_every_stored_token() {
    // prod's account accepts the token; stage's refuses it.
    let (prod, stage) = ((uuid(19), uuid(20)), (uuid(23), uuid(24)));
    let refusing = format!("/accounts/{}/", stage.0);
    let server = ApiServer::start(move |r| {
        if r.path.starts_with(&refusing) {
            Reply::json(401, r#"{"code":401,"message":"unauthorized"}"#)
        } else {
            ok_databases()
        }
    });
    let env = TestEnv::new();
    let stage_profile = dedicated(&stage.0, &stage.1).replace("\"prod\"", "\"stage\"");
    env.write_influxctl_config(&(dedicated(&prod.0, &prod.1) + &stage_profile));
    let doctor = |args: &[&str]| {
        let out = env
            .cmd()
            .args(args)
            .env("INFLUXCTL_CRED_TOKEN_PROD", TOKEN)
            .env("INFLUXCTL_CRED_TOKEN_STAGE", TOKEN)
            .env("INFLUXCTL_CRED_API_URL", server.url())
            .output()
            .expect("run doctor");
        assert!(!text(&out.stdout).contains(TOKEN) && !text(&out.stderr).contains(TOKEN));
        out
    };
    let out = doctor(&["doctor", "--online", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "a failed check: {}", text(&out.stderr));
    let checks: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("json");
    let find = |name: &str| {
        checks.iter().find(|c| c["name"] == name).unwrap_or_else(|| panic!("{name}: {checks:?}"))
    };
    let ok = find("api prod (env)");
    assert_eq!(ok["status"], "ok", "{ok}");
    assert!(ok["detail"].as_str().unwrap_or_default().starts_with("valid"), "{ok}");
    let refused = find("api stage (env)");
    assert_eq!(refused["status"], "fail", "{refused}");
    assert!(refused["detail"].as_str().unwrap_or_default().contains("HTTP 401"), "{refused}");
    let paths: Vec<String> = server.requests().iter().map(|r| r.path.clone()).collect();
    assert!(paths.contains(&format!("/accounts/{}/clusters/{}/databases", prod.0, prod.1)));
    // Without --online: no such line, no request.
    let before = server.requests().len();
    let out = doctor(&["doctor"]);
    assert!(!text(&out.stdout).contains("api prod"), "{}", text(&out.stdout));
    assert_eq!(server.requests().len(), before);
}

#[cfg(unix)]
#[test]
fn verify_refuses_a_profile_ca_that_is_a_fifo_or_writable_by_others_and_sends_nothing() {
    use std::os::unix::fs::PermissionsExt;
    let pki = TestPki::new();
    let server = ApiServer::start_tls(pki.server.clone(), |_| ok_databases());
    let env = TestEnv::new();
    let fifo = env.path().join("ca.fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).expect("mkfifo");
    let open = env.path().join("ca-open.pem");
    std::fs::write(&open, &pki.ca_pem).expect("write ca");
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o666)).expect("chmod");
    for ca in [&fifo, &open] {
        let tls = format!("  [profile.tls]\n    ca = \"{}\"\n", ca.display());
        env.write_influxctl_config(&clustered("127.0.0.1", server.port(), &tls));
        // A FIFO is refused at once, never waited on: a reader that blocks would hang here.
        let out = env
            .cmd()
            .args(["verify", "-p", "prod"])
            .env("INFLUXCTL_CRED_TOKEN_PROD", TOKEN)
            .timeout(Duration::from_secs(20))
            .output()
            .expect("run verify");
        assert_eq!(out.status.code(), Some(5), "{}: {}", ca.display(), text(&out.stderr));
        assert!(text(&out.stderr).contains(&ca.display().to_string()), "{}", text(&out.stderr));
        assert!(!text(&out.stderr).contains(TOKEN));
    }
    assert!(server.requests().is_empty(), "no request may go out with an untrusted CA file");
}
