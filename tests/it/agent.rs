//! The agent (docs/spec.md §13, docs/agent.md) with a passphrase identity made by the reference `age -p`
//! on a pseudo-terminal: without the agent and a terminal a read is `interaction-required`;
//! after one `unlock` (typed on a pty) reads need no terminal; `lock` ends that; a peer of
//! another uid is refused; a SIGKILLed agent leaves no secret on disk; its memory is not
//! dumpable.

#![cfg(target_os = "linux")]

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::fake_influxctl::{binary, path_dir, path_with, report, sha256};
use crate::util::{TOKEN, TestEnv, files_containing, text};

const PASSPHRASE: &str = "correct horse battery";

const CONFIG: &str = r#"[[profile]]
  name = "prod"
  product = "dedicated"
  account_id = "acc-1"
  cluster_id = "clu-2"

[[profile]]
  name = "stage"
  product = "dedicated"
  account_id = "acc-1"
  cluster_id = "clu-3"
"#;

fn chmod(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// A home whose only identity is `locked.age` (made by `age -p`), an entry for `prod` encrypted
/// to it, and the agent that `unlock` started, killed (by pid) on drop.
struct Setup {
    env: TestEnv,
    /// The `AGE-SECRET-KEY-1…` line inside `locked.age` (its plaintext file is deleted).
    secret: String,
    agent: Option<u32>,
}

impl Setup {
    fn new() -> Setup {
        let env = TestEnv::new();
        env.write_influxctl_config(CONFIG);
        let plain = env.path().join("plain.txt");
        let made = Command::new("age-keygen").arg("-o").arg(&plain).output().unwrap();
        assert!(made.status.success(), "{}", text(&made.stderr));
        let locked = env.cred_home().join("locked.age");
        let typed = Command::new("python3")
            .arg(pty_script())
            .arg(PASSPHRASE)
            .args(["age", "-p", "-o"])
            .arg(&locked)
            .arg(&plain)
            .output()
            .unwrap();
        assert!(typed.status.success(), "age -p: {}", text(&typed.stderr));
        chmod(&locked, 0o600);
        let settings = env.cred_home().join("config.toml");
        std::fs::write(&settings, "identities = [\"locked.age\"]\n").unwrap();
        chmod(&settings, 0o600);
        // The entry, written with the unprotected copy of the same key, bound to `prod`.
        let out = env
            .cmd()
            .env("INFLUXCTL_CRED_AGE_IDENTITY_FILE", &plain)
            .args(["store", "-p", "prod", "--store", "file"])
            .write_stdin(format!("{TOKEN}\n"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let key = std::fs::read_to_string(&plain).unwrap();
        let secret = key.lines().find(|l| l.starts_with("AGE-SECRET-KEY-1")).unwrap().to_owned();
        std::fs::remove_file(&plain).unwrap();
        Setup { env, secret, agent: None }
    }

    fn run_dir(&self) -> PathBuf {
        self.env.cred_home().join("run")
    }

    /// `influxctl-cred ARGS` with no terminal (stdin is /dev/null, CI is set).
    fn run(&self, args: &[&str]) -> (i32, String, String) {
        let out = self.env.cmd().args(args).output().unwrap();
        (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
    }

    /// `unlock` on a pseudo-terminal, typing the passphrase; remembers the agent's pid.
    fn unlock(&mut self) -> (i32, String) {
        let p = self.env.path();
        let out = Command::new("python3")
            .arg(pty_script())
            .arg(PASSPHRASE)
            .arg(env!("CARGO_BIN_EXE_influxctl-cred"))
            .arg("unlock")
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", p.join("home"))
            .env("XDG_CONFIG_HOME", p.join("xdg-config"))
            .env("XDG_DATA_HOME", p.join("xdg-data"))
            .env("INFLUXCTL_CRED_HOME", self.env.cred_home())
            .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/influxctl-cred-test-bus")
            .output()
            .unwrap();
        let shown = text(&out.stderr);
        if let Some(pid) = shown.split("(pid ").nth(1).and_then(|r| r.split(')').next()) {
            self.agent = pid.parse().ok();
        }
        (out.status.code().unwrap_or(-1), shown)
    }

    fn agent_pid(&self) -> u32 {
        self.agent.expect("unlock started an agent")
    }

    /// `influxctl-cred ARGS` with no terminal, `input` on stdin, the stand-in influxctl (with
    /// OAuth) on PATH and a private runtime folder.
    fn run_with(&self, args: &[&str], input: &str) -> (i32, String, String) {
        let run = self.env.path().join("xdg-run");
        if !run.exists() {
            std::fs::create_dir(&run).unwrap();
            chmod(&run, 0o700);
        }
        let out = self
            .env
            .cmd()
            .env("PATH", path_with(&path_dir(self.env.path())))
            .env("XDG_RUNTIME_DIR", &run)
            .env("FAKE_INFLUXCTL_STATE", self.env.path().join("server.json"))
            .env("FAKE_INFLUXCTL_OAUTH", "1")
            .args(args)
            .write_stdin(input.to_owned())
            .output()
            .unwrap();
        (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
    }

    /// The plaintext of the file store's entry for `profile`, as the reference `age -d` opens
    /// it with the passphrase-protected identity (the passphrase typed on a pty).
    fn age_decrypt(&self, profile: &str) -> String {
        let out = self.env.path().join(format!("{profile}.json"));
        let typed = Command::new("python3")
            .arg(pty_script())
            .arg(PASSPHRASE)
            .args(["age", "-d", "-i"])
            .arg(self.env.cred_home().join("locked.age"))
            .arg("-o")
            .arg(&out)
            .arg(self.env.store_dir().join(format!("{profile}.age")))
            .output()
            .unwrap();
        assert!(typed.status.success(), "age -d: {}", text(&typed.stderr));
        let plain = std::fs::read_to_string(&out).unwrap();
        std::fs::remove_file(&out).unwrap();
        plain
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        if let Some(pid) = self.agent {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid as i32),
                nix::sys::signal::SIGKILL,
            );
        }
    }
}

fn pty_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/pty-type.py")
}

/// Whether `pid` is gone (or a zombie nobody reaped yet).
fn gone(pid: u32) -> bool {
    let until = Instant::now() + Duration::from_secs(5);
    loop {
        let state = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let dead =
            state.is_empty() || state.lines().any(|l| l.starts_with("State:") && l.contains('Z'));
        if dead || Instant::now() >= until {
            return dead;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
#[ignore = "needs the age CLI and python3"]
fn unlock_once_then_reads_need_no_terminal_until_lock() {
    let mut s = Setup::new();
    let (code, _, err) = s.run(&["get", "-p", "prod"]);
    assert_eq!(code, 6, "no agent, no terminal: {err}");
    assert!(err.contains("interaction-required") && err.contains("unlock"), "{err}");

    let (code, shown) = s.unlock();
    assert_eq!(code, 0, "{shown}");
    assert_eq!(shown.matches("passphrase for age identity").count(), 1, "{shown}");
    let pid = s.agent_pid();
    assert!(!shown.contains(TOKEN) && !shown.contains(&s.secret));

    for _ in 0..5 {
        let (code, out, err) = s.run(&["get", "-p", "prod"]);
        assert_eq!((code, out.as_str()), (0, format!("{TOKEN}\n").as_str()), "{err}");
        assert!(!err.contains(TOKEN));
    }
    let (code, out, err) = s.run(&["list", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("prod") && !out.contains(TOKEN), "{out}");
    let rep = s.env.path().join("report.json");
    let shm = tempfile::Builder::new().prefix("icred-run-").tempdir_in("/dev/shm").unwrap();
    chmod(shm.path(), 0o700);
    for _ in 0..3 {
        let out = s
            .env
            .cmd()
            .env("XDG_RUNTIME_DIR", shm.path())
            .env("FAKE_INFLUXCTL_REPORT", &rep)
            .args(["exec", "-p", "prod", "--"])
            .arg(binary())
            .args(["database", "list"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert_eq!(report(&rep).unwrap()["mgmt_token_sha256"], sha256(TOKEN));
        std::fs::remove_file(&rep).unwrap();
    }
    let helper = s
        .env
        .cmd()
        .args(["helper"])
        .write_stdin("{\"v\":1,\"id\":1,\"kind\":\"get\",\"profile\":\"prod\"}\n")
        .output()
        .unwrap();
    assert!(text(&helper.stdout).contains(TOKEN), "{}", text(&helper.stdout));

    // A second unlock asks again, keeps the same agent and holds the key once.
    let (code, shown) = s.unlock();
    assert_eq!(code, 0, "{shown}");
    assert!(shown.contains(&format!("(pid {pid}) holds 1 identity")), "{shown}");

    let (code, out, _) = s.run(&["doctor", "--format", "json"]);
    assert!(code == 0 || code == 1);
    assert!(out.contains(&format!("running (pid {pid}")) && out.contains("1 identity"), "{out}");

    let (code, _, err) = s.run(&["lock"]);
    assert_eq!(code, 0, "{err}");
    assert!(gone(pid), "the agent still runs after lock");
    assert!(!s.run_dir().join("agent.sock").exists());
    let (code, _, err) = s.run(&["get", "-p", "prod"]);
    assert_eq!(code, 6, "after lock: {err}");
    let (_, out, _) = s.run(&["doctor"]);
    assert!(out.contains("agent: not running"), "{out}");
}

#[test]
#[ignore = "needs the age CLI and python3"]
fn sigkilled_agent_leaves_no_secret_on_disk_and_a_new_unlock_replaces_it() {
    let mut s = Setup::new();
    assert_eq!(s.unlock().0, 0);
    assert_eq!(s.run(&["get", "-p", "prod"]).0, 0);
    let pid = s.agent_pid();
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), nix::sys::signal::SIGKILL)
        .unwrap();
    assert!(gone(pid));
    for needle in [s.secret.as_str(), TOKEN] {
        let hits = files_containing(s.env.path(), needle.as_bytes());
        assert!(hits.is_empty(), "a secret on disk: {hits:?}");
        let hits = files_containing(&s.run_dir(), needle.as_bytes());
        assert!(hits.is_empty(), "a secret in the runtime folder: {hits:?}");
    }
    // The socket it left answers nobody: reads are as without an agent.
    assert!(s.run_dir().join("agent.sock").exists());
    let (code, _, err) = s.run(&["get", "-p", "prod"]);
    assert_eq!(code, 6, "{err}");
    let (code, shown) = s.unlock();
    assert_eq!(code, 0, "{shown}");
    assert_ne!(s.agent_pid(), pid);
    assert_eq!(s.run(&["get", "-p", "prod"]).0, 0);
}

/// The agent refuses a client of another uid even when the folder lets it reach the socket (CI
/// runs as root; the client runs as uid 65534 through `setpriv`).
#[test]
#[ignore = "needs the age CLI, python3 and root"]
fn agent_refuses_a_peer_of_another_uid() {
    if !is_root() || !Path::new("/usr/bin/setpriv").exists() {
        eprintln!("skipped: needs root and setpriv");
        return;
    }
    let mut s = Setup::new();
    assert_eq!(s.unlock().0, 0);
    // Open the way to the socket, so that only the peer check stands.
    for dir in [s.env.path().to_owned(), s.env.cred_home(), s.run_dir()] {
        chmod(&dir, 0o711);
    }
    let socket = s.run_dir().join("agent.sock");
    chmod(&socket, 0o777);
    let entry = std::fs::read(s.env.store_dir().join("prod.age")).unwrap();
    let probe = s.env.path().join("entry.age");
    std::fs::write(&probe, &entry).unwrap();
    chmod(&probe, 0o644);
    // A vault login held by the agent for its own user (as the vault store puts it).
    let key = "ab".repeat(32);
    let held = r#"{"v":1,"key":"k","server":"s","marker":"s.test-agent-held-login"}"#;
    let own = r#"
import socket, sys
def ask(head, body=b""):
    c = socket.socket(socket.AF_UNIX)
    c.settimeout(5)
    c.connect(sys.argv[1])
    c.sendall(head + body)
    got = b""
    while True:
        b = c.recv(65536)
        if not b:
            break
        got += b
    return got
body = sys.argv[3].encode()
ask(b'{"v":1,"op":"login-put","len":%d,"key":"%s"}\n' % (len(body), sys.argv[2].encode()), body)
sys.stdout.write(ask(b'{"v":1,"op":"logins"}\n').decode(errors="replace"))
"#;
    let out = Command::new("/usr/bin/python3")
        .args(["-c", own])
        .arg(&socket)
        .arg(&key)
        .arg(held)
        .output()
        .unwrap();
    assert!(text(&out.stdout).contains("s.test-agent-held-login"), "{}", text(&out.stderr));
    // The agent answers a foreign peer before reading anything: the refusal is read first,
    // then the request is sent anyway (and must get nothing more).
    let client = r#"
import socket, sys
data = open(sys.argv[2], "rb").read()
key = sys.argv[3].encode()
for head in (b'{"v":1,"op":"status"}\n', b'{"v":1,"op":"decrypt","len":%d}\n' % len(data),
             b'{"v":1,"op":"logins"}\n', b'{"v":1,"op":"login-get","key":"%s"}\n' % key):
    c = socket.socket(socket.AF_UNIX)
    c.settimeout(5)
    c.connect(sys.argv[1])
    got = b""
    while not got.endswith(b"\n"):
        b = c.recv(65536)
        if not b:
            break
        got += b
    try:
        c.sendall(head + (data if b"decrypt" in head else b""))
        while True:
            b = c.recv(65536)
            if not b:
                break
            got += b
    except OSError:
        pass  # closed by the agent
    sys.stdout.write(got.decode(errors="replace") + "\n")
"#;
    let out = Command::new("/usr/bin/setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--", "/usr/bin/python3", "-c"])
        .arg(client)
        .arg(&socket)
        .arg(&probe)
        .arg(&key)
        .output()
        .unwrap();
    let said = text(&out.stdout);
    assert!(out.status.success(), "the client could not connect: {}", text(&out.stderr));
    assert_eq!(said.matches("refused").count(), 4, "{said}");
    assert!(!said.contains("pid") && !said.contains(TOKEN), "{said}");
    assert!(!said.contains("s.test-agent-held-login"), "a vault login went to uid 65534: {said}");
    // The agent still serves its own user.
    for dir in [s.env.path().to_owned(), s.env.cred_home(), s.run_dir()] {
        chmod(&dir, 0o700);
    }
    let (code, out, err) = s.run(&["get", "-p", "prod"]);
    assert_eq!((code, out.as_str()), (0, format!("{TOKEN}\n").as_str()), "{err}");
}

/// The agent runs as uid 65534 so that the owner of its `/proc/PID` files shows whether it is
/// dumpable (the kernel gives an undumpable process's files to root), and that user cannot open
/// its memory; a control process of the same user shows the test could tell.
#[test]
fn agent_memory_is_not_dumpable() {
    if !is_root() || !Path::new("/usr/bin/setpriv").exists() {
        eprintln!("skipped: needs root and setpriv");
        return;
    }
    let env = TestEnv::new();
    chmod(env.path(), 0o755);
    let home = env.cred_home();
    nix::unistd::chown(&home, Some(nix::unistd::Uid::from_raw(65534)), None).unwrap();
    let as_nobody = |program: &str| {
        let mut c = Command::new("/usr/bin/setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--", program]);
        c.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &home)
            .env("INFLUXCTL_CRED_HOME", &home)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        c
    };
    let mut agent = as_nobody(env!("CARGO_BIN_EXE_influxctl-cred"));
    let mut agent = agent.arg("agent").spawn().unwrap();
    let mut control = as_nobody("/bin/sleep");
    let mut control = control.arg("30").spawn().unwrap();
    let socket = home.join("run").join("agent.sock");
    let until = Instant::now() + Duration::from_secs(10);
    while !socket.exists() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
    let owner = |pid: u32| std::fs::metadata(format!("/proc/{pid}/status")).unwrap().uid();
    let read_mem = |pid: u32| {
        let mut c = as_nobody("/usr/bin/python3");
        c.arg("-c").arg(format!("open('/proc/{pid}/mem', 'rb')"));
        c.status().unwrap().success()
    };
    let results =
        (owner(agent.id()), read_mem(agent.id()), owner(control.id()), read_mem(control.id()));
    let _ = agent.kill();
    let _ = control.kill();
    let _ = (agent.wait(), control.wait());
    assert!(socket.exists() || results.0 == 0, "the agent did not start");
    assert_eq!(results.2, 65534, "control: a dumpable process's files are its user's");
    assert!(results.3, "control: the same user can open a dumpable process's memory");
    assert_eq!(results.0, 0, "the agent is dumpable");
    assert!(!results.1, "the agent's memory can be opened by its own user");
}

/// `agent` in the foreground with `--ttl`/`--idle`: it exits on its own and removes its socket.
#[test]
fn agent_exits_at_its_ttl_and_after_its_idle_timeout() {
    for flags in [["--ttl", "1s", "--idle", "1h"], ["--ttl", "1h", "--idle", "1s"]] {
        let env = TestEnv::new();
        let mut agent = Command::new(env!("CARGO_BIN_EXE_influxctl-cred"))
            .arg("agent")
            .args(flags)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", env.path().join("home"))
            .env("INFLUXCTL_CRED_HOME", env.cred_home())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let socket = env.cred_home().join("run").join("agent.sock");
        let until = Instant::now() + Duration::from_secs(20);
        let mut exited = None;
        while Instant::now() < until {
            if let Some(status) = agent.try_wait().unwrap() {
                exited = Some(status);
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let Some(status) = exited else {
            let _ = agent.kill();
            let _ = agent.wait();
            panic!("{flags:?}: the agent did not exit on its own");
        };
        assert!(status.success(), "{flags:?}: {status:?}");
        assert!(!socket.exists(), "{flags:?}: the socket was left behind");
        let mode = std::fs::metadata(env.cred_home().join("run")).unwrap().mode() & 0o777;
        assert_eq!(mode, 0o700);
    }
}

#[test]
fn agent_refuses_a_runtime_folder_open_to_others() {
    let env = TestEnv::new();
    let run = env.cred_home().join("run");
    std::fs::create_dir(&run).unwrap();
    chmod(&run, 0o755);
    let out = env.cmd().args(["agent", "--ttl", "5s"]).output().unwrap();
    assert_ne!(out.status.code(), Some(0));
    let err = text(&out.stderr);
    assert!(err.contains("open to others") && err.contains("chmod 700"), "{err}");
    assert!(!run.join("agent.sock").exists());
}

#[test]
fn unlock_without_a_terminal_is_interaction_required_and_starts_nothing() {
    let env = TestEnv::new();
    let key = age::x25519::Identity::generate();
    let mut r = age::scrypt::Recipient::new("pw".to_owned().into());
    r.set_work_factor(10);
    let secret = age::secrecy::ExposeSecret::expose_secret(&key.to_string()).to_owned();
    let locked = env.cred_home().join("locked.age");
    std::fs::write(&locked, age::encrypt(&r, secret.as_bytes()).unwrap()).unwrap();
    chmod(&locked, 0o600);
    let settings = env.cred_home().join("config.toml");
    std::fs::write(&settings, "identities = [\"locked.age\"]\n").unwrap();
    chmod(&settings, 0o600);
    let out = env.cmd().arg("unlock").output().unwrap();
    assert_eq!(out.status.code(), Some(6), "{}", text(&out.stderr));
    assert!(!env.cred_home().join("run").join("agent.sock").exists());
    // Nothing locked: nothing to unlock, and no agent.
    std::fs::remove_file(&settings).unwrap();
    std::fs::write(env.cred_home().join("identity.txt"), format!("{secret}\n")).unwrap();
    chmod(&env.cred_home().join("identity.txt"), 0o600);
    let out = env.cmd().arg("unlock").output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("nothing to unlock"), "{}", text(&out.stderr));
    assert!(!env.cred_home().join("run").exists());
    // `lock` with no agent is fine.
    let out = env.cmd().arg("lock").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stderr).contains("no agent runs"));
}

/// A peer of our own uid sends the agent requests with hostile sizes and times (an `add` whose
/// TTL is near `u64::MAX` panicked in `Instant + Duration` and the agent died): each is refused
/// or capped, and the agent still opens the entry for `get`.
#[test]
#[ignore = "needs the age CLI and python3"]
fn hostile_requests_of_a_same_uid_peer_never_stop_the_agent() {
    let mut s = Setup::new();
    assert_eq!(s.unlock().0, 0);
    let pid = s.agent_pid();
    let key = age::x25519::Identity::generate();
    let other = format!("{}\n", age::secrecy::ExposeSecret::expose_secret(&key.to_string()));
    let client = r#"
import socket, sys
key = sys.argv[2].encode()
def ask(raw):
    c = socket.socket(socket.AF_UNIX)
    c.settimeout(10)
    c.connect(sys.argv[1])
    try:
        c.sendall(raw)
        got = b""
        while True:
            b = c.recv(65536)
            if not b:
                break
            got += b
    except OSError as e:
        got = str(e).encode()
    sys.stdout.write(got.decode(errors="replace").split("\n")[0] + "\n")
for ttl in (b"18446744073709551615", b"18446744073709551614", b"9223372036854775808", b"0"):
    ask(b'{"v":1,"op":"add","len":%d,"ttl_secs":%s}\n' % (len(key), ttl) + key)
for head in (b'{"v":1,"op":"add","len":18446744073709551615}',
             b'{"v":1,"op":"decrypt","len":99999999999}',
             b'{"v":1,"op":"add","ttl_secs":18446744073709551616}',
             b'{"v":1,"op":"add","ttl_secs":-1}',
             b'{"v":1,"op":"recipients","key":"' + b"f" * 3000 + b'"}',
             b'{"v":1,"op":"login-put","len":5,"key":"' + b"0" * 64 + b'"}'):
    # Only what the agent reads: bytes left unread make its close a reset.
    ask(head + b"\n" + (b"x" * 5 if b"login-put" in head else b""))
ask(b'{"v":1,"op":"add","len":%d}\n' % (len(key) * 2000) + key * 2000)
"#;
    let socket = s.run_dir().join("agent.sock");
    let out =
        Command::new("python3").args(["-c", client]).arg(&socket).arg(&other).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let answers = text(&out.stdout);
    assert_eq!(answers.lines().count(), 11, "{answers}");
    // The capped TTLs are taken; 0, and every bad size, is refused with a reason.
    let taken: Vec<&str> = answers.lines().filter(|l| l.contains(r#""ok":true"#)).collect();
    assert_eq!(taken.len(), 3, "{answers}");
    assert_eq!(answers.matches(r#""ok":false"#).count(), 8, "{answers}");
    assert!(!answers.contains("AGE-SECRET-KEY"), "{answers}");
    // Still the same agent, and it still opens the entry.
    let (code, out, err) = s.run(&["get", "-p", "prod"]);
    assert_eq!((code, out.as_str()), (0, format!("{TOKEN}\n").as_str()), "{err}");
    let (_, out, _) = s.run(&["doctor"]);
    assert!(out.contains(&format!("running (pid {pid}")) && out.contains("2 identities"), "{out}");
    assert!(!gone_now(pid), "the agent died");
}

/// Whether `pid` is gone right now.
fn gone_now(pid: u32) -> bool {
    !Path::new(&format!("/proc/{pid}")).exists()
}

/// After one `unlock`, writes need no terminal either: `store`, `create` and `rotate` take the
/// locked identity's public key from the agent (it answers public keys only), and what they
/// write opens with that identity in the reference `age`.
#[test]
#[ignore = "needs the age CLI and python3"]
fn after_unlock_store_create_and_rotate_need_no_terminal() {
    const NEW: &str = "M.V1.test-stored-after-unlock";
    let mut s = Setup::new();
    let (code, _, err) =
        s.run_with(&["store", "-p", "prod", "--store", "file"], &format!("{NEW}\n"));
    assert_eq!(code, 6, "no agent, no terminal: {err}");
    assert!(err.contains("interaction-required"), "{err}");

    assert_eq!(s.unlock().0, 0);
    let (code, _, err) =
        s.run_with(&["store", "-p", "prod", "--store", "file"], &format!("{NEW}\n"));
    assert_eq!(code, 0, "store after unlock: {err}");
    let (code, out, err) = s.run(&["get", "-p", "prod"]);
    assert_eq!((code, out.as_str()), (0, format!("{NEW}\n").as_str()), "{err}");
    assert!(s.age_decrypt("prod").contains(NEW));

    let (code, _, err) = s.run_with(&["create", "-p", "stage", "--ttl", "30d"], "");
    assert_eq!(code, 0, "create after unlock: {err}");
    let (_, created, _) = s.run(&["get", "-p", "stage"]);
    let (code, _, err) = s.run_with(&["rotate", "-p", "stage", "--ttl", "10d"], "");
    assert_eq!(code, 0, "rotate after unlock: {err}");
    let (code, rotated, err) = s.run(&["get", "-p", "stage"]);
    assert_eq!(code, 0, "{err}");
    let rotated = rotated.trim();
    assert!(rotated.starts_with("M.V1.") && rotated != created.trim(), "{rotated}");
    assert!(s.age_decrypt("stage").contains(rotated), "the rotated entry does not open with age");
    for (code, out, err) in [s.run(&["get", "-p", "stage"]), s.run(&["list"])] {
        assert_eq!(code, 0, "{err}");
        assert!(!err.contains(&s.secret) && !out.contains(&s.secret));
    }
}

/// With neither `INFLUXCTL_CRED_HOME` nor `XDG_RUNTIME_DIR`, the agent's folder is under the
/// user's home, never `/tmp/influxctl-cred-<uid>`: another user who made that name first (here
/// uid 65534) blocks nothing. The identity and entry come from the XDG folders.
#[test]
#[ignore = "needs the age CLI, python3 and root"]
fn another_users_folder_at_the_old_tmp_name_blocks_nothing() {
    if !is_root() {
        eprintln!("skipped: needs root to give a folder to another uid");
        return;
    }
    let planted = PathBuf::from(format!("/tmp/influxctl-cred-{}", nix::unistd::geteuid()));
    let made = std::fs::create_dir(&planted).is_ok();
    let meta = std::fs::symlink_metadata(&planted).unwrap();
    std::os::unix::fs::chown(&planted, Some(65534), Some(65534)).unwrap();
    chmod(&planted, 0o700);
    let s = Setup::new();
    let home = s.env.path().join("home");
    let locked = s.env.cred_home().join("locked.age");
    let cmd = |args: &[&str]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_influxctl-cred"));
        c.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &home)
            .env("XDG_CONFIG_HOME", s.env.path().join("xdg-config"))
            .env("XDG_DATA_HOME", s.env.path().join("xdg-data"))
            .env("INFLUXCTL_CRED_AGE_IDENTITY_FILE", &locked)
            .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/influxctl-cred-test-bus")
            .args(args);
        c
    };
    // The entry, in the XDG data folder's store, as `store` with the identity there writes it.
    let store = s.env.path().join("xdg-data").join("influxctl-cred").join("store");
    std::fs::create_dir_all(store.parent().unwrap()).unwrap();
    chmod(store.parent().unwrap(), 0o700);
    copy_dir(&s.env.store_dir(), &store);
    let mut unlock = Command::new("python3");
    unlock.arg(pty_script()).arg(PASSPHRASE);
    let inner = cmd(&["unlock"]);
    unlock.arg(inner.get_program()).args(inner.get_args());
    unlock.env_clear().envs(inner.get_envs().filter_map(|(k, v)| Some((k, v?))));
    let out = unlock.output().unwrap();
    let shown = text(&out.stderr);
    let pid: Option<i32> =
        shown.split("(pid ").nth(1).and_then(|r| r.split(')').next()).and_then(|p| p.parse().ok());
    let get = cmd(&["get", "-p", "prod"]).stdin(Stdio::null()).env("CI", "true").output().unwrap();
    let lock = cmd(&["lock"]).stdin(Stdio::null()).output().unwrap();
    if let Some(pid) = pid {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::SIGKILL);
    }
    if made {
        let _ = std::fs::remove_dir(&planted);
    } else {
        // It was there before the test: as it was.
        let _ = std::os::unix::fs::chown(&planted, Some(meta.uid()), Some(meta.gid()));
        chmod(&planted, meta.mode() & 0o7777);
    }
    assert_eq!(out.status.code(), Some(0), "unlock: {shown}");
    assert!(pid.is_some(), "{shown}");
    assert_eq!(get.status.code(), Some(0), "get: {}", text(&get.stderr));
    assert_eq!(text(&get.stdout), format!("{TOKEN}\n"));
    assert_eq!(lock.status.code(), Some(0), "lock: {}", text(&lock.stderr));
    assert!(text(&lock.stderr).contains("forgot every identity"), "{}", text(&lock.stderr));
    let run = home.join(".local/state/influxctl-cred/run");
    let mode = std::fs::symlink_metadata(&run).unwrap().mode() & 0o777;
    assert_eq!(mode, 0o700, "{}", run.display());
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    chmod(to, 0o700);
    for item in std::fs::read_dir(from).unwrap() {
        let item = item.unwrap();
        if item.file_type().unwrap().is_file() {
            std::fs::copy(item.path(), to.join(item.file_name())).unwrap();
        }
    }
}

/// Another same-user process that `add`s its own key under the digest of the user's identity
/// file cannot redirect writes: the agent keeps the first keys it got for that file (from
/// `unlock`), so a later write still encrypts to the user's key and never to the forged one.
#[test]
fn a_forged_add_for_the_identity_file_does_not_redirect_writes() {
    let mut s = Setup::new();
    assert_eq!(s.unlock().0, 0);
    let digest = {
        use sha2::{Digest, Sha256};
        let bytes = std::fs::read(s.env.cred_home().join("locked.age")).unwrap();
        Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect::<String>()
    };
    let evil = age::x25519::Identity::generate();
    let evil_public = evil.to_public().to_string();
    let evil_secret = format!("{}\n", age::secrecy::ExposeSecret::expose_secret(&evil.to_string()));
    let client = r#"
import socket, sys
key = sys.argv[2].encode()
c = socket.socket(socket.AF_UNIX)
c.settimeout(10)
c.connect(sys.argv[1])
c.sendall(b'{"v":1,"op":"add","len":%d,"key":"%s"}\n' % (len(key), sys.argv[3].encode()) + key)
got = b""
while True:
    b = c.recv(65536)
    if not b:
        break
    got += b
sys.stdout.write(got.decode(errors="replace").split("\n")[0] + "\n")
"#;
    let socket = s.run_dir().join("agent.sock");
    let out = Command::new("python3")
        .args(["-c", client])
        .arg(&socket)
        .arg(&evil_secret)
        .arg(&digest)
        .output()
        .unwrap();
    let answer = text(&out.stdout);
    assert!(answer.contains(r#""ok":false"#) && answer.contains("already unlocked"), "{answer}");
    // A write with no terminal takes the recipients from the agent: the user's, not the forged.
    let (code, _, err) =
        s.run_with(&["store", "-p", "prod", "--store", "file"], &format!("{TOKEN}\n"));
    assert_eq!(code, 0, "{err}");
    let sidecar =
        std::fs::read_to_string(s.env.cred_home().join("store").join("prod.meta.json")).unwrap();
    assert!(!sidecar.contains(&evil_public), "encrypted to the forged key: {sidecar}");
    let opened = s.age_decrypt("prod");
    assert!(opened.contains(TOKEN), "the user's identity no longer opens it: {opened}");
}

/// A peer that trickles its request a byte at a time holds the agent for one connection's time
/// at most: a `get` that starts while it trickles is answered.
#[test]
fn a_trickling_peer_does_not_wedge_the_agent() {
    let mut s = Setup::new();
    assert_eq!(s.unlock().0, 0);
    let socket = s.run_dir().join("agent.sock");
    let slow = r#"
import socket, sys, time
c = socket.socket(socket.AF_UNIX)
c.connect(sys.argv[1])
try:
    for b in b'{"v":1,"op":"status"' * 20:
        c.send(bytes([b]))
        time.sleep(0.5)
except OSError:
    pass
"#;
    let mut trickler = Command::new("python3").args(["-c", slow]).arg(&socket).spawn().unwrap();
    std::thread::sleep(std::time::Duration::from_secs(1));
    let (code, out, err) = s.run(&["get", "-p", "prod"]);
    let _ = trickler.kill();
    let _ = trickler.wait();
    assert_eq!((code, out.as_str()), (0, format!("{TOKEN}\n").as_str()), "{err}");
}
