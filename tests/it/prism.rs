//! The validating mock of the Management API (docs/spec.md §11): prism (`@stoplight/prism-cli`, pinned
//! in package.json, installed by `npm ci`) serving InfluxData's OpenAPI documents from
//! tests/fixtures/openapi/ on a free loopback port. One prism per document per test-binary run,
//! started on first use; a watchdog ends it within a second of the test binary's exit. Its log
//! says "Violation" for every request that breaks the document, and [`Prism::assert_clean`]
//! fails the test on any.

#![allow(dead_code)]

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Which document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Doc {
    Dedicated,
    Clustered,
}

impl Doc {
    fn file(self) -> &'static str {
        match self {
            Doc::Dedicated => "cloud-dedicated-management-openapi.yml",
            Doc::Clustered => "clustered-management-openapi.yml",
        }
    }
}

/// A running prism.
pub struct Prism {
    /// `http://127.0.0.1:PORT`: the documents' paths are served at its root.
    pub url: String,
    pub log: PathBuf,
    pub pid: u32,
    /// Kept, never waited for: the watchdog ends prism after the test binary exits.
    _children: [Child; 2],
}

/// The prism serving `doc`, started on first use.
pub fn prism(doc: Doc) -> &'static Prism {
    static DEDICATED: OnceLock<Prism> = OnceLock::new();
    static CLUSTERED: OnceLock<Prism> = OnceLock::new();
    let cell = match doc {
        Doc::Dedicated => &DEDICATED,
        Doc::Clustered => &CLUSTERED,
    };
    cell.get_or_init(|| Prism::start(doc))
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The prism program: `$INFLUXCTL_CRED_PRISM`, else `node_modules/.bin/prism` of the repo.
fn program() -> PathBuf {
    if let Some(p) = std::env::var_os("INFLUXCTL_CRED_PRISM").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    let p = root().join("node_modules/.bin/prism");
    assert!(
        p.exists(),
        "{} is missing: run `npm ci` in the repository (scripts/install-test-deps does)",
        p.display()
    );
    p
}

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    l.local_addr().expect("addr").port()
}

impl Prism {
    fn start(doc: Doc) -> Prism {
        let port = free_port();
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        std::fs::create_dir_all(&dir).expect("target tmp dir");
        let log = dir.join(format!("prism-{doc:?}-{}-{port}.log", std::process::id()));
        let out = std::fs::File::create(&log).expect("prism log");
        let spec = root().join("tests/fixtures/openapi").join(doc.file());
        let child = Command::new(program())
            .args(["mock", "-h", "127.0.0.1", "-p", &port.to_string()])
            .arg(&spec)
            .env("SCARF_ANALYTICS", "false")
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("dup log"))
            .stderr(out)
            .spawn()
            .expect("start prism");
        let pid = child.id();
        // Ends prism when this test binary is gone, whatever way it went.
        let watchdog = Command::new("sh")
            .args([
                "-c",
                "while kill -0 \"$0\" 2>/dev/null; do sleep 1; done; kill \"$1\" 2>/dev/null",
            ])
            .arg(std::process::id().to_string())
            .arg(pid.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start prism watchdog");
        let prism = Prism {
            url: format!("http://127.0.0.1:{port}"),
            log,
            pid,
            _children: [child, watchdog],
        };
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let up = prism.log_text().contains("Prism is listening")
                && TcpStream::connect(("127.0.0.1", port)).is_ok();
            if up {
                return prism;
            }
            assert!(
                Instant::now() < deadline,
                "prism did not start within 90 s; its log:\n{}",
                prism.log_text()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The whole log so far.
    pub fn log_text(&self) -> String {
        read_lossy(&self.log)
    }

    /// The log's "Violation" lines.
    pub fn violations(&self) -> Vec<String> {
        self.log_text().lines().filter(|l| l.contains("Violation")).map(str::to_owned).collect()
    }

    /// Fails on any violation so far (after a moment for prism to finish logging).
    pub fn assert_clean(&self) {
        std::thread::sleep(Duration::from_millis(300));
        let v = self.violations();
        assert!(v.is_empty(), "prism saw requests that break the document:\n{}", v.join("\n"));
    }

    /// Whether prism logged a request `method path` (prism writes the method in lower case).
    pub fn saw(&self, method: &str, path: &str) -> bool {
        let needle = format!("{} {path} ", method.to_lowercase());
        self.log_text().lines().any(|l| l.contains("[HTTP SERVER]") && l.contains(&needle))
    }
}

fn read_lossy(path: &Path) -> String {
    let mut bytes = Vec::new();
    if let Ok(mut f) = std::fs::File::open(path) {
        let _ = f.read_to_end(&mut bytes);
    }
    String::from_utf8_lossy(&bytes).into_owned()
}
