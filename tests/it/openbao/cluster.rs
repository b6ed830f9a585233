//! A 3-node OpenBao raft cluster on loopback: three `bao server -config=…` (storage "raft",
//! `performance_multiplier = 1` so an election takes about a second, plain http on loopback),
//! `operator init` on node 0 with one key share, unseal it, `operator raft join` + unseal the
//! other two, autopilot told to make them voters after a second, and KV v2 at `secret/`.
//! [`Cluster::leader`] finds the active node; [`Cluster::kill`] kills a node by PID.

use std::time::{Duration, Instant};

use super::{Server, bao_cli, free_port_pair, health};

/// One node: its API address and process.
pub struct Node {
    pub addr: String,
    pub server: Server,
}

pub struct Cluster {
    pub nodes: Vec<Node>,
    pub root: String,
    unseal_key: String,
    pub dir: tempfile::TempDir,
}

fn wait(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "raft cluster: {what} not within {limit:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl Cluster {
    /// Starts, initializes and joins three nodes; waits until all three are voters.
    pub fn start() -> Cluster {
        let dir = tempfile::Builder::new().prefix("icred-raft-").tempdir().expect("temp dir");
        let mut nodes = Vec::new();
        for i in 0..3 {
            let port = free_port_pair();
            let home = dir.path().join(format!("n{i}"));
            std::fs::create_dir_all(home.join("data")).expect("mkdir node");
            let config = format!(
                r#"storage "raft" {{
  path = "{data}"
  node_id = "n{i}"
  performance_multiplier = 1
}}
listener "tcp" {{
  address = "127.0.0.1:{port}"
  cluster_address = "127.0.0.1:{cluster}"
  tls_disable = true
}}
api_addr = "http://127.0.0.1:{port}"
cluster_addr = "https://127.0.0.1:{cluster}"
"#,
                data = home.join("data").display(),
                cluster = port + 1,
            );
            let file = home.join("config.hcl");
            std::fs::write(&file, config).expect("write node config");
            let config_arg = format!("-config={}", file.display());
            let server = Server::spawn(&["server", &config_arg], &home, &[], home.join("log"));
            nodes.push(Node { addr: format!("http://127.0.0.1:{port}"), server });
        }
        for n in &nodes {
            wait("a node answering", Duration::from_secs(30), || health(&n.addr).is_some());
        }
        let mut cluster = Cluster { nodes, root: String::new(), unseal_key: String::new(), dir };
        let init = cluster.cli(
            0,
            "",
            &["operator", "init", "-key-shares=1", "-key-threshold=1", "-format=json"],
        );
        let init: serde_json::Value = serde_json::from_str(&init).expect("init JSON");
        cluster.unseal_key = init["unseal_keys_b64"][0].as_str().expect("unseal key").to_owned();
        cluster.root = init["root_token"].as_str().expect("root token").to_owned();
        cluster.unseal(0);
        let first = cluster.nodes[0].addr.clone();
        wait("node 0 active", Duration::from_secs(30), || health(&first) == Some(200));
        let root = cluster.root.clone();
        cluster.cli(
            0,
            &root,
            &["operator", "raft", "autopilot", "set-config", "-server-stabilization-time=1s"],
        );
        for i in 1..3 {
            cluster.cli(i, "", &["operator", "raft", "join", &first]);
            cluster.unseal(i);
        }
        wait("three voters", Duration::from_secs(60), || cluster.voters() == 3);
        cluster.cli(0, &root, &["secrets", "enable", "-version=2", "-path=secret", "kv"]);
        cluster
    }

    /// `bao ARGS` against node `i` with `token`; fails the test unless it succeeds; stdout.
    pub fn cli(&self, i: usize, token: &str, args: &[&str]) -> String {
        let out = bao_cli(&self.nodes[i].addr, token, self.dir.path(), args, None);
        assert!(
            out.status.success(),
            "bao {} on node {i}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn unseal(&self, i: usize) {
        self.cli(i, "", &["operator", "unseal", &self.unseal_key]);
    }

    /// The number of voters in the raft configuration, as the active node reports it.
    fn voters(&self) -> usize {
        let Some(leader) = self.leader() else { return 0 };
        let out = bao_cli(
            &self.nodes[leader].addr,
            &self.root,
            self.dir.path(),
            &["operator", "raft", "list-peers", "-format=json"],
            None,
        );
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(&out.stdout) else { return 0 };
        let servers = v["data"]["config"]["servers"].as_array().cloned().unwrap_or_default();
        servers.iter().filter(|s| s["voter"] == true).count()
    }

    /// The index of the active node, if one is active now.
    pub fn leader(&self) -> Option<usize> {
        self.nodes.iter().position(|n| health(&n.addr) == Some(200))
    }

    /// Waits until a node other than `not` is active; its index.
    pub fn wait_new_leader(&self, not: usize, limit: Duration) -> usize {
        let mut found = None;
        wait("a new leader", limit, || {
            found = self.leader().filter(|&i| i != not);
            found.is_some()
        });
        found.expect("a leader")
    }

    /// Kills node `i` (SIGKILL, by PID).
    pub fn kill(&mut self, i: usize) {
        self.nodes[i].server.kill();
    }

    /// Starts node `i` again after [`Cluster::kill`] (same config and raft data), unseals it,
    /// and waits until it is a standby again.
    pub fn restart(&mut self, i: usize) {
        let home = self.dir.path().join(format!("n{i}"));
        let config_arg = format!("-config={}", home.join("config.hcl").display());
        let log = home.join(format!("log.{}", super::random_hex()));
        self.nodes[i].server = Server::spawn(&["server", &config_arg], &home, &[], log);
        let addr = self.nodes[i].addr.clone();
        wait("a restarted node answering", Duration::from_secs(30), || health(&addr).is_some());
        self.unseal(i);
        wait("the restarted node a standby", Duration::from_secs(30), || {
            health(&addr) == Some(429)
        });
    }

    /// Every node's API address, for `addrs = [...]`.
    pub fn addrs(&self) -> Vec<String> {
        self.nodes.iter().map(|n| n.addr.clone()).collect()
    }
}
