//! `exec` against the stand-in influxctl: the token reaches it only through the derived config
//! (never argv, never its environment), the derived config is private and always removed, the
//! user's config is untouched, influxctl's own flags choose config and profile, signals and
//! exit codes pass through, and a binding that no longer matches stops the run before it starts.

// Linux: the runtime dir of these tests is on /dev/shm, which macOS does not have.
#![cfg(target_os = "linux")]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::fake_influxctl::{binary, report, sha256};
use crate::util::{TOKEN, TestEnv, text};

const CONFIG: &str = r#"# my clusters
[[profile]]
  name = "default"
  product = "dedicated"
  account_id = "acc-1"
  cluster_id = "clu-1"
  tls = { insecure = false }

[[profile]]
  name = "prod"   # production
  product = "dedicated"
  account_id = "acc-1"
  cluster_id = "clu-2"

[[profile]]
  name = "stage"
  product = "dedicated"
  account_id = "acc-1"
  cluster_id = "clu-3"
"#;

const PROD: &str = "M.V1.test-prod-0123456789";
const STAGE: &str = "M.V1.test-stage-0123456789";

/// A test home with influxctl's config, a private runtime dir (on the tmpfs /dev/shm, as
/// `$XDG_RUNTIME_DIR` is) and a report path.
struct Setup {
    env: TestEnv,
    run: tempfile::TempDir,
}

