//! What a cluster answers while it fails over, scripted on loopback so that each answer comes
//! every time (the real cluster is in `vault/ha.rs`): a standby during an election (500
//! "active cluster node not found") is retried; a check-and-set refused by a node behind the
//! others is tried again with the same version; a standby redirecting to a dead active node is
//! reported as that, under the standby's address (docs/vault.md, "High availability").

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::util::{TOKEN, TestEnv, text};
use crate::vault_redirect::recording;

const VAULT_TOKEN: &str = "s.failover-test-vault-token";
const WRITTEN: &str = r#"{"data":{"version":1,"created_time":"2026-12-01T00:00:00Z"}}"#;

fn store(addrs: &[&str], timeout: &str) -> (i32, String) {
    let env = TestEnv::new();
    let list: Vec<String> = addrs.iter().map(|a| format!("{a:?}")).collect();
    std::fs::write(
        env.cred_home().join("config.toml"),
        format!("[vault]\naddrs = [{}]\nvault_timeout = \"{timeout}\"\n", list.join(", ")),
    )
    .expect("settings");
    let out = env
        .cmd()
        .args(["store", "-p", "prod", "--store", "vault"])
        .env("BAO_TOKEN", VAULT_TOKEN)
        .write_stdin(format!("{TOKEN}\n"))
        .output()
        .expect("run");
    let err = text(&out.stderr);
    assert!(!err.contains(VAULT_TOKEN) && !err.contains(TOKEN), "{err}");
    (out.status.code().unwrap_or(-1), err)
}

#[test]
fn a_standby_during_an_election_is_retried_until_a_leader_answers() {
    let asked = Arc::new(AtomicUsize::new(0));
    let n = Arc::clone(&asked);
    let node = recording(move |line| {
        if n.fetch_add(1, Ordering::SeqCst) < 3 {
            let leaderless =
                r#"{"errors":["local node not active but active cluster node not found"]}"#;
            return (500, String::new(), leaderless.into());
        }
        match line.split(' ').next().unwrap_or("") {
            "GET" => (404, String::new(), r#"{"errors":[]}"#.into()),
            _ => (200, String::new(), WRITTEN.into()),
        }
    });
    let (code, err) = store(&[&node.addr], "20s");
    assert_eq!(code, 0, "{err}");
    assert!(asked.load(Ordering::SeqCst) > 3, "{err}");
}

#[test]
fn a_check_and_set_refused_on_older_data_is_tried_again_with_the_same_version() {
    let writes = Arc::new(AtomicUsize::new(0));
    let w = Arc::clone(&writes);
    let node = recording(move |line| {
        let post = line.starts_with("POST ") && line.contains("/data/");
        if post && w.fetch_add(1, Ordering::SeqCst) == 0 {
            let cas = r#"{"errors":["check-and-set parameter did not match the current version"]}"#;
            return (400, String::new(), cas.into());
        }
        match line.split(' ').next().unwrap_or("") {
            "GET" => (404, String::new(), r#"{"errors":[]}"#.into()),
            _ => (200, String::new(), WRITTEN.into()),
        }
    });
    let (code, err) = store(&[&node.addr], "20s");
    assert_eq!(code, 0, "no newer version exists, so no other writer: {err}");
    assert_eq!(writes.load(Ordering::SeqCst), 2, "{err}");
    let seen = node.seen();
    let bodies: Vec<&str> =
        seen.split("\n---\n").filter(|r| r.starts_with("POST ") && r.contains("/data/")).collect();
    assert!(bodies.iter().all(|b| b.contains(r#""cas":0"#)), "the same version each time: {seen}");

    // A newer version there after the refusal: another writer, locked (75) at once.
    let posted = Arc::new(AtomicUsize::new(0));
    let p = Arc::clone(&posted);
    let node = recording(move |line| match line.split(' ').next().unwrap_or("") {
        "GET" if line.contains("/metadata/") && p.load(Ordering::SeqCst) > 0 => {
            (200, String::new(), r#"{"data":{"current_version":4,"versions":{}}}"#.into())
        }
        "GET" => (404, String::new(), r#"{"errors":[]}"#.into()),
        _ => {
            p.fetch_add(1, Ordering::SeqCst);
            let cas = r#"{"errors":["check-and-set parameter did not match the current version"]}"#;
            (400, String::new(), cas.into())
        }
    });
    let start = std::time::Instant::now();
    let (code, err) = store(&[&node.addr], "20s");
    assert_eq!(code, 75, "{err}");
    assert_eq!(posted.load(Ordering::SeqCst), 1, "not tried again: {err}");
    assert!(start.elapsed() < std::time::Duration::from_secs(10), "{:?}", start.elapsed());
}

#[test]
fn a_standby_redirecting_to_a_dead_active_node_is_reported_as_that() {
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        format!("http://{}", l.local_addr().expect("addr"))
    };
    let to = dead.clone();
    let standby = recording(move |line| {
        let path = line.split(' ').nth(1).unwrap_or("/");
        (307, format!("Location: {to}{path}\r\n"), String::new())
    });
    let (code, err) = store(&[&standby.addr, &dead], "1s");
    assert_eq!(code, 5, "{err}");
    let said = format!("{}: 307 redirect to {dead}, which gave no answer", standby.addr);
    assert!(err.contains(&said), "{err}");
    assert!(err.contains(&format!("{dead}: ")), "the dead node under its own address: {err}");
}
