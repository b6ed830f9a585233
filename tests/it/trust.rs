//! Strict modes, one safe open, process hardening and injection that never touches a disk
//! (docs/spec.md §2, §7.4-6, §10.8-9): every file we read that is too open, of another user, a
//! symlink where it must not be, a FIFO or a device is refused at once naming the path; the
//! lock is never taken through a symlink; `exec` is not dumpable and has a core limit of 0;
//! the derived config is a sealed memfd or a file on a tmpfs. Every command here runs under a
//! timeout, so a hang fails the test instead of blocking it.

#![cfg(target_os = "linux")]

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::fake_influxctl::{binary, report, sha256};
use crate::util::{TOKEN, TestEnv, text};

/// Bound of every command: a FIFO that we waited on would hang for ever.
const LIMIT: Duration = Duration::from_secs(20);

const CONFIG: &str = r#"[[profile]]
  name = "default"
  product = "dedicated"
  account_id = "acc-1"
  cluster_id = "clu-1"
"#;

fn chmod(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn chown_nobody(p: &Path) {
    nix::unistd::chown(p, Some(nix::unistd::Uid::from_raw(65534)), None).unwrap();
}

fn mkfifo(p: &Path) {
    nix::unistd::mkfifo(p, nix::sys::stat::Mode::S_IRUSR | nix::sys::stat::Mode::S_IWUSR).unwrap();
}

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Runs `influxctl-cred ARGS` under [`LIMIT`]: (exit code, stderr).
fn run(env: &TestEnv, args: &[&str], stdin: &str) -> (i32, String) {
    let out =
        env.cmd().timeout(LIMIT).args(args).write_stdin(stdin.to_owned()).output().expect("run");
    let code = out.status.code().unwrap_or(-1);
    assert_ne!(code, -1, "{args:?} hung or was killed: {}", text(&out.stderr));
    (code, text(&out.stderr))
}

fn store_prod(env: &TestEnv) {
    let (code, err) = run(env, &["--store", "file", "store", "-p", "prod"], &format!("{TOKEN}\n"));
    assert_eq!(code, 0, "{err}");
}

/// Each way a file can be untrusted, applied by [`spoil`] to a good file; [`restore`] undoes it.
#[derive(Debug, Clone, Copy)]
enum Bad {
    WorldWritable,
    OtherOwner,
    SymlinkToDevZero,
    Fifo,
}

const ALL: [Bad; 4] = [Bad::WorldWritable, Bad::OtherOwner, Bad::SymlinkToDevZero, Bad::Fifo];

fn spoil(path: &Path, how: Bad) {
    match how {
        Bad::WorldWritable => chmod(path, 0o666),
        Bad::OtherOwner => chown_nobody(path),
        Bad::SymlinkToDevZero => {
            std::fs::remove_file(path).unwrap();
            std::os::unix::fs::symlink("/dev/zero", path).unwrap();
        }
        Bad::Fifo => {
            std::fs::remove_file(path).unwrap();
            mkfifo(path);
        }
    }
}

fn restore(path: &Path, content: &[u8], mode: u32) {
    let _ = std::fs::remove_file(path);
    std::fs::write(path, content).unwrap();
    chmod(path, mode);
}

#[test]
fn settings_untrusted_is_refused_naming_the_path_without_hanging() {
    if !is_root() {
        return; // the owner case needs chown
    }
    let env = TestEnv::new();
    let path = env.cred_home().join("config.toml");
    // What an attacker who can write the file would add: never used from an untrusted file.
    let content = b"api_url = \"https://attacker.example\"\n";
    for how in ALL {
        restore(&path, content, 0o644);
        spoil(&path, how);
        let (code, err) = run(&env, &["list"], "");
        assert_eq!(code, 2, "{how:?}: {err}");
        assert!(err.contains(&path.display().to_string()), "{how:?}: {err}");
        assert!(err.contains("invalid-request") || err.contains("refusing"), "{how:?}: {err}");
    }
    // The fix works: a regular 0644 file of ours is used.
    restore(&path, content, 0o644);
    assert_eq!(run(&env, &["list"], "").0, 0);
}

#[test]
fn settings_in_world_writable_home_is_refused_with_chmod_of_our_folder() {
    let env = TestEnv::new();
    chmod(&env.cred_home(), 0o777);
    let (code, err) = run(&env, &["list"], "");
    assert_eq!(code, 5, "{err}");
    assert!(err.contains(&format!("chmod go-w {}", env.cred_home().display())), "{err}");
}

#[test]
fn settings_not_utf8_is_invalid_request_naming_the_file() {
    let env = TestEnv::new();
    let path = env.cred_home().join("config.toml");
    std::fs::write(&path, b"store = \"\xff\"\n").unwrap();
    let (code, err) = run(&env, &["list"], "");
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(&path.display().to_string()) && err.contains("UTF-8"), "{err}");
}

