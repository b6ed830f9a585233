//! `exec` around a script (docs/spec.md §7.4): the script's argv passes untouched, every `influxctl` it
//! runs gets the token through the shim first on its `PATH`, `INFLUXCTL_CRED_CONFIG` names the
//! derived config, the token is in no environment and no argv, the shim folder is gone
//! afterwards, a nested exec injects nothing twice, and a missing real influxctl is exit 127
//! from the shim, not a loop.

// Linux: the runtime dir of these tests is on /dev/shm.
#![cfg(target_os = "linux")]

use std::path::{Path, PathBuf};

use crate::fake_influxctl::{built, path_dir, path_with, report, sha256};
use crate::util::{TOKEN, TestEnv, text};

const CONFIG: &str = r#"[[profile]]
  name = "default"
  product = "dedicated"
  account_id = "acc-1"
  cluster_id = "clu-1"

[[profile]]
  name = "prod"
  product = "dedicated"
  account_id = "acc-1"
  cluster_id = "clu-2"
"#;

const PROD: &str = "M.V1.test-script-prod-0123456789";

struct Setup {
    env: TestEnv,
    run: tempfile::TempDir,
    /// `influxctl` (the stand-in) and `influxctl-cred`, first on `PATH`.
    bin: PathBuf,
}

impl Setup {
    fn new() -> Setup {
        let env = TestEnv::new();
        env.write_influxctl_config(CONFIG);
        let run = tempfile::Builder::new().prefix("icred-run-").tempdir_in("/dev/shm").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(run.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        let bin = path_dir(env.path());
        Setup { env, run, bin }
    }

    /// A folder for what the script writes.
    fn out(&self) -> PathBuf {
        let dir = self.env.path().join("out");
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn cmd(&self) -> assert_cmd::Command {
        let mut c = self.env.cmd();
        c.env("XDG_RUNTIME_DIR", self.run.path())
            .env("PATH", path_with(&self.bin))
            .env("FAKE_INFLUXCTL_REPORT", self.out().join("report.json"))
            .env("INFLUXCTL_CRED_TOKEN_DEFAULT", TOKEN)
            .env("INFLUXCTL_CRED_TOKEN_PROD", PROD);
        c
    }

    /// Per-run folders left in the runtime dir (derived configs, shim folders).
    fn leftovers(&self) -> Vec<PathBuf> {
        match std::fs::read_dir(self.run.path().join("influxctl-cred")) {
            Ok(read) => read.flatten().map(|e| e.path()).collect(),
            Err(_) => Vec::new(),
        }
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Each influxctl call writes its own report; the script records its argv, env and PATH.
const SCRIPT: &str = r#"
printf '%s\n' "$0" "$@" > "$OUT/argv"
env > "$OUT/env"
command -v influxctl > "$OUT/which"
FAKE_INFLUXCTL_REPORT="$OUT/r1.json" influxctl database list || exit 11
FAKE_INFLUXCTL_REPORT="$OUT/r2.json" influxctl database list || exit 12
FAKE_INFLUXCTL_REPORT="$OUT/r3.json" influxctl --config "$INFLUXCTL_CRED_CONFIG" database list || exit 13
"#;

#[test]
fn script_argv_is_untouched_and_every_influxctl_call_gets_the_token() {
    for inject in ["memfd", "file", "fifo"] {
        let s = Setup::new();
        let out = s.out();
        let result = s
            .cmd()
            .env("OUT", &out)
            .env("FAKE_INFLUXCTL_SCAN_PROC", "1")
            .args(["exec", "--inject", inject, "--", "sh", "-c", SCRIPT])
            .args(["my-script", "--config", "first arg", "-p"])
            .output()
            .unwrap();
        assert_eq!(result.status.code(), Some(0), "{inject}: {}", text(&result.stderr));
        assert_eq!(
            read(&out.join("argv")),
            "my-script\n--config\nfirst arg\n-p\n",
            "{inject}: the script's $0 and $@ are its own"
        );
        for r in ["r1.json", "r2.json", "r3.json"] {
            let got = report(&out.join(r)).unwrap_or_else(|| panic!("{inject}: {r} missing"));
            assert_eq!(got["mgmt_token_sha256"], sha256(TOKEN), "{inject} {r}: {got}");
            assert_eq!(got["profile"], "default");
            assert_eq!(got["proc_hits"], serde_json::json!([]), "{inject}: a token in some argv");
            assert_eq!(got["env_holds_token"], false, "{inject}");
            assert!(!got["argv"].to_string().contains(TOKEN));
        }
        let env = read(&out.join("env"));
        assert!(!env.contains(TOKEN), "{inject}: the token is in the script's environment");
        let config = env
            .lines()
            .find_map(|l| l.strip_prefix("INFLUXCTL_CRED_CONFIG="))
            .unwrap_or_else(|| panic!("{inject}: INFLUXCTL_CRED_CONFIG unset: {env}"));
        let r1 = report(&out.join("r1.json")).unwrap();
        if inject == "memfd" {
            // A socket that hands each shim the sealed memfd, read as /dev/fd/N.
            assert!(config.ends_with("/config.sock"), "{config}");
            assert!(Path::new(config).starts_with(s.run.path()), "{config}");
            assert!(r1["config_path"].as_str().unwrap().starts_with("/dev/fd/"), "{r1}");
            assert!(r1["config_link"].as_str().unwrap().starts_with("/memfd:"), "{r1}");
        } else {
            assert_eq!(r1["config_path"], config, "{inject}: the shim used INFLUXCTL_CRED_CONFIG");
        }
        let argv: Vec<String> = serde_json::from_value(r1["argv"].clone()).unwrap();
        assert_eq!(argv.iter().filter(|a| a.starts_with("--config")).count(), 1, "{argv:?}");
        let shim = PathBuf::from(read(&out.join("which")).trim());
        assert!(shim.starts_with(s.run.path()), "{inject}: influxctl is {}", shim.display());
        assert!(!shim.exists(), "{inject}: the shim outlived the run");
        assert!(s.leftovers().is_empty(), "{inject}: {:?}", s.leftovers());
        let stderr = text(&result.stderr);
        assert!(!stderr.contains("names its own --config"), "{inject}: {stderr}");
        assert!(!stderr.contains(TOKEN) && !text(&result.stdout).contains(TOKEN));
        assert!(s.env.files_containing(TOKEN).is_empty(), "{:?}", s.env.files_containing(TOKEN));
    }
}

#[test]
fn script_under_p_runs_influxctl_for_that_profile() {
    let s = Setup::new();
    let out = s.out();
    let script = r#"FAKE_INFLUXCTL_REPORT="$OUT/r.json" influxctl database list"#;
    let result =
        s.cmd().env("OUT", &out).args(["-p", "prod", "exec", "--", "sh", "-c", script]).output();
    let result = result.unwrap();
    assert_eq!(result.status.code(), Some(0), "{}", text(&result.stderr));
    let got = report(&out.join("r.json")).unwrap();
    assert_eq!(
        (&got["profile"], &got["mgmt_token_sha256"]),
        (&"prod".into(), &sha256(PROD).into())
    );
}

#[test]
fn script_exit_code_passes_through_and_nothing_is_left() {
    let s = Setup::new();
    let result = s.cmd().args(["exec", "--", "sh", "-c", "exit 7"]).output().unwrap();
    assert_eq!(result.status.code(), Some(7), "{}", text(&result.stderr));
    assert!(s.leftovers().is_empty(), "{:?}", s.leftovers());
}

#[test]
fn nested_exec_injects_nothing_twice() {
    let s = Setup::new();
    let out = s.out();
    // The inner exec runs influxctl (as the shell-init function does), then a script of its own.
    let script = r#"
FAKE_INFLUXCTL_REPORT="$OUT/inner.json" influxctl-cred exec --allow-missing -- influxctl database list || exit 11
influxctl-cred exec -- sh -c 'printf "%s\n" "$PATH" > "$OUT/inner-path"; FAKE_INFLUXCTL_REPORT="$OUT/deep.json" influxctl database list' || exit 12
"#;
    let result = s.cmd().env("OUT", &out).args(["exec", "--", "sh", "-c", script]).output();
    let result = result.unwrap();
    assert_eq!(result.status.code(), Some(0), "{}", text(&result.stderr));
    for r in ["inner.json", "deep.json"] {
        let got = report(&out.join(r)).unwrap_or_else(|| panic!("{r} missing"));
        assert_eq!(got["mgmt_token_sha256"], sha256(TOKEN), "{r}: {got}");
        let argv: Vec<String> = serde_json::from_value(got["argv"].clone()).unwrap();
        assert_eq!(argv.iter().filter(|a| a.starts_with("--config")).count(), 1, "{r}: {argv:?}");
    }
    let path = read(&out.join("inner-path"));
    let shims = std::env::split_paths(path.trim()).filter(|d| d.starts_with(s.run.path())).count();
    assert_eq!(shims, 1, "one shim folder on PATH: {path}");
    // The audit log records the one release of the outer exec only.
    let audit = read(&s.env.cred_home().join("audit.jsonl"));
    assert_eq!(audit.lines().count(), 1, "{audit}");
    assert!(s.leftovers().is_empty(), "{:?}", s.leftovers());
}

#[test]
fn missing_real_influxctl_is_127_from_the_shim_not_a_loop() {
    let s = Setup::new();
    // PATH holds `sh` only: no influxctl anywhere.
    let only_sh = s.env.path().join("only-sh");
    std::fs::create_dir_all(&only_sh).unwrap();
    std::os::unix::fs::symlink("/bin/sh", only_sh.join("sh")).unwrap();
    let result = s
        .cmd()
        .env("PATH", &only_sh)
        .args(["exec", "--", "sh", "-c", "influxctl database list; echo \"code $?\""])
        .output()
        .unwrap();
    assert_eq!(result.status.code(), Some(0), "{}", text(&result.stderr));
    assert_eq!(text(&result.stdout).trim(), "code 127");
    assert!(text(&result.stderr).contains("influxctl not found"), "{}", text(&result.stderr));
    assert!(s.leftovers().is_empty(), "{:?}", s.leftovers());
}

#[test]
fn program_is_influxctl_by_name_or_by_being_the_same_file() {
    let s = Setup::new();
    let report_path = s.out().join("report.json");
    let fake = built();
    let argv = |extra: &[(&str, &Path)], path: Option<&Path>| {
        let _ = std::fs::remove_file(&report_path);
        let mut c = s.cmd();
        if let Some(p) = path {
            c.env("PATH", p);
        }
        for (k, v) in extra {
            c.env(k, v);
        }
        let result = c.arg("exec").arg("--").arg(&fake).args(["database", "list"]).output();
        let result = result.unwrap();
        let got = report(&report_path).unwrap_or_else(|| panic!("{}", text(&result.stderr)));
        let argv: Vec<String> = serde_json::from_value(got["argv"].clone()).unwrap();
        (argv.iter().any(|a| a.starts_with("--config")), got["mgmt_token_sha256"].clone())
    };
    // `fake-influxctl` is the `influxctl` first on PATH (a link to it): influxctl.
    assert_eq!(argv(&[], None), (true, sha256(TOKEN).into()));
    // $INFLUXCTL_CRED_INFLUXCTL names it: influxctl.
    let bare = s.env.path().join("bare");
    std::fs::create_dir_all(&bare).unwrap();
    std::os::unix::fs::symlink("/bin/sh", bare.join("sh")).unwrap();
    assert_eq!(
        argv(&[("INFLUXCTL_CRED_INFLUXCTL", &fake)], Some(&bare)),
        (true, sha256(TOKEN).into())
    );
    // Neither: another program, run with its arguments untouched (it finds no token itself).
    assert_eq!(argv(&[], Some(&bare)), (false, serde_json::Value::Null));
}

/// With no `$XDG_RUNTIME_DIR`, a script's shim and FIFO live under our own home, never at a
/// name in `/dev/shm`: the old fixed `/dev/shm/influxctl-cred-<uid>`, created first by another
/// user, blocks nothing.
#[test]
fn script_without_runtime_dir_ignores_a_squatted_name_in_dev_shm() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let uid = nix::unistd::getuid();
    let squat = PathBuf::from(format!("/dev/shm/influxctl-cred-{uid}"));
    let _restore = Squat::take(&squat);
    for inject in ["memfd", "file", "fifo"] {
        let s = Setup::new();
        let out = s.out();
        let script = r#"command -v influxctl > "$OUT/which"; FAKE_INFLUXCTL_REPORT="$OUT/r.json" influxctl database list"#;
        let mut c = s.cmd();
        c.env_remove("XDG_RUNTIME_DIR").env("OUT", &out);
        let result = c.args(["exec", "--inject", inject, "--", "sh", "-c", script]).output();
        let result = result.unwrap();
        assert_eq!(result.status.code(), Some(0), "{inject}: {}", text(&result.stderr));
        let got = report(&out.join("r.json")).unwrap_or_else(|| panic!("{inject}: no call"));
        assert_eq!(got["mgmt_token_sha256"], sha256(TOKEN), "{inject}: {got}");
        let shim = PathBuf::from(read(&out.join("which")).trim());
        let home_run = s.env.cred_home().join("run");
        assert!(shim.starts_with(&home_run), "{inject}: {}", shim.display());
        let meta = std::fs::symlink_metadata(&home_run).unwrap();
        assert!(meta.is_dir() && meta.uid() == uid.as_raw());
        assert_eq!(meta.permissions().mode() & 0o777, 0o700);
        assert!(!shim.exists(), "{inject}: the shim outlived the run");
        assert_eq!(std::fs::read_dir(&home_run).unwrap().count(), 0, "{inject}: leftovers");
    }
}

/// The old fixed name in `/dev/shm`, held by another user for one test (root runs the CI
/// tests; otherwise it is only made to exist) and given back afterwards, even on a panic: the
/// folder is shared by every test run on the machine.
struct Squat {
    path: PathBuf,
    before: Option<(u32, u32)>,
}

impl Squat {
    fn take(path: &Path) -> Squat {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let before = std::fs::symlink_metadata(path).ok().map(|m| (m.uid(), m.gid()));
        if before.is_none() {
            std::fs::create_dir(path).unwrap();
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700)).unwrap();
        }
        if nix::unistd::getuid().is_root() {
            std::os::unix::fs::chown(path, Some(65534), Some(65534)).unwrap();
        }
        Squat { path: path.to_owned(), before }
    }
}

impl Drop for Squat {
    fn drop(&mut self) {
        match self.before {
            Some((uid, gid)) => {
                let _ = std::os::unix::fs::chown(&self.path, Some(uid), Some(gid));
            }
            None => {
                let _ = std::fs::remove_dir(&self.path);
            }
        }
    }
}

/// Every fd and the environment of a process, as bytes: what it could read the token from.
/// Opened without blocking (a FIFO with no writer must not hang the test).
fn what_it_can_read(pid: i32) -> Vec<u8> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let open =
        |p: &Path| std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(p);
    let mut seen = std::fs::read(format!("/proc/{pid}/environ")).unwrap();
    let environ = String::from_utf8_lossy(&seen).into_owned();
    let mut paths: Vec<PathBuf> =
        std::fs::read_dir(format!("/proc/{pid}/fd")).unwrap().flatten().map(|e| e.path()).collect();
    // And whatever its INFLUXCTL_CRED_CONFIG names.
    paths.extend(
        environ
            .split('\0')
            .filter_map(|v| v.strip_prefix("INFLUXCTL_CRED_CONFIG="))
            .map(PathBuf::from),
    );
    for p in paths {
        if let Ok(mut f) = open(&p) {
            let _ = f.read_to_end(&mut seen);
        }
    }
    seen
}

