//! Rotation single-flight across machines (docs/spec.md §12): eight separate homes, each its own
//! machine with its own store lock, auto-rotating one shared vault entry at once, against one
//! stand-in Management API (one server state file), create exactly one new token.

use std::process::Stdio;

use super::Machine;
use crate::openbao::Bao;

#[test]
#[ignore = "needs OpenBao (bao)"]
fn eight_machines_auto_rotating_one_shared_entry_create_exactly_one_token() {
    let bao = Bao::dev();
    let top = "auto_rotate = true\nlock_timeout = \"60s\"";
    let addrs = [bao.addr.clone()];
    let first = Machine::with(&addrs, Some(&bao.root), top, "vault_timeout = \"10s\"");
    // A token inside renew_before (7d): every `exec` below wants to rotate it.
    let r = first.run_in(
        &["create", "-p", "prod", "--ttl", "2d"],
        None,
        &[("FAKE_INFLUXCTL_OAUTH", "1")],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let old = r.stdout.lines().find_map(|l| l.strip_prefix("token_id: ")).unwrap().to_owned();
    let state = first.s.state_path();
    let state = state.to_str().unwrap();
    let others: Vec<Machine> = (1..8)
        .map(|_| Machine::with(&addrs, Some(&bao.root), top, "vault_timeout = \"10s\""))
        .collect();

    let children: Vec<_> = std::iter::once(&first)
        .chain(&others)
        .map(|m| {
            let report = m.s.env.path().join("report.json");
            m.std_cmd(&[
                ("FAKE_INFLUXCTL_STATE", state),
                ("FAKE_INFLUXCTL_REPORT", report.to_str().unwrap()),
            ])
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
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        first.assert_clean(&stderr);
        assert!(out.status.success(), "{stderr}");
        // One rotates; the others wait for it and use its token, or (started after it was
        // done) find a token that needs no rotation.
        rotated_by += usize::from(stderr.contains("created the token"));
    }
    assert_eq!(first.s.calls("create").len(), 2, "the first create, and ONE rotation");
    assert_eq!(first.s.tokens().len(), 2);
    assert_eq!(rotated_by, 1, "one machine rotated, the others used its token");
    // Every machine now reads the new token, which works; the old one is revoked.
    let token = first.get("prod").map_err(|r| r.stderr).unwrap();
    let new = first.s.tokens().into_iter().find(|t| t["token"] == token.as_str()).unwrap();
    let new = new["id"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    assert!(first.s.works(&new) && !first.s.works(&old));
    // …and every influxctl was given the new token, not the old one.
    for m in std::iter::once(&first).chain(&others) {
        let report = crate::fake_influxctl::report(&m.s.env.path().join("report.json"));
        let got = report.expect("influxctl ran")["mgmt_token_sha256"].clone();
        assert_eq!(got, crate::fake_influxctl::sha256(&token), "a machine ran with the old token");
    }
    for m in &others {
        assert_eq!(m.get("prod").map_err(|r| r.stderr), Ok(token.clone()));
    }
    // The claim is gone from the entry once the rotation is written.
    let entry = super::stored_entry(&bao, "prod").unwrap();
    assert!(entry.get("rotating").is_none_or(|c| c.is_null()), "claim left behind: {entry}");
}

#[test]
#[ignore = "needs OpenBao (bao)"]
fn reader_with_auto_rotate_creates_nothing_and_keeps_serving_the_valid_token() {
    let bao = Bao::dev();
    bao.policy("reader", super::access::READER);
    let top = "auto_rotate = true";
    let admin = Machine::with(std::slice::from_ref(&bao.addr), Some(&bao.root), "", "");
    let r = admin.run_in(
        &["create", "-p", "prod", "--ttl", "2d"],
        None,
        &[("FAKE_INFLUXCTL_OAUTH", "1")],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let old = super::stored_entry(&bao, "prod").unwrap()["token"].as_str().unwrap().to_owned();

    let token = bao.token(&["reader"]);
    let reader = Machine::with(std::slice::from_ref(&bao.addr), Some(&token), top, "");
    let state = admin.s.state_path();
    let r = reader.run_in(
        &["get", "-p", "prod"],
        None,
        &[("FAKE_INFLUXCTL_STATE", state.to_str().unwrap())],
    );
    assert_eq!((r.code, r.stdout.trim()), (0, old.as_str()), "{}", r.stderr);
    assert!(r.stderr.contains("\"update\""), "says what the policy lacks: {}", r.stderr);
    assert_eq!(admin.s.calls("create").len(), 1, "a reader created a token it cannot store");
    assert_eq!(super::stored_entry(&bao, "prod").unwrap()["token"], old.as_str());
}

/// Writes `entry` plus a `rotating` marker until `until` into prod's secret, as another
/// machine's rotator would have (check-and-set on the version read).
fn plant_claim(bao: &Bao, until: jiff::Timestamp) {
    let got = bao.kv_get("influxctl-cred/prod").expect("entry");
    let version = got["data"]["metadata"]["version"].as_u64().unwrap();
    let mut data = got["data"]["data"].clone();
    data["rotating"] =
        serde_json::json!({"by": "ghost@elsewhere:4242", "until": until.to_string()});
    let file = bao.file("claimed.json", &data.to_string());
    let cas = format!("-cas={version}");
    bao.ok(&["kv", "put", &cas, "secret/influxctl-cred/prod", &format!("@{}", file.display())]);
    std::fs::remove_file(file).unwrap();
}

#[test]
#[ignore = "needs OpenBao (bao)"]
fn readers_keep_working_during_a_claim_and_a_dead_rotators_claim_is_taken_over() {
    let bao = Bao::dev();
    let m = Machine::new(&bao.addr, &bao.root);
    let r =
        m.run_in(&["create", "-p", "prod", "--ttl", "2d"], None, &[("FAKE_INFLUXCTL_OAUTH", "1")]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let old = super::stored_entry(&bao, "prod").unwrap()["token"].as_str().unwrap().to_owned();

    // A live claim of another machine: the token stays readable, list works.
    let now = jiff::Timestamp::now();
    plant_claim(&bao, now + jiff::SignedDuration::from_mins(10));
    assert_eq!(m.get("prod").map_err(|r| r.stderr), Ok(old.clone()));
    let r = m.run(&["list", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);

    // That machine died: its claim expired. A rotation here takes it over and makes one token.
    plant_claim(&bao, now - jiff::SignedDuration::from_mins(1));
    let r = m.run_in(&["rotate", "-p", "prod"], None, &[("FAKE_INFLUXCTL_OAUTH", "1")]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(m.s.calls("create").len(), 2, "the first create and the rotation");
    let entry = super::stored_entry(&bao, "prod").unwrap();
    assert!(entry.get("rotating").is_none_or(|c| c.is_null()), "claim left behind: {entry}");
    let new = entry["token"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    assert_eq!(m.get("prod").map_err(|r| r.stderr), Ok(new));
}