#[test]
fn identity_untrusted_is_refused_naming_the_path_without_hanging() {
    if !is_root() {
        return;
    }
    let env = TestEnv::new();
    store_prod(&env);
    let path = env.cred_home().join("identity.txt");
    let content = std::fs::read(&path).unwrap();
    for how in ALL {
        restore(&path, &content, 0o600);
        spoil(&path, how);
        let (code, err) = run(&env, &["get", "-p", "prod"], "");
        assert_eq!(code, 5, "{how:?}: {err}");
        assert!(err.contains(&path.display().to_string()), "{how:?}: {err}");
        if matches!(how, Bad::OtherOwner) {
            assert!(!err.contains("chmod"), "no chmod on a file we do not own: {err}");
        }
    }
    restore(&path, &content, 0o600);
    assert_eq!(run(&env, &["get", "-p", "prod"], "").0, 0);
}

#[test]
fn store_file_or_sidecar_fifo_is_refused_at_once() {
    let env = TestEnv::new();
    store_prod(&env);
    let age = env.store_dir().join("prod.age");
    let sidecar = env.store_dir().join("prod.meta.json");
    std::fs::remove_file(&age).unwrap();
    mkfifo(&age);
    let (code, err) = run(&env, &["get", "-p", "prod"], "");
    assert_eq!(code, 5, "{err}");
    assert!(err.contains(&age.display().to_string()) && err.contains("FIFO"), "{err}");
    // `list` says why in the row, and never waits on the FIFO (nor on a FIFO sidecar).
    std::fs::remove_file(&sidecar).unwrap();
    mkfifo(&sidecar);
    let out = env.cmd().timeout(LIMIT).args(["list"]).output().unwrap();
    assert!(out.status.code().is_some(), "list hung: {}", text(&out.stderr));
    assert!(text(&out.stdout).contains("prod"), "{}", text(&out.stdout));
}

#[test]
fn lock_symlink_is_refused_and_its_target_never_created() {
    let env = TestEnv::new();
    store_prod(&env);
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("made-by-the-lock");
    let lock = env.store_dir().join(".lock");
    let _ = std::fs::remove_file(&lock);
    std::os::unix::fs::symlink(&target, &lock).unwrap();
    let (code, err) =
        run(&env, &["--store", "file", "store", "-p", "stage"], &format!("{TOKEN}\n"));
    assert_eq!(code, 5, "{err}");
    assert!(err.contains(&lock.display().to_string()), "{err}");
    assert!(!target.exists(), "the lock created its symlink's target");
}