/// A script's background process (setsid, detached) holds nothing that reads the token once
/// `exec` has returned, in every inject mode; the script's foreground influxctl calls got it.
#[test]
fn script_background_process_cannot_read_the_token_after_exec_returns() {
    for inject in ["memfd", "file", "fifo"] {
        let s = Setup::new();
        let out = s.out();
        let script = r#"
setsid sh -c 'echo $$ > "$OUT/pid.tmp"; mv "$OUT/pid.tmp" "$OUT/pid"; exec sleep 60' </dev/null >/dev/null 2>&1 &
FAKE_INFLUXCTL_REPORT="$OUT/r.json" influxctl database list || exit 11
while [ ! -e "$OUT/pid" ]; do sleep 0.05; done
"#;
        let result = s
            .cmd()
            .env("OUT", &out)
            .args(["exec", "--inject", inject, "--", "sh", "-c", script])
            .output()
            .unwrap();
        let pid: i32 = read(&out.join("pid")).trim().parse().unwrap();
        let seen = what_it_can_read(pid);
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
        assert_eq!(result.status.code(), Some(0), "{inject}: {}", text(&result.stderr));
        let got = report(&out.join("r.json")).unwrap_or_else(|| panic!("{inject}: no call"));
        assert_eq!(got["mgmt_token_sha256"], sha256(TOKEN), "{inject}: {got}");
        let token = TOKEN.as_bytes();
        assert!(
            !seen.windows(token.len()).any(|w| w == token),
            "{inject}: the background process can still read the token"
        );
    }
}

