//! What an influxctl call inside a script of `exec` may ask for (docs/influxctl.md, "The
//! shim" and "Nested exec"): never another cluster (`--account`/`--cluster`) or another
//! profile than the token was fetched for, through the shim or a nested `exec`; a nested run
//! and the shim name the outer profile; a killed `exec` leaves no channel that blocks; and
//! markers that name no live run of ours are ignored.

// Linux: the runtime dir of these tests is on /dev/shm.
#![cfg(target_os = "linux")]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::fake_influxctl::{path_dir, path_with, report, sha256};
use crate::util::{TestEnv, text};

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

const PROD: &str = "M.V1.test-nested-prod-0123456789";

/// A home whose file store holds prod's token (bound to acc-1/clu-2, 23 h left), the
/// stand-in influxctl and influxctl-cred first on `PATH`, a private runtime dir.
struct Setup {
    env: TestEnv,
    run: tempfile::TempDir,
    bin: PathBuf,
    out: PathBuf,
}

impl Setup {
    fn new() -> Setup {
        let env = TestEnv::new();
        env.write_influxctl_config(CONFIG);
        let run = tempfile::Builder::new().prefix("icred-run-").tempdir_in("/dev/shm").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(run.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        let bin = path_dir(env.path());
        let out = env.path().join("out");
        std::fs::create_dir_all(&out).unwrap();
        let s = Setup { env, run, bin, out };
        let expires = (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(23)).to_string();
        let stored = s
            .cmd()
            .args(["--store", "file", "store", "-p", "prod", "--expires-at", &expires])
            .write_stdin(format!("{PROD}\n"))
            .output()
            .unwrap();
        assert_eq!(stored.status.code(), Some(0), "{}", text(&stored.stderr));
        s
    }

    fn cmd(&self) -> assert_cmd::Command {
        let mut c = self.env.cmd();
        c.env("XDG_RUNTIME_DIR", self.run.path())
            .env("PATH", path_with(&self.bin))
            .env("OUT", &self.out)
            .env("FAKE_INFLUXCTL_REPORT", self.out.join("unexpected.json"));
        c
    }

    /// `-p prod --store file exec [FLAGS] -- sh -c SCRIPT s ARGS`: its stderr.
    fn script(&self, flags: &[&str], script: &str, args: &[&str]) -> String {
        let result = self
            .cmd()
            .args(["-p", "prod", "--store", "file", "exec"])
            .args(flags)
            .args(["--", "sh", "-c", script, "s"])
            .args(args)
            .output()
            .unwrap();
        let stderr = text(&result.stderr);
        assert_eq!(result.status.code(), Some(0), "{script}: {stderr}");
        assert!(!stderr.contains(PROD) && !text(&result.stdout).contains(PROD));
        stderr
    }

    fn code(&self, name: &str) -> String {
        let path = self.out.join(name);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn report(&self, name: &str) -> Option<serde_json::Value> {
        report(&self.out.join(name))
    }
}

/// The script's influxctl calls with the flags of `$@`: through the shim, then through a
/// nested exec; each records its exit code.
const CALLS: &str = r#"
FAKE_INFLUXCTL_REPORT="$OUT/shim.json" influxctl "$@" database list 2>>"$OUT/err"; echo $? > "$OUT/shim"
FAKE_INFLUXCTL_REPORT="$OUT/nested.json" influxctl-cred exec -- influxctl "$@" database list 2>>"$OUT/err"; echo $? > "$OUT/nested"
"#;

fn assert_refused(s: &Setup, what: &str, needle: &str) {
    for call in ["shim", "nested"] {
        let err = s.code("err");
        assert_eq!(s.code(call).trim(), "125", "{what} via {call}: {err}");
        assert!(err.contains(needle), "{what} via {call}: {err}");
        assert!(s.report(&format!("{call}.json")).is_none(), "{what} via {call}: influxctl ran");
    }
}

#[test]
fn another_account_or_cluster_inside_a_script_is_refused() {
    let forms: [&[&str]; 5] = [
        &["--account", "acct-evil", "--cluster", "clus-evil"],
        &["--account=acct-evil"],
        &["-account", "acct-evil"],
        &["--cluster", "clus-evil"],
        &["-cluster=clus-evil"],
    ];
    for inject in ["memfd", "file"] {
        for form in forms {
            let s = Setup::new();
            s.script(&["--inject", inject], CALLS, form);
            assert_refused(&s, &format!("{inject} {form:?}"), "cluster-mismatch");
        }
    }
    // The very account and cluster the token is bound to: the call runs with the token.
    let s = Setup::new();
    s.script(&[], CALLS, &["--account", "acc-1", "--cluster=clu-2"]);
    for call in ["shim", "nested"] {
        assert_eq!(s.code(call).trim(), "0", "{call}: {}", s.code("err"));
        let got = s.report(&format!("{call}.json")).unwrap();
        assert_eq!(got["mgmt_token_sha256"], sha256(PROD), "{call}: {got}");
    }
}

#[test]
fn another_profile_inside_a_script_is_refused() {
    for form in [&["--profile", "default"][..], &["--profile=staging"]] {
        let s = Setup::new();
        s.script(&[], CALLS, form);
        assert_refused(&s, &format!("{form:?}"), "profile");
    }
    let s = Setup::new();
    let env = r#"
export INFLUXCTL_PROFILE=default
FAKE_INFLUXCTL_REPORT="$OUT/shim.json" influxctl database list 2>>"$OUT/err"; echo $? > "$OUT/shim"
FAKE_INFLUXCTL_REPORT="$OUT/nested.json" influxctl-cred exec -p prod -- influxctl database list 2>>"$OUT/err"; echo $? > "$OUT/nested"
"#;
    s.script(&[], env, &[]);
    assert_refused(&s, "INFLUXCTL_PROFILE=default", "INFLUXCTL_PROFILE");
}

#[test]
fn nested_exec_and_shim_name_the_outer_profile() {
    let s = Setup::new();
    let script = r#"
unset INFLUXCTL_PROFILE
FAKE_INFLUXCTL_REPORT="$OUT/shim.json" influxctl database list || exit 11
FAKE_INFLUXCTL_REPORT="$OUT/nested.json" influxctl-cred exec -p prod -- influxctl database list || exit 12
"#;
    s.script(&[], script, &[]);
    for call in ["shim", "nested"] {
        let got = s.report(&format!("{call}.json")).unwrap();
        assert_eq!(got["profile"], "prod", "{call}: {got}");
        assert_eq!(got["mgmt_token_sha256"], sha256(PROD), "{call}: {got}");
    }
}

#[test]
fn a_killed_exec_leaves_no_channel_that_blocks_a_script() {
    for inject in ["fifo", "file", "memfd"] {
        let s = Setup::new();
        // The script outlives its exec (SIGKILL); each later call must return, not wait on a
        // channel nobody serves: `timeout` turns a hang into 124.
        let script = r#"
kill -9 "$PPID"; sleep 0.3
FAKE_INFLUXCTL_REPORT="$OUT/shim.json" timeout 10 influxctl database list 2>>"$OUT/err"; echo $? > "$OUT/shim"
FAKE_INFLUXCTL_REPORT="$OUT/nested.json" timeout 10 influxctl-cred exec -- influxctl database list 2>>"$OUT/err"; echo $? > "$OUT/nested"
"#;
        let started = Instant::now();
        let result = s
            .cmd()
            .args(["-p", "prod", "--store", "file", "exec", "--inject", inject])
            .args(["--", "sh", "-c", script])
            .output()
            .unwrap();
        let took = started.elapsed();
        let err = s.code("err");
        assert!(took < Duration::from_secs(8), "{inject}: took {took:?}: {err}");
        assert_ne!(s.code("shim").trim(), "124", "{inject}: the shim hung: {err}");
        assert_ne!(s.code("nested").trim(), "124", "{inject}: the nested exec hung: {err}");
        let shim = s.report("shim.json").unwrap_or_else(|| panic!("{inject}: {err}"));
        assert!(shim["mgmt_token_sha256"].is_null(), "{inject}: {shim}");
        assert!(err.contains("running influxctl without it"), "{inject}: {err}");
        assert!(result.status.code().is_none(), "{inject}: exec was not killed");
        assert!(!text(&result.stderr).contains(PROD) && !err.contains(PROD));
    }
}

#[test]
fn markers_naming_no_live_run_of_ours_are_ignored() {
    let s = Setup::new();
    let forged = |c: &mut assert_cmd::Command, config: &Path| {
        c.env("INFLUXCTL_CRED_SHIM_REAL", "/bin/echo")
            .env("INFLUXCTL_CRED_CONFIG", config)
            .env("INFLUXCTL_CRED_SHIM_PROFILE", "prod")
            .env("INFLUXCTL_CRED_SHIM_STORE", "file");
    };
    let mine = s.env.path().join("mine.toml");
    std::fs::write(&mine, "").unwrap();
    for config in [Path::new("/dev/fd/0"), &mine] {
        // Judged as a top-level exec: the token has 23 h left, not 30 days.
        let mut c = s.cmd();
        forged(&mut c, config);
        let result = c
            .args(["-p", "prod", "--store", "file", "exec", "--min-ttl", "30d"])
            .args(["--", "influxctl", "database", "list"])
            .output()
            .unwrap();
        let stdout = text(&result.stdout);
        assert_eq!(result.status.code(), Some(125), "{config:?}: {}", text(&result.stderr));
        assert!(!stdout.contains("database"), "{config:?}: echo ran: {stdout}");
        // And a run that may proceed runs the real influxctl, not the forged one.
        let mut c = s.cmd();
        forged(&mut c, config);
        let result = c
            .env("FAKE_INFLUXCTL_REPORT", s.out.join("top.json"))
            .args(["-p", "prod", "--store", "file", "exec"])
            .args(["--", "influxctl", "database", "list"])
            .output()
            .unwrap();
        let stdout = text(&result.stdout);
        assert_eq!(result.status.code(), Some(0), "{config:?}: {}", text(&result.stderr));
        assert!(!stdout.contains("--config"), "{config:?}: echo got the config: {stdout}");
        let got = s.report("top.json").unwrap_or_else(|| panic!("{config:?}: no report"));
        assert_eq!(got["mgmt_token_sha256"], sha256(PROD), "{config:?}: {got}");
        std::fs::remove_file(s.out.join("top.json")).unwrap();
    }
}
