//! `exec` in place (docs/influxctl.md): with memfd injection and influxctl itself as PROGRAM,
//! the `exec` process becomes influxctl (`execve`, no fork). The caller (a shell here) sees
//! influxctl as its own child: its pid, its exit status, its death by a signal; influxctl gets
//! stdio and the memfd and no other descriptor, even one the caller left open; the audit record
//! is written before, and a program that cannot start adds a `not-started` record.

#![cfg(target_os = "linux")]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::fake_influxctl::{binary, built, report};
use crate::util::{TOKEN, TestEnv, text};

const CONFIG: &str = r#"[[profile]]
  name = "default"
  product = "dedicated"
  account_id = "acc-1"
  cluster_id = "clu-1"
"#;

/// A shell that opens fd 7 (inheritable) and runs `influxctl-cred ARGS` as its child, then
/// prints `status N` with the status it saw (128+N for a death by signal N).
fn caller(env: &TestEnv, args: &[&str], extra: &[(&str, &str)]) -> Child {
    let p = env.path();
    Command::new("/bin/sh")
        .arg("-c")
        .arg(r#"exec 7</dev/null; "$@"; echo "status $?""#)
        .arg("sh")
        .arg(env!("CARGO_BIN_EXE_influxctl-cred"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", p.join("home"))
        .env("XDG_CONFIG_HOME", p.join("xdg-config"))
        .env("INFLUXCTL_CRED_HOME", env.cred_home())
        .env("CI", "true")
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/influxctl-cred-test-bus")
        .env("FAKE_INFLUXCTL_REPORT", p.join("report.json"))
        .env("INFLUXCTL_CRED_TOKEN_DEFAULT", TOKEN)
        .envs(extra.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// What the caller printed last: `status N`.
fn status_seen(child: Child) -> (String, String) {
    let out = child.wait_with_output().unwrap();
    let stdout = text(&out.stdout);
    (stdout.lines().last().unwrap_or_default().to_owned(), text(&out.stderr))
}

fn setup() -> TestEnv {
    let env = TestEnv::new();
    env.write_influxctl_config(CONFIG);
    env
}

fn fake() -> String {
    binary().to_string_lossy().into_owned()
}

fn audit(env: &TestEnv) -> Vec<serde_json::Value> {
    std::fs::read_to_string(env.cred_home().join("audit.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn wait_for(path: &Path) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !path.exists() {
        assert!(Instant::now() < deadline, "{} never appeared", path.display());
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The parent pid of `pid` (`/proc/PID/stat`, the field after the state).
fn parent_of(pid: u32) -> u32 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after_name = &stat[stat.rfind(')').unwrap() + 2..];
    after_name.split(' ').nth(1).unwrap().parse().unwrap()
}

#[test]
fn exec_in_place_becomes_influxctl_with_only_stdio_and_the_memfd() {
    let env = setup();
    let ready = env.path().join("ready");
    let ready_s = ready.to_string_lossy().into_owned();
    let sh = caller(
        &env,
        &["exec", "--", &fake(), "database", "list"],
        &[("FAKE_INFLUXCTL_SLEEP_MS", "20000"), ("FAKE_INFLUXCTL_READY", &ready_s)],
    );
    wait_for(&ready);
    let r = report(&env.path().join("report.json")).unwrap();
    let pid = r["pid"].as_u64().unwrap() as u32;
    // No process of ours between the caller and influxctl: the exec process is influxctl.
    assert_eq!(parent_of(pid), sh.id(), "influxctl is not the caller's own child");
    let exe = std::fs::read_link(format!("/proc/{pid}/exe")).unwrap();
    assert_eq!(exe, built().canonicalize().unwrap());
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap();
    assert_eq!(comm.trim(), "influxctl");
    // stdio and the memfd named in --config; not the caller's fd 7, not our audit log.
    let derived = r["config_path"].as_str().unwrap();
    let memfd = derived.strip_prefix("/dev/fd/").expect("a memfd run");
    let fds = r["fds"].as_object().unwrap();
    let numbers: Vec<&str> = fds.keys().map(String::as_str).collect();
    let mut want = vec!["0", "1", "2", memfd];
    want.sort_unstable();
    assert_eq!(numbers, want, "{fds:?}");
    assert!(fds[memfd].as_str().unwrap().starts_with("/memfd:influxctl-cred-config"), "{fds:?}");
    // The record was written before the exec, by the process that is now influxctl.
    let records = audit(&env);
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(
        (&records[0]["command"], &records[0]["outcome"]),
        (&"exec".into(), &"released".into())
    );
    assert_eq!(records[0]["pid"], pid);
    // A signal to that pid reaches influxctl itself: the caller sees it die of SIGTERM.
    kill(Pid::from_raw(pid as i32), Signal::SIGTERM).unwrap();
    let (status, stderr) = status_seen(sh);
    assert_eq!(status, "status 143", "{stderr}");
}

#[test]
fn exec_in_place_leaves_with_influxctls_own_status() {
    let env = setup();
    for (knob, value, want) in
        [("FAKE_INFLUXCTL_EXIT", "3", "status 3"), ("FAKE_INFLUXCTL_CRASH", "abort", "status 134")]
    {
        let sh = caller(&env, &["exec", "--", &fake(), "database", "list"], &[(knob, value)]);
        let (status, stderr) = status_seen(sh);
        assert_eq!(status, want, "{knob}: {stderr}");
    }
    // Died of the signal itself, not exited 134 on its behalf.
    let out = env
        .cmd()
        .env("INFLUXCTL_CRED_TOKEN_DEFAULT", TOKEN)
        .env("FAKE_INFLUXCTL_CRASH", "abort")
        .args(["exec", "--", &fake(), "database", "list"])
        .output()
        .unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(out.status.signal(), Some(6), "{:?}: {}", out.status, text(&out.stderr));
}

#[test]
fn exec_in_place_of_a_program_that_cannot_start_is_127_and_logged_not_started() {
    let env = setup();
    // It exists (a missing program is refused before any token is read), but its interpreter
    // does not: only the execve can tell.
    let dir = env.path().join("broken");
    std::fs::create_dir_all(&dir).unwrap();
    let program = dir.join("influxctl");
    std::fs::write(&program, "#!/nonexistent/interpreter\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
    let missing = program.to_str().unwrap();
    let out = env
        .cmd()
        .env("INFLUXCTL_CRED_TOKEN_DEFAULT", TOKEN)
        .args(["exec", "--", missing, "database", "list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(127), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("cannot run"), "{}", text(&out.stderr));
    let outcomes: Vec<serde_json::Value> =
        audit(&env).iter().map(|r| r["outcome"].clone()).collect();
    assert_eq!(outcomes, ["released", "not-started"]);
}
