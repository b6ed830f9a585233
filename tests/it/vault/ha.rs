//! Availability: a 3-node raft cluster whose leader is killed while writes go on loses no
//! acknowledged write; a sealed server and a dead address are `store-unavailable` (exit 5)
//! within `vault_timeout`, and nothing stored is lost.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::Machine;
use crate::openbao::cluster::Cluster;
use crate::openbao::{Bao, free_port_pair};
use crate::util::TOKEN;

#[test]
#[ignore = "needs OpenBao (bao)"]
fn raft_leader_killed_while_writes_go_on_loses_no_acknowledged_write() {
    let mut cluster = Cluster::start();
    let leader = cluster.leader().expect("an active node");
    // Keep every version (KV v2 keeps 10 by default), so that each acknowledged write is
    // checked, not only the last ten.
    let root = cluster.root.clone();
    cluster.cli(leader, &root, &["write", "secret/config", "max_versions=100"]);
    // The leader first in addrs, so that its death is the first thing every request meets.
    let mut addrs = cluster.addrs();
    addrs.swap(0, leader);
    let m = Machine::with(&addrs, Some(&cluster.root), "", "vault_timeout = \"30s\"");
    let done = AtomicUsize::new(0);
    let writes = 24;
    let acknowledged: Vec<(String, String)> = std::thread::scope(|scope| {
        let writer = scope.spawn(|| {
            let mut acked = Vec::new();
            for i in 0..writes {
                let profile = if i % 2 == 0 { "prod" } else { "stage" };
                let token = format!("M.V1.test-ha-{i:02}-0123456789abcdef");
                let r = m.store(profile, &token, &[]);
                assert_eq!(r.code, 0, "write {i} failed over {:?}: {}", r.took, r.stderr);
                acked.push((profile.to_owned(), token));
                done.fetch_add(1, Ordering::SeqCst);
            }
            acked
        });
        while done.load(Ordering::SeqCst) < 6 {
            std::thread::sleep(Duration::from_millis(20));
        }
        cluster.kill(leader);
        writer.join().expect("writer thread")
    });
    assert_eq!(acknowledged.len(), writes);
    let next = cluster.wait_new_leader(leader, Duration::from_secs(30));
    // A machine that knows only the standby still reads (the standby forwards the request or
    // redirects to the active node, on the same host).
    let standby = (0..3).find(|&i| i != leader && i != next).unwrap();
    let only_standby = [cluster.nodes[standby].addr.clone()];
    let s = Machine::with(&only_standby, Some(&cluster.root), "", "vault_timeout = \"30s\"");
    let last = &acknowledged.last().unwrap();
    assert_eq!(s.get(&last.0).map_err(|r| r.stderr), Ok(last.1.clone()), "through the standby");
    // Every acknowledged write is there: the last of each profile is what reads, and each one
    // is a version of its secret.
    for profile in ["prod", "stage"] {
        let last = acknowledged.iter().rev().find(|(p, _)| p == profile).unwrap();
        assert_eq!(m.get(profile).map_err(|r| r.stderr), Ok(last.1.clone()), "{profile}");
        let path = format!("secret/influxctl-cred/{profile}");
        let meta =
            cluster.cli(next, &cluster.root, &["kv", "metadata", "get", "-format=json", &path]);
        let meta: serde_json::Value = serde_json::from_str(&meta).unwrap();
        let count = acknowledged.iter().filter(|(p, _)| p == profile).count() as u64;
        assert_eq!(meta["data"]["current_version"].as_u64(), Some(count), "{profile}: {meta}");
        for (v, (_, token)) in acknowledged.iter().filter(|(p, _)| p == profile).enumerate() {
            let version = format!("-version={}", v + 1);
            let got =
                cluster.cli(next, &cluster.root, &["kv", "get", &version, "-field=token", &path]);
            assert_eq!(got.trim(), token, "{profile} version {}", v + 1);
        }
    }
}

#[test]
#[ignore = "needs OpenBao (bao)"]
fn sealed_server_and_dead_address_are_store_unavailable_within_the_timeout() {
    let bao = Bao::dev();
    let m = Machine::new(&bao.addr, &bao.root);
    assert_eq!(m.store("prod", TOKEN, &[]).code, 0);
    bao.ok(&["operator", "seal"]);

    let bound = Duration::from_secs(2 + 6); // vault_timeout, plus one request and start-up
    let r = m.get("prod").expect_err("a sealed server served a token");
    assert_eq!(r.code, 5, "{}", r.stderr);
    assert!(r.took < bound, "sealed: gave up after {:?}", r.took);
    assert!(r.stderr.contains(&bao.addr), "names the address: {}", r.stderr);
    assert!(r.stderr.contains("the vault server is sealed"), "says sealed: {}", r.stderr);
    assert!(r.stderr.contains("bao operator unseal"), "says how to unseal: {}", r.stderr);
    let r = m.store("prod", "M.V1.test-while-sealed-0123456789abcdef", &[]);
    assert_eq!(r.code, 5, "{}", r.stderr);
    assert!(r.took < bound, "sealed write: gave up after {:?}", r.took);

    let dead = format!("http://127.0.0.1:{}", free_port_pair());
    let d = Machine::new(&dead, &bao.root);
    let r = d.get("prod").expect_err("nothing listens there");
    assert_eq!(r.code, 5, "{}", r.stderr);
    assert!(r.took < bound, "dead address: gave up after {:?}", r.took);
    assert!(r.stderr.contains(&dead), "names the address: {}", r.stderr);
    let r = d.run(&["list"]);
    assert_eq!(r.code, 5, "list must not say 'no entries' when the store is gone: {}", r.stderr);

    // Unsealed again, the entry is the one written before.
    bao.ok(&["operator", "unseal", &bao.unseal_key()]);
    assert_eq!(m.get("prod").map_err(|r| r.stderr), Ok(TOKEN.to_owned()));
}