/// `exec --` the stand-in, with the token in the env store, under [`LIMIT`].
fn exec(env: &TestEnv, ours: &[&str], theirs: &[&str]) -> (i32, String, Option<serde_json::Value>) {
    let rep = env.path().join("report.json");
    let _ = std::fs::remove_file(&rep);
    let fake = binary();
    let mut c = env.cmd();
    c.timeout(LIMIT)
        .env("INFLUXCTL_CRED_TOKEN_DEFAULT", TOKEN)
        .env("FAKE_INFLUXCTL_REPORT", &rep)
        .env("FAKE_INFLUXCTL_READS", "2")
        .args(ours)
        .arg("exec")
        .arg("--")
        .arg(&fake)
        .args(theirs);
    let out = c.output().unwrap();
    let code = out.status.code().unwrap_or(-1);
    assert_ne!(code, -1, "exec hung: {}", text(&out.stderr));
    (code, text(&out.stderr), report(&rep))
}

#[test]
fn influxctl_config_untrusted_is_refused_before_influxctl_runs() {
    if !is_root() {
        return;
    }
    let env = TestEnv::new();
    let path = env.write_influxctl_config(CONFIG);
    for how in ALL {
        restore(&path, CONFIG.as_bytes(), 0o644);
        spoil(&path, how);
        let (code, err, rep) = exec(&env, &[], &["database", "list"]);
        assert_eq!(code, 125, "{how:?}: {err}");
        assert!(err.contains(&path.display().to_string()), "{how:?}: {err}");
        assert!(err.contains("invalid-request"), "{how:?}: {err}");
        assert!(rep.is_none(), "{how:?}: influxctl ran");
    }
    // A symlink into a folder others may write to is refused too, naming that folder.
    let open = env.path().join("open");
    std::fs::create_dir(&open).unwrap();
    chmod(&open, 0o777);
    std::fs::write(open.join("config.toml"), CONFIG).unwrap();
    let _ = std::fs::remove_file(&path);
    std::os::unix::fs::symlink(open.join("config.toml"), &path).unwrap();
    let (code, err, _) = exec(&env, &[], &["database", "list"]);
    assert_eq!(code, 125, "{err}");
    assert!(err.contains(&open.display().to_string()), "{err}");
    // A symlink to a trusted file of ours is followed (dotfile managers do this).
    let _ = std::fs::remove_file(&path);
    let real = env.path().join("real-config.toml");
    std::fs::write(&real, CONFIG).unwrap();
    std::os::unix::fs::symlink(&real, &path).unwrap();
    let (code, err, _) = exec(&env, &[], &["database", "list"]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn exec_memfd_config_is_no_file_and_can_be_read_twice() {
    let env = TestEnv::new();
    env.write_influxctl_config(CONFIG);
    let (code, err, rep) = exec(&env, &[], &["database", "list"]);
    assert_eq!(code, 0, "{err}");
    let r = rep.expect("the stand-in ran");
    let path = r["config_path"].as_str().unwrap();
    assert!(path.starts_with("/dev/fd/"), "{path}");
    assert!(r["config_link"].as_str().unwrap().starts_with("/memfd:"), "{r}");
    assert_eq!((&r["reads"], &r["reads_equal"]), (&2.into(), &true.into()));
    assert_eq!(r["mgmt_token_sha256"], sha256(TOKEN));
    assert!(env.files_containing(TOKEN).is_empty());
    assert!(!err.contains(TOKEN));
}

#[test]
fn exec_inject_file_without_xdg_runtime_dir_is_on_tmpfs() {
    let env = TestEnv::new();
    env.write_influxctl_config(CONFIG);
    // TestEnv sets no XDG_RUNTIME_DIR; one that is on a disk is not used either.
    for xdg in [None, Some(env.path().join("home"))] {
        let rep = env.path().join("report.json");
        let _ = std::fs::remove_file(&rep);
        let mut c = env.cmd();
        if let Some(x) = &xdg {
            c.env("XDG_RUNTIME_DIR", x);
        }
        let out = c
            .timeout(LIMIT)
            .env("INFLUXCTL_CRED_TOKEN_DEFAULT", TOKEN)
            .env("FAKE_INFLUXCTL_REPORT", &rep)
            .args(["exec", "--inject", "file", "--"])
            .arg(binary())
            .args(["database", "list"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{xdg:?}: {}", text(&out.stderr));
        let r = report(&rep).unwrap();
        assert_eq!(r["config_on_tmpfs"], true, "{xdg:?}: {r}");
        assert_eq!(r["config_mode"], 0o600);
        assert_eq!(r["mgmt_token_sha256"], sha256(TOKEN));
        assert!(!Path::new(r["config_path"].as_str().unwrap()).exists(), "removed after the run");
    }
}

fn wait_for(path: &Path) {
    let deadline = Instant::now() + LIMIT;
    while !path.exists() {
        assert!(Instant::now() < deadline, "{} never appeared", path.display());
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The soft "Max core file size" of `/proc/PID/limits`.
fn core_limit(pid: u32) -> String {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let line = limits.lines().find(|l| l.starts_with("Max core file size")).unwrap().to_owned();
    line.split_whitespace().nth(4).unwrap().to_owned()
}

/// `exec` running as uid 65534 (through `setpriv`), so that the owner of its `/proc/PID`
/// files tells whether it is dumpable: the kernel gives an undumpable process's files to root.
#[test]
fn exec_is_undumpable_with_core_limit_0_while_its_child_runs() {
    if !is_root() || !Path::new("/usr/bin/setpriv").exists() {
        return;
    }
    let env = TestEnv::new();
    chmod(env.path(), 0o755);
    env.write_influxctl_config(CONFIG);
    let home = env.cred_home();
    nix::unistd::chown(&home, Some(nix::unistd::Uid::from_raw(65534)), None).unwrap();
    let ready = home.join("ready");
    let rep = home.join("report.json");
    let p = env.path();
    let mut c = Command::new("/usr/bin/setpriv");
    c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(env!("CARGO_BIN_EXE_influxctl-cred"))
        // The child model: a memfd run becomes influxctl itself (exec_in_place.rs).
        .args(["exec", "--inject", "file", "--"])
        .arg(binary())
        .args(["database", "list"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &home)
        .env("XDG_CONFIG_HOME", p.join("xdg-config"))
        .env("INFLUXCTL_CRED_HOME", &home)
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/influxctl-cred-test-bus")
        .env("INFLUXCTL_CRED_TOKEN_DEFAULT", TOKEN)
        .env("FAKE_INFLUXCTL_REPORT", &rep)
        .env("FAKE_INFLUXCTL_READY", &ready)
        .env("FAKE_INFLUXCTL_SLEEP_MS", "20000")
        .stdin(Stdio::null());
    let mut helper = c.spawn().unwrap();
    wait_for(&ready);
    let pid = helper.id();
    let status_owner = std::fs::metadata(format!("/proc/{pid}/status")).unwrap().uid();
    let limit = core_limit(pid);
    let child = report(&rep).unwrap()["pid"].as_u64().unwrap() as u32;
    let child_owner = std::fs::metadata(format!("/proc/{child}/status")).unwrap().uid();
    let child_limit = core_limit(child);
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), nix::sys::signal::SIGTERM)
        .unwrap();
    helper.wait().unwrap();
    assert_eq!(status_owner, 0, "exec is dumpable: /proc/{pid} belongs to uid {status_owner}");
    assert_eq!(limit, "0", "exec's core limit");
    // The child was exec'ed: the kernel made it dumpable again; it keeps the core limit 0.
    assert_eq!(child_owner, 65534);
    assert_eq!(child_limit, "0", "the child's core limit");
}

/// influxctl's config swapped atomically, in a loop, between the bound profile and one pointing
/// at an attacker's listener, while 300 `exec` runs: each run reads the config once, so it
/// either derives for the bound host (and influxctl gets the token) or is refused with
/// `cluster-mismatch` (and influxctl never runs). No run ever hands influxctl a profile for the
/// other port, and the listener hears nothing. (Before the single read, 2 in 300 did.)
#[test]
fn config_swapped_in_a_loop_during_300_execs_never_derives_for_the_other_host() {
    use crate::apiserver::{ApiServer, Reply};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    let good = ApiServer::start(|_| Reply::json(200, "[]"));
    let evil = ApiServer::start(|_| Reply::json(200, "[]"));
    let profile = |port: u16| {
        format!(
            "[[profile]]\n  name = \"prod\"\n  product = \"clustered\"\n  host = \"127.0.0.1\"\n  port = \"{port}\"\n  [profile.tls]\n    disable = true\n"
        )
    };
    let (good_port, evil_port) = (good.addr.port(), evil.addr.port());
    let good_text = good_port.to_string();
    let env = TestEnv::new();
    let config = env.write_influxctl_config(&profile(good_port));
    store_prod(&env);
    // Bound on first use, to the good port.
    let (code, err, _) = exec_prod(&env, &env.path().join("first.json"));
    assert_eq!(code, 0, "{err}");

    let dir = config.parent().unwrap().to_owned();
    let versions = [profile(good_port), profile(evil_port)];
    let stop = Arc::new(AtomicBool::new(false));
    let swaps = Arc::new(AtomicUsize::new(0));
    let swapper = {
        let (stop, swaps, dir, config) = (stop.clone(), swaps.clone(), dir.clone(), config.clone());
        std::thread::spawn(move || {
            let mut i = 0usize;
            while !stop.load(Ordering::Relaxed) {
                let tmp = dir.join(format!(".swap-{}", i % 2));
                std::fs::write(&tmp, &versions[i % 2]).unwrap();
                std::fs::rename(&tmp, &config).unwrap();
                swaps.fetch_add(1, Ordering::Relaxed);
                i += 1;
            }
        })
    };
    let (mut served, mut refused) = (0, 0);
    let mut wrong = Vec::new();
    for i in 0..300 {
        let rep = env.path().join(format!("report-{i}.json"));
        let (code, err, r) = exec_prod(&env, &rep);
        assert!(!err.contains(TOKEN), "run {i} leaked the token: {err}");
        match (code, r) {
            (0, Some(r)) => {
                if r["port"].as_str() != Some(good_text.as_str()) || r["host"] != "127.0.0.1" {
                    wrong.push(r.clone());
                }
                assert_eq!(r["mgmt_token_sha256"], sha256(TOKEN), "run {i}: {r}");
                served += 1;
            }
            (_, None) if err.contains("cluster-mismatch") => refused += 1,
            (code, r) => panic!("run {i}: exit {code}, report {r:?}: {err}"),
        }
    }
    stop.store(true, Ordering::Relaxed);
    swapper.join().unwrap();
    assert!(wrong.is_empty(), "derived for the other host: {wrong:?}");
    assert_eq!(evil.requests().len(), 0, "the attacker's listener was reached");
    assert_eq!(good.requests().len(), 0, "exec itself never calls the API");
    // The swap really raced the runs: both outcomes were seen.
    let swaps = swaps.load(Ordering::Relaxed);
    assert!(served > 0 && refused > 0, "{served} served, {refused} refused, {swaps} swaps");
}

/// `exec -p prod --` the stand-in (`database list`), the token from the file store.
fn exec_prod(env: &TestEnv, rep: &Path) -> (i32, String, Option<serde_json::Value>) {
    let out = env
        .cmd()
        .timeout(LIMIT)
        .env("FAKE_INFLUXCTL_REPORT", rep)
        .args(["exec", "-p", "prod", "--"])
        .arg(binary())
        .args(["database", "list"])
        .output()
        .unwrap();
    let code = out.status.code().unwrap_or(-1);
    assert_ne!(code, -1, "exec hung: {}", text(&out.stderr));
    (code, text(&out.stderr), report(rep))
}

/// The files in `dir` other than `known`.
fn new_files(dir: &Path, known: &[&str]) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| !known.iter().any(|k| e.file_name() == *k))
        .map(|e| e.path())
        .collect()
}

/// SIGABRT of `exec` while its child runs (the child does `kill -ABRT $PPID`), started with the
/// core limit raised to unlimited: no core file is written, so none holds the token. The
/// CONTROL: on this machine a process with the limit raised that aborts does write a core into
/// its working directory, and the token in its memory is found in it. Needs a core pattern
/// that writes into the working directory (`core`, `core.%p`, …); with a piped or absolute
/// pattern (systemd-coredump, apport) cores are not visible to the test, which then says so
/// and checks nothing (docs/testing.md).
#[test]
fn sigabrt_of_exec_leaves_no_core_holding_the_token() {
    let pattern = std::fs::read_to_string("/proc/sys/kernel/core_pattern").unwrap_or_default();
    let pattern = pattern.trim();
    if pattern.is_empty() || pattern.starts_with('|') || pattern.contains('/') {
        eprintln!("core pattern {pattern:?} does not write into the working directory: skipped");
        return;
    }
    let env = TestEnv::new();
    env.write_influxctl_config(
        "[[profile]]\n  name = \"prod\"\n  product = \"dedicated\"\n  account_id = \"a\"\n  cluster_id = \"c\"\n",
    );
    store_prod(&env);
    let cwd = env.path().join("cwd");
    std::fs::create_dir(&cwd).unwrap();
    let plain = cwd.join("plain.toml");
    std::fs::write(
        &plain,
        format!("[[profile]]\n  name = \"default\"\n  mgmt_token = \"{TOKEN}\"\n"),
    )
    .unwrap();
    let child = cwd.join("abort-parent");
    std::fs::write(&child, "#!/bin/sh\nkill -ABRT $PPID\nsleep 1\n").unwrap();
    chmod(&child, 0o755);
    let known = ["plain.toml", "abort-parent"];
    // `sh -c 'ulimit -c unlimited; exec "$0" "$@"' PROGRAM ARGS…`: PROGRAM with the limit raised.
    let raised = |program: &Path| {
        let mut c = Command::new("/bin/sh");
        c.current_dir(&cwd)
            .args(["-c", "ulimit -c unlimited && exec \"$0\" \"$@\""])
            .arg(program)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        c
    };

    // CONTROL: the stand-in, holding the token from a plaintext config, aborts.
    let control = raised(&binary())
        .env("FAKE_INFLUXCTL_CRASH", "abort")
        .arg("--config")
        .arg(&plain)
        .args(["database", "list"])
        .output()
        .unwrap();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&control.status),
        Some(6),
        "the control did not abort: {}",
        text(&control.stderr)
    );
    let cores = new_files(&cwd, &known);
    if cores.is_empty() {
        eprintln!(
            "no core was written here even with the limit raised (pattern {pattern:?}): skipped"
        );
        return;
    }
    assert!(
        !crate::util::files_containing(&cwd, TOKEN.as_bytes()).is_empty(),
        "the control's core {cores:?} does not hold the token: the scan cannot see it"
    );
    for core in cores {
        std::fs::remove_file(core).unwrap();
    }

    // exec, started the same way, aborted by its child.
    let mut c = raised(Path::new(env!("CARGO_BIN_EXE_influxctl-cred")));
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", env.path().join("home"))
        .env("XDG_CONFIG_HOME", env.path().join("xdg-config"))
        .env("INFLUXCTL_CRED_HOME", env.cred_home())
        .env("CI", "true")
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/influxctl-cred-test-bus");
    let out = c.args(["exec", "-p", "prod", "--"]).arg(&child).output().unwrap();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&out.status),
        Some(6),
        "exec did not die by SIGABRT: {:?} {}",
        out.status,
        text(&out.stderr)
    );
    let left = new_files(&cwd, &known);
    assert!(left.is_empty(), "exec left a core: {left:?}");
    assert!(env.files_containing(TOKEN).iter().all(|p| p == &plain), "token on disk");
}