/// Eight influxctl calls a script runs at once, under the default injection, each get the
/// whole derived config and the token (each its own descriptor of the memfd: not a share of
/// one stream, as readers of one FIFO that open it at the same instant get). A few rounds, so
/// that calls do meet.
#[test]
fn script_parallel_influxctl_calls_each_get_the_whole_config() {
    let script = r#"
for i in 1 2 3 4 5 6 7 8; do
  ( FAKE_INFLUXCTL_REPORT="$OUT/r$i.json" influxctl database list; echo $? > "$OUT/code$i" ) &
done
wait
"#;
    for round in 0..3 {
        let s = Setup::new();
        let out = s.out();
        let result =
            s.cmd().env("OUT", &out).args(["exec", "--", "sh", "-c", script]).output().unwrap();
        assert_eq!(result.status.code(), Some(0), "{round}: {}", text(&result.stderr));
        for i in 1..=8 {
            let got = report(&out.join(format!("r{i}.json")))
                .unwrap_or_else(|| panic!("{round}: call {i} wrote no report"));
            assert_eq!(got["mgmt_token_sha256"], sha256(TOKEN), "round {round} call {i}: {got}");
            assert_eq!(got["profile"], "default", "round {round} call {i}: {got}");
            assert!(got["error"].is_null(), "round {round} call {i}: {got}");
            assert_eq!(read(&out.join(format!("code{i}"))).trim(), "0", "round {round} call {i}");
        }
        assert!(s.leftovers().is_empty(), "{:?}", s.leftovers());
        assert!(!text(&result.stderr).contains(TOKEN));
    }
}