impl Setup {
    fn new() -> Setup {
        let env = TestEnv::new();
        env.write_influxctl_config(CONFIG);
        let run = tempfile::Builder::new().prefix("icred-run-").tempdir_in("/dev/shm").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(run.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        Setup { env, run }
    }

    fn run_dir(&self) -> PathBuf {
        self.run.path().to_owned()
    }

    fn report_path(&self) -> PathBuf {
        self.env.path().join("report.json")
    }

    fn report(&self) -> Option<serde_json::Value> {
        report(&self.report_path())
    }

    /// `influxctl-cred` with tokens for default, prod and stage in the env store.
    fn cmd(&self) -> assert_cmd::Command {
        let mut c = self.env.cmd();
        c.env("XDG_RUNTIME_DIR", self.run_dir())
            .env("FAKE_INFLUXCTL_REPORT", self.report_path())
            .env("INFLUXCTL_CRED_TOKEN_DEFAULT", TOKEN)
            .env("INFLUXCTL_CRED_TOKEN_PROD", PROD)
            .env("INFLUXCTL_CRED_TOKEN_STAGE", STAGE);
        c
    }

    /// The same as a `std::process::Command`, to spawn and signal.
    /// `exec -- fake database list` with a stand-in that sleeps, returned once the stand-in
    /// is running (it touches a ready file).
    fn spawn_running_child(&self) -> Child {
        let ready = self.env.path().join("ready");
        let ready_s = ready.to_string_lossy().into_owned();
        let helper = self.spawn(
            &["exec", "--inject", "file", "--", &fake(), "database", "list"],
            &[("FAKE_INFLUXCTL_SLEEP_MS", "20000"), ("FAKE_INFLUXCTL_READY", &ready_s)],
        );
        wait_for(&ready);
        helper
    }

    fn spawn(&self, args: &[&str], extra: &[(&str, &str)]) -> Child {
        let p = self.env.path();
        let mut c = Command::new(env!("CARGO_BIN_EXE_influxctl-cred"));
        c.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", p.join("home"))
            .env("XDG_CONFIG_HOME", p.join("xdg-config"))
            .env("XDG_RUNTIME_DIR", self.run_dir())
            .env("INFLUXCTL_CRED_HOME", self.env.cred_home())
            .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/influxctl-cred-test-bus")
            .env("FAKE_INFLUXCTL_REPORT", self.report_path())
            .env("INFLUXCTL_CRED_TOKEN_DEFAULT", TOKEN)
            .args(args)
            .envs(extra.iter().copied())
            .stdin(Stdio::null());
        c.spawn().unwrap()
    }

    /// Per-run folders left in the runtime dir.
    fn leftovers(&self) -> Vec<PathBuf> {
        match std::fs::read_dir(self.run_dir().join("influxctl-cred")) {
            Ok(read) => read.flatten().map(|e| e.path()).collect(),
            Err(_) => Vec::new(),
        }
    }
}

fn fake() -> String {
    binary().to_string_lossy().into_owned()
}

fn wait_for(path: &Path) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !path.exists() {
        assert!(Instant::now() < deadline, "{} never appeared", path.display());
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn exec_token_reaches_child_only_through_private_derived_config() {
    let s = Setup::new();
    let before = std::fs::read(s.env.influxctl_config()).unwrap();
    let out = s
        .cmd()
        .env("FAKE_INFLUXCTL_SCAN_PROC", "1")
        .env("INFLUXCTL_CRED_TOKEN", TOKEN)
        .args(["-v", "exec", "--inject", "file", "--", &fake(), "database", "list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let r = s.report().expect("the stand-in ran");
    assert_eq!(r["config_on_tmpfs"], true, "the derived config is on a tmpfs");
    assert_eq!(r["mgmt_token_sha256"], sha256(TOKEN));
    assert_eq!(r["proc_hits"], serde_json::json!([]), "the token is in some process's argv");
    assert_eq!(r["env_holds_token"], false);
    let inherited = r["env_cred_vars"].as_array().unwrap();
    assert!(inherited.contains(&"INFLUXCTL_CRED_HOME".into()), "{inherited:?}");
    assert!(
        !inherited.iter().any(|v| v.as_str().unwrap().starts_with("INFLUXCTL_CRED_TOKEN")),
        "{inherited:?}"
    );
    assert_eq!(r["config_mode"], 0o600);
    assert_eq!(r["dir_mode"], 0o700);
    assert_eq!(r["config_is_fifo"], false);
    let derived = r["config_path"].as_str().unwrap();
    assert!(derived.starts_with(s.run_dir().to_str().unwrap()), "{derived}: {}", text(&out.stderr));
    assert!(!r["argv"].to_string().contains(TOKEN));
    assert!(s.leftovers().is_empty(), "{:?}", s.leftovers());
    assert!(!Path::new(derived).exists());
    assert_eq!(std::fs::read(s.env.influxctl_config()).unwrap(), before);
    assert!(!text(&out.stderr).contains(TOKEN) && !text(&out.stdout).contains(TOKEN));
    assert!(s.env.files_containing(TOKEN).is_empty(), "{:?}", s.env.files_containing(TOKEN));
}

#[test]
fn exec_fifo_serves_two_reads_and_holds_nothing_on_disk() {
    let s = Setup::new();
    let out = s
        .cmd()
        .env("FAKE_INFLUXCTL_READS", "2")
        .args(["exec", "--inject", "fifo", "--", &fake(), "database", "list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let r = s.report().unwrap();
    assert_eq!(
        (&r["config_is_fifo"], &r["reads"], &r["reads_equal"]),
        (&true.into(), &2.into(), &true.into())
    );
    assert_eq!(r["mgmt_token_sha256"], sha256(TOKEN));
    assert_eq!(r["config_mode"], 0o600);
    assert!(s.leftovers().is_empty());
    assert!(s.env.files_containing(TOKEN).is_empty());
}

#[test]
fn exec_passes_exit_codes_and_cleans_up_after_a_crash() {
    let s = Setup::new();
    for (knob, value, code) in
        [("FAKE_INFLUXCTL_EXIT", "3", 3), ("FAKE_INFLUXCTL_CRASH", "abort", 128 + 6)]
    {
        let out = s
            .cmd()
            .env(knob, value)
            // The child model (exec_in_place.rs has the memfd run, which becomes influxctl).
            .args(["exec", "--inject", "file", "--", &fake(), "database", "list"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(code), "{knob}: {}", text(&out.stderr));
        assert!(s.leftovers().is_empty(), "{knob}: {:?}", s.leftovers());
    }
}

#[test]
fn exec_forwards_signals_then_removes_derived_config() {
    for sig in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP, Signal::SIGQUIT] {
        let s = Setup::new();
        let mut helper = s.spawn_running_child();
        assert_eq!(s.leftovers().len(), 1, "the derived config exists while the child runs");
        kill(Pid::from_raw(helper.id() as i32), sig).unwrap();
        let status = helper.wait().unwrap();
        assert_eq!(status.code(), Some(128 + sig as i32), "{sig:?}: the child died of it");
        assert!(s.leftovers().is_empty(), "{sig:?}: {:?}", s.leftovers());
    }
}

#[test]
fn exec_sweeps_leftovers_of_a_sigkilled_helper_on_file_runs_only() {
    let s = Setup::new();
    let mut helper = s.spawn_running_child();
    let child = s.report().unwrap()["pid"].as_i64().unwrap() as i32;
    kill(Pid::from_raw(helper.id() as i32), Signal::SIGKILL).unwrap();
    helper.wait().unwrap();
    let _ = kill(Pid::from_raw(child), Signal::SIGKILL);
    assert_eq!(s.leftovers().len(), 1, "a SIGKILLed helper cannot clean up");
    // A memfd run (the default on Linux) never leaves anything, so it scans nothing.
    let out = s.cmd().args(["exec", "--", &fake(), "database", "list"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(s.leftovers().len(), 1, "a memfd run swept the derived-config folder");
    for inject in ["file", "fifo"] {
        let _ = std::fs::remove_file(s.report_path());
        let _ = std::fs::remove_file(s.env.path().join("ready"));
        let mut helper = s.spawn_running_child();
        let child = s.report().unwrap()["pid"].as_i64().unwrap() as i32;
        kill(Pid::from_raw(helper.id() as i32), Signal::SIGKILL).unwrap();
        helper.wait().unwrap();
        let _ = kill(Pid::from_raw(child), Signal::SIGKILL);
        assert_eq!(s.leftovers().len(), 1, "{inject}: the SIGKILLed run's folder");
        let out = s
            .cmd()
            .args(["exec", "--inject", inject, "--", &fake(), "database", "list"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{inject}: {}", text(&out.stderr));
        assert!(s.leftovers().is_empty(), "{inject}: {:?}", s.leftovers());
    }
}

#[test]
fn exec_child_starts_with_no_signal_blocked_or_ignored() {
    // The forwarder blocks these in us while the child runs; the child must not inherit that
    // (nor an "ignore"), or it could not be interrupted.
    let s = Setup::new();
    for inject in ["memfd", "file"] {
        let out = s
            .cmd()
            .args(["exec", "--inject", inject, "--", &fake(), "database", "list"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{inject}: {}", text(&out.stderr));
        let r = s.report().unwrap();
        assert_eq!(r["sig_blocked"], 0, "{inject}: the child started with signals blocked");
        let ours: u64 = [1, 2, 3, 15, 17].iter().map(|n| 1u64 << (n - 1)).sum();
        let ignored = r["sig_ignored"].as_u64().unwrap();
        assert_eq!(ignored & ours, 0, "{inject}: the child ignores {ignored:#x}");
    }
}

/// The profile the stand-in used and the token it got, for `exec ARGS`.
fn used(s: &Setup, ours: &[&str], theirs: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let _ = std::fs::remove_file(s.report_path());
    let fake = fake();
    let mut args: Vec<&str> = ours.to_vec();
    args.extend(["exec", "--", &fake]);
    args.extend(theirs);
    args.extend(["database", "list"]);
    let out = s.cmd().envs(env.iter().copied()).args(&args).output().unwrap();
    let code = out.status.code().unwrap();
    match s.report() {
        Some(r) => (
            code,
            r["profile"].as_str().unwrap().to_owned(),
            r["mgmt_token_sha256"].as_str().unwrap_or("").to_owned(),
        ),
        None => (code, String::new(), text(&out.stderr)),
    }
}

#[test]
fn exec_follows_influxctl_profile_precedence() {
    let s = Setup::new();
    let none: &[(&str, &str)] = &[];
    let env = &[("INFLUXCTL_PROFILE", "stage")][..];
    assert_eq!(used(&s, &[], &[], none), (0, "default".into(), sha256(TOKEN)));
    assert_eq!(used(&s, &[], &["--profile", "prod"], none), (0, "prod".into(), sha256(PROD)));
    assert_eq!(used(&s, &[], &["--profile=stage"], none), (0, "stage".into(), sha256(STAGE)));
    assert_eq!(used(&s, &[], &[], env), (0, "stage".into(), sha256(STAGE)));
    assert_eq!(used(&s, &[], &["-profile", "prod"], env), (0, "prod".into(), sha256(PROD)));
    assert_eq!(used(&s, &["-p", "prod"], &[], none), (0, "prod".into(), sha256(PROD)));
    assert_eq!(
        used(&s, &["-p", "prod"], &["--profile=prod"], none),
        (0, "prod".into(), sha256(PROD))
    );
    for (ours, theirs, env) in
        [(&["-p", "prod"][..], &["--profile", "stage"][..], none), (&["-p", "prod"], &[], env)]
    {
        let (code, profile, stderr) = used(&s, ours, theirs, env);
        assert_eq!((code, profile.as_str()), (125, ""), "{ours:?} {theirs:?}: {stderr}");
        assert!(
            stderr.contains("kind: invalid-request") && stderr.contains("contradicts"),
            "{stderr}"
        );
    }
}

#[test]
fn exec_reads_the_config_named_by_config_flag() {
    let s = Setup::new();
    let other = s.env.path().join("other.toml");
    std::fs::write(&other, "[[profile]]\n  name = \"elsewhere\"\n  product = \"clustered\"\n  host = \"h\"\n  port = \"443\"\n").unwrap();
    let before = std::fs::read(&other).unwrap();
    let env = &[("INFLUXCTL_CRED_TOKEN_ELSEWHERE", PROD)][..];
    let flag = format!("--config={}", other.display());
    let got = used(&s, &[], &[&flag, "--profile", "elsewhere"], env);
    assert_eq!(got, (0, "elsewhere".into(), sha256(PROD)));
    let r = s.report().unwrap();
    assert!(!r["argv"].to_string().contains("other.toml"), "the user's --config is replaced");
    let got = used(&s, &[], &["--config", other.to_str().unwrap(), "--profile", "elsewhere"], env);
    assert_eq!(got, (0, "elsewhere".into(), sha256(PROD)));
    assert_eq!(std::fs::read(&other).unwrap(), before);
    // The default config has no such profile and the env entry no cluster to build it from.
    let (code, _, stderr) = used(&s, &[], &["--profile", "elsewhere"], env);
    assert_eq!(code, 125, "{stderr}");
    assert!(stderr.contains("comes from the environment"), "says why: {stderr}");
    assert!(stderr.contains("hint:") && stderr.contains("--config FILE"), "a way out: {stderr}");
}

#[test]
fn exec_refuses_cluster_mismatch_before_influxctl_runs() {
    let s = Setup::new();
    let out = s
        .env
        .cmd()
        .args(["--store", "file", "store", "-p", "prod"])
        .write_stdin(format!("{PROD}\n"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let run = |extra: &[&str]| {
        let _ = std::fs::remove_file(s.report_path());
        let mut c = s.env.cmd();
        c.env("XDG_RUNTIME_DIR", s.run_dir()).env("FAKE_INFLUXCTL_REPORT", s.report_path());
        let mut args = vec!["exec", "-p", "prod", "--"];
        let fake = fake();
        args.push(&fake);
        args.extend(extra);
        args.extend(["database", "list"]);
        c.args(&args).output().unwrap()
    };
    let out = run(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(s.report().unwrap()["mgmt_token_sha256"], sha256(PROD));
    // --cluster sends the token elsewhere than the profile says.
    let out = run(&["--cluster", "clu-9"]);
    assert_eq!(out.status.code(), Some(125));
    assert!(text(&out.stderr).contains("kind: cluster-mismatch"), "{}", text(&out.stderr));
    assert!(s.report().is_none(), "influxctl must not run");
    // The config now points prod at another cluster.
    s.env.write_influxctl_config(&CONFIG.replace("clu-2", "clu-9"));
    let out = run(&[]);
    assert_eq!(out.status.code(), Some(125));
    assert!(text(&out.stderr).contains("kind: cluster-mismatch"), "{}", text(&out.stderr));
    assert!(s.report().is_none(), "influxctl must not run");
    assert!(!text(&out.stderr).contains(PROD));
}

#[test]
fn exec_builds_a_missing_profile_from_the_binding() {
    let s = Setup::new();
    let out = s
        .env
        .cmd()
        .args(["--store", "file", "store", "-p", "prod"])
        .write_stdin(PROD)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    std::fs::remove_file(s.env.influxctl_config()).unwrap();
    let mut c = s.env.cmd();
    c.env("XDG_RUNTIME_DIR", s.run_dir()).env("FAKE_INFLUXCTL_REPORT", s.report_path());
    let out = c.args(["exec", "-p", "prod", "--", &fake(), "database", "list"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(s.report().unwrap()["mgmt_token_sha256"], sha256(PROD));
    assert!(!s.env.influxctl_config().exists(), "no config is created for the user");
}

#[test]
fn exec_help_version_and_no_arguments_need_no_token() {
    let s = Setup::new();
    for args in [&["version"][..], &["--help"], &["help"], &[]] {
        let mut c = s.env.cmd();
        c.env("XDG_RUNTIME_DIR", s.run_dir()).arg("exec").arg("--").arg(binary()).args(args);
        let out = c.output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", text(&out.stderr));
        assert!(!text(&out.stdout).is_empty());
        assert!(s.leftovers().is_empty());
    }
}

#[test]
fn exec_missing_or_unrunnable_program_is_127_or_126() {
    let s = Setup::new();
    let out = s.cmd().args(["exec", "--", "influxctl-cred-no-such-program", "x"]).output().unwrap();
    assert_eq!(out.status.code(), Some(127));
    let dir = s.env.path().to_str().unwrap().to_owned();
    let out = s.cmd().args(["exec", "--", &dir, "x"]).output().unwrap();
    assert_eq!(out.status.code(), Some(126));
    assert!(s.leftovers().is_empty());
}

#[test]
fn exec_allow_missing_runs_program_unchanged() {
    let s = Setup::new();
    let out = s
        .env
        .cmd()
        .env("FAKE_INFLUXCTL_REPORT", s.report_path())
        .env("INFLUXCTL_CRED_TOKEN_OTHER", TOKEN)
        .args(["exec", "--allow-missing", "--", &fake(), "database", "list"])
        .output()
        .unwrap();
    // The stand-in ran without a token (and fails as influxctl would without a login).
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let r = s.report().unwrap();
    assert_eq!(r["argv"].as_array().unwrap().len(), 3, "no --config added: {}", r["argv"]);
    let out = s.env.cmd().args(["exec", "--", &fake(), "database", "list"]).output().unwrap();
    assert_eq!(out.status.code(), Some(125));
}

#[test]
fn exec_store_flag_reads_only_that_store() {
    let s = Setup::new();
    let file_token = "M.V1.test-file-prod-0123456789";
    let out = s
        .env
        .cmd()
        .args(["--store", "file", "store", "-p", "prod"])
        .write_stdin(file_token)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let none: &[(&str, &str)] = &[];
    assert_eq!(used(&s, &["-p", "prod"], &[], none), (0, "prod".into(), sha256(PROD)), "env first");
    let got = used(&s, &["-p", "prod", "--store", "file"], &[], none);
    assert_eq!(got, (0, "prod".into(), sha256(file_token)));
}

/// The audit log (docs/spec.md §13) records exec's release with the program, and a refused one with
/// its kind; never the token.
#[test]
fn exec_releases_and_refusals_are_audited() {
    let s = Setup::new();
    let out = s
        .env
        .cmd()
        .args(["--store", "file", "store", "-p", "prod", "--token-id", "tok-7"])
        .write_stdin(format!("{PROD}\n"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let run = |extra: &[&str]| {
        let mut c = s.env.cmd();
        c.env("XDG_RUNTIME_DIR", s.run_dir()).env("FAKE_INFLUXCTL_REPORT", s.report_path());
        let fake = fake();
        let mut args = vec!["exec", "-p", "prod", "--", fake.as_str()];
        args.extend(extra);
        args.extend(["database", "list"]);
        c.args(&args).output().unwrap()
    };
    assert_eq!(run(&[]).status.code(), Some(0));
    assert_eq!(run(&["--cluster", "clu-9"]).status.code(), Some(125));
    let raw = std::fs::read_to_string(s.env.cred_home().join("audit.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> =
        raw.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2, "{raw}");
    let (ok, refused) = (&lines[0], &lines[1]);
    assert_eq!(ok["command"], "exec");
    assert_eq!(ok["outcome"], "released");
    assert_eq!(ok["store"], "file");
    assert_eq!(ok["token_id"], "tok-7");
    assert_eq!(ok["cluster"], "clu-2");
    assert_eq!(ok["program"], fake());
    let name = binary().file_name().unwrap().to_string_lossy().into_owned();
    assert_eq!(ok["argv0"], name.as_str());
    assert_eq!(refused["outcome"], "cluster-mismatch");
    assert_eq!(refused["profile"], "prod");
    assert!(!raw.contains(PROD));
}
