//! One live `helper` session against the file store, changed under it between requests: what
//! a session keeps (influxctl's config, the folder walks, the open audit log) must never let a
//! change that matters go unseen on the next request.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::process::{Child, ChildStdin, ChildStdout, Stdio};

use serde_json::Value;

use crate::util::{TOKEN, TestEnv, text};

const CONFIG: &str = "[[profile]]\n  name = \"prod\"\n  product = \"clustered\"\n  host = \"good.example.com\"\n  port = 443\n";

struct Session {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    next: u32,
}

impl Session {
    fn start(env: &TestEnv) -> Session {
        let c = env.cmd();
        let mut cmd = std::process::Command::new(c.get_program());
        cmd.env_clear();
        for (k, v) in c.get_envs() {
            if let Some(v) = v {
                cmd.env(k, v);
            }
        }
        let mut child = cmd
            .arg("helper")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("helper starts");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = BufReader::new(child.stdout.take().expect("stdout"));
        Session { child, stdin, stdout, next: 1 }
    }

    /// The answer to a `get` of prod.
    fn get(&mut self) -> Value {
        let id = self.next;
        self.next += 1;
        writeln!(self.stdin, r#"{{"v":1,"id":{id},"kind":"get","profile":"prod"}}"#).unwrap();
        self.stdin.flush().unwrap();
        let mut line = String::new();
        self.stdout.read_line(&mut line).expect("an answer");
        let answer: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert_eq!(answer["id"], id, "{answer}");
        answer
    }

    fn end(self) -> String {
        drop(self.stdin);
        let out = self.child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0));
        text(&out.stderr)
    }
}

fn ok(answer: &Value) {
    assert_eq!(answer["ok"]["token"], TOKEN, "{answer}");
}

fn refused(answer: &Value, kind: &str) {
    assert_eq!(answer["error"]["kind"], kind, "{answer}");
    assert!(!answer.to_string().contains(TOKEN), "{answer}");
}

fn chmod(path: &std::path::Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// How many helper releases the log at `path` holds.
fn released(path: &std::path::Path) -> usize {
    let log = std::fs::read_to_string(path).unwrap_or_default();
    log.lines().filter(|l| l.contains("\"command\":\"helper\"") && l.contains("released")).count()
}

#[test]
fn a_session_sees_every_change_that_matters_on_the_next_request() {
    let env = TestEnv::new();
    let config = env.write_influxctl_config(CONFIG);
    env.cmd()
        .args(["store", "-p", "prod", "--store", "file"])
        .write_stdin(TOKEN)
        .assert()
        .success();
    env.cmd().args(["get", "-p", "prod"]).assert().success();
    // Files changed within the last second or so are never kept: let them age, so that the
    // session below keeps influxctl's config and is tested on what it kept.
    std::thread::sleep(std::time::Duration::from_millis(2200));
    let mut s = Session::start(&env);
    ok(&s.get());
    ok(&s.get());

    // A folder above the store made group- or world-writable mid-session: refused next time.
    for mode in [0o770, 0o707] {
        chmod(&env.cred_home(), mode);
        refused(&s.get(), "store-unavailable");
        chmod(&env.cred_home(), 0o700);
        ok(&s.get());
    }
    // The same for the folder of influxctl's config (it decides where the token goes).
    let folder = config.parent().unwrap().to_owned();
    chmod(&folder, 0o777);
    refused(&s.get(), "invalid-request");
    chmod(&folder, 0o755);
    ok(&s.get());

    // The config edited in place to point elsewhere (same length): cluster-mismatch next time.
    std::fs::write(&config, CONFIG.replace("good.example.com", "evil.example.com")).unwrap();
    refused(&s.get(), "cluster-mismatch");
    std::fs::write(&config, CONFIG).unwrap();
    ok(&s.get());

    // The audit log rotated by another process mid-session: the next release lands in the new
    // log, none in the rotated one.
    let (log, rotated) =
        (env.cred_home().join("audit.jsonl"), env.cred_home().join("audit.jsonl.1"));
    let before = released(&log);
    assert_eq!(before, 6, "one line per release so far");
    std::fs::rename(&log, &rotated).unwrap();
    ok(&s.get());
    assert_eq!((released(&log), released(&rotated)), (1, before));

    let stderr = s.end();
    assert!(!stderr.contains(TOKEN), "{stderr}");
    assert!(env.files_containing(TOKEN).is_empty(), "no plaintext on disk");
}