/// A process of another uid that the script starts (`setpriv`, as root runs these tests)
/// gets nothing from the config socket: the 0700 folder around it already keeps it out (and
/// the socket would refuse its uid). It runs our shim under the script's markers; the shim
/// runs influxctl without the derived config, with a warning. The script's own call, after
/// it, gets the token.
#[test]
fn script_process_of_another_uid_cannot_get_the_config() {
    if !nix::unistd::getuid().is_root() {
        eprintln!("skipped: setpriv to another uid needs root");
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let s = Setup::new();
    let out = s.out();
    // Our binary as `influxctl`, in a folder uid 65534 can reach.
    let open = tempfile::Builder::new().prefix("icred-other-").tempdir_in("/dev/shm").unwrap();
    std::fs::set_permissions(open.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let shim = open.path().join("influxctl");
    std::os::unix::fs::symlink(assert_cmd::cargo::cargo_bin("influxctl-cred"), &shim).unwrap();
    // Its report and stderr go to a folder of its own.
    let theirs_dir = open.path().join("theirs");
    std::fs::create_dir(&theirs_dir).unwrap();
    std::os::unix::fs::chown(&theirs_dir, Some(65534), Some(65534)).unwrap();
    let script = r#"
FAKE_INFLUXCTL_REPORT="$THEIRS/r.json" setpriv --reuid 65534 --regid 65534 --clear-groups "$SHIM" database list 2>"$THEIRS/err"
FAKE_INFLUXCTL_REPORT="$OUT/mine.json" influxctl database list
"#;
    let result = s
        .cmd()
        .env("OUT", &out)
        .env("SHIM", &shim)
        .env("THEIRS", &theirs_dir)
        .args(["exec", "--", "sh", "-c", script])
        .output()
        .unwrap();
    assert_eq!(result.status.code(), Some(0), "{}", text(&result.stderr));
    let err = read(&theirs_dir.join("err"));
    assert!(err.contains("running influxctl without it"), "{err}");
    let theirs = report(&theirs_dir.join("r.json")).unwrap_or_else(|| panic!("no report: {err}"));
    assert!(theirs["mgmt_token_sha256"].is_null(), "{theirs}");
    let argv: Vec<String> = serde_json::from_value(theirs["argv"].clone()).unwrap();
    assert!(!argv.iter().any(|a| a.starts_with("--config")), "{argv:?}");
    assert!(!read(&theirs_dir.join("r.json")).contains(TOKEN) && !err.contains(TOKEN));
    let mine = report(&out.join("mine.json")).unwrap();
    assert_eq!(mine["mgmt_token_sha256"], sha256(TOKEN), "{mine}");
}

#[test]
fn shim_respects_a_config_the_script_chose_and_refuses_another_profile() {
    let s = Setup::new();
    let out = s.out();
    let other = s.env.path().join("other.toml");
    std::fs::write(&other, CONFIG).unwrap();
    // The config the derived one was made from, named by the script: replaced, token given.
    let source = s.env.influxctl_config();
    let script = r#"
FAKE_INFLUXCTL_REPORT="$OUT/same.json" influxctl --config "$1" database list
FAKE_INFLUXCTL_REPORT="$OUT/other.json" influxctl --config "$2" database list
FAKE_INFLUXCTL_REPORT="$OUT/prod.json" influxctl --profile prod database list
echo $? > "$OUT/prod-code"
exit 0
"#;
    let result = s
        .cmd()
        .env("OUT", &out)
        .args(["exec", "--", "sh", "-c", script, "s"])
        .arg(&source)
        .arg(&other)
        .output()
        .unwrap();
    assert_eq!(result.status.code(), Some(0), "{}", text(&result.stderr));
    let stderr = text(&result.stderr);
    let same = report(&out.join("same.json")).unwrap();
    assert_eq!(same["mgmt_token_sha256"], sha256(TOKEN), "{same}");
    let source_text = source.to_str().unwrap();
    assert!(!same["argv"].to_string().contains(source_text), "replaced: {}", same["argv"]);
    let theirs = report(&out.join("other.json")).unwrap();
    assert_eq!(theirs["config_path"], other.to_str().unwrap(), "the script's choice stands");
    assert!(theirs["mgmt_token_sha256"].is_null(), "{theirs}");
    assert!(stderr.contains("names its own --config"), "{stderr}");
    // Another profile than the token's: a usage error, influxctl never runs.
    assert!(report(&out.join("prod.json")).is_none(), "influxctl ran for another profile");
    assert_eq!(read(&out.join("prod-code")).trim(), "125", "{stderr}");
    assert!(stderr.contains("names profile \"prod\""), "{stderr}");
    assert!(!stderr.contains(TOKEN) && !stderr.contains(PROD));
}

/// A script run by `-p prod --store file exec` (a file-store token with 23 h left) whose
/// nested `influxctl-cred exec FLAGS -- influxctl …` records its exit code; the nested
/// influxctl's report, if it ran.
fn nested_run(flags: &[&str]) -> (String, String, Option<serde_json::Value>) {
    let s = Setup::new();
    let out = s.out();
    let expires = (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(23)).to_string();
    let stored = s
        .cmd()
        .args(["--store", "file", "store", "-p", "prod", "--expires-at", &expires])
        .write_stdin(format!("{FILE_PROD}\n"))
        .output()
        .unwrap();
    assert_eq!(stored.status.code(), Some(0), "{}", text(&stored.stderr));
    std::fs::write(s.env.path().join("other.toml"), CONFIG).unwrap();
    let script = r#"FAKE_INFLUXCTL_REPORT="$OUT/inner.json" influxctl-cred exec "$@" -- influxctl database list; echo $? > "$OUT/code""#;
    // `@HOME@` in a flag: this test's folder.
    let home = s.env.path().to_str().unwrap().to_owned();
    let flags: Vec<String> = flags.iter().map(|f| f.replace("@HOME@", &home)).collect();
    let result = s
        .cmd()
        .env("OUT", &out)
        .args(["-p", "prod", "--store", "file", "exec", "--", "sh", "-c", script, "s"])
        .args(&flags)
        .output()
        .unwrap();
    let stderr = text(&result.stderr);
    assert_eq!(result.status.code(), Some(0), "{flags:?}: {stderr}");
    assert!(!stderr.contains(FILE_PROD));
    (read(&out.join("code")).trim().to_owned(), stderr, report(&out.join("inner.json")))
}

const FILE_PROD: &str = "M.V1.test-script-file-prod-0123456789";

/// The nested exec asked for more than the outer run derived: 125, influxctl never ran.
fn assert_refused(flags: &[&str], needle: &str) {
    let (code, stderr, inner) = nested_run(flags);
    assert_eq!(code, "125", "{flags:?}: {stderr}");
    assert!(stderr.contains(needle) && stderr.contains("inside another exec"), "{stderr}");
    assert!(inner.is_none(), "{flags:?}: influxctl ran: {inner:?}");
}

#[test]
fn nested_exec_with_another_profile_is_refused() {
    assert_refused(&["-p", "default"], "-p \"default\"");
}

#[test]
fn nested_exec_with_another_store_is_refused() {
    assert_refused(&["--store", "env"], "--store env");
}

#[test]
fn nested_exec_with_another_influxctl_config_is_refused() {
    assert_refused(&["--influxctl-config", "@HOME@/other.toml"], "--influxctl-config");
}

#[test]
fn nested_exec_with_a_min_ttl_the_outer_token_does_not_meet_is_refused() {
    assert_refused(&["--min-ttl", "30d"], "--min-ttl 30d");
}

#[test]
fn nested_exec_with_another_inject_mode_is_refused() {
    assert_refused(&["--inject", "file"], "--inject file");
}

#[test]
fn nested_exec_with_a_database_token_the_outer_run_has_not_is_refused() {
    assert_refused(&["--database-token", "read=db"], "--database-token read=db");
}

/// The same flags as the outer run (and a --min-ttl its token meets) ask for nothing else.
#[test]
fn nested_exec_asking_for_what_the_outer_run_derived_runs() {
    let same = [
        "-p",
        "prod",
        "--store",
        "file",
        "--influxctl-config",
        "@HOME@/xdg-config/influxctl/config.toml",
        "--inject",
        "memfd",
        "--min-ttl",
        "1h",
    ];
    let (code, stderr, inner) = nested_run(&same);
    assert_eq!(code, "0", "{stderr}");
    let got = inner.expect("the nested influxctl ran");
    assert_eq!(got["mgmt_token_sha256"], sha256(FILE_PROD), "{got}");
}
