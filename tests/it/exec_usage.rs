//! exec's usage errors and its audit record (docs/influxctl.md, docs/audit.md): a PROGRAM that
//! begins with `-` (a mistyped flag) is exit 125 before any store is opened, with the flag it
//! meant; clap's usage errors of exec are 125 too (other commands keep 2); the audit log says
//! `released` only when a program was started; influxctl missing from PATH is 127 with a hint,
//! before any token is read.

#![cfg(target_os = "linux")]

use std::path::PathBuf;

use crate::fake_influxctl::binary;
use crate::util::{TOKEN, TestEnv, text};

struct Setup {
    env: TestEnv,
    run: tempfile::TempDir,
}

impl Setup {
    fn new() -> Setup {
        let env = TestEnv::new();
        env.write_influxctl_config(
            "[[profile]]\n  name = \"default\"\n  product = \"dedicated\"\n  account_id = \"a\"\n  cluster_id = \"c\"\n",
        );
        let run = tempfile::Builder::new().prefix("icred-run-").tempdir_in("/dev/shm").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(run.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        Setup { env, run }
    }

    fn report_path(&self) -> PathBuf {
        self.env.path().join("report.json")
    }

    fn audit(&self) -> PathBuf {
        self.env.cred_home().join("audit.jsonl")
    }

    fn cmd(&self) -> assert_cmd::Command {
        let mut c = self.env.cmd();
        c.env("XDG_RUNTIME_DIR", self.run.path())
            .env("FAKE_INFLUXCTL_REPORT", self.report_path())
            .env("INFLUXCTL_CRED_TOKEN_DEFAULT", TOKEN);
        c
    }
}

fn fake() -> String {
    binary().to_string_lossy().into_owned()
}

#[test]
fn program_beginning_with_a_dash_is_a_usage_error_before_any_store() {
    let s = Setup::new();
    // Settings that fail whoever loads them (as opening the stores does): never read here.
    std::fs::write(s.env.cred_home().join("config.toml"), "ttl = \"forever\"\n").unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&["-pstaging"], "`-p staging`"),
        (&["--injet", "file"], "`--inject`"),
        (&["--", "-x"], "./-x"),
    ];
    for (before, hint) in cases {
        let out = s
            .cmd()
            .arg("exec")
            .args(*before)
            .args(["--", &fake(), "database", "list"])
            .output()
            .unwrap();
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(125), "{before:?}: {stderr}");
        assert!(
            stderr.contains(hint) && stderr.contains("begins with `-`"),
            "{before:?}: {stderr}"
        );
        assert!(!stderr.contains("config.toml"), "{before:?}: the settings were read: {stderr}");
        assert!(!s.report_path().exists(), "{before:?}: a program ran");
        assert!(
            !s.audit().exists(),
            "{before:?}: a token was read: {:?}",
            std::fs::read_to_string(s.audit())
        );
    }
}

#[test]
fn exec_usage_errors_exit_125_other_commands_2() {
    let s = Setup::new();
    let out = s.cmd().args(["exec", "--inject", "bogus", "--", &fake()]).output().unwrap();
    assert_eq!(out.status.code(), Some(125), "{}", text(&out.stderr));
    let out = s.cmd().args(["-p", "default", "exec"]).output().unwrap();
    assert_eq!(out.status.code(), Some(125), "no PROGRAM: {}", text(&out.stderr));
    let out = s.cmd().args(["get", "--format", "yaml"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(!s.audit().exists());
}

#[test]
fn audit_says_not_started_when_the_program_could_not_start() {
    let s = Setup::new();
    let dir = s.env.path().join("broken");
    std::fs::create_dir_all(&dir).unwrap();
    let program = dir.join("influxctl");
    std::fs::write(&program, "#!/nonexistent/interpreter\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
    // A child run (`--inject file`): the record is written once the outcome is known. (Exec in
    // place, the memfd default, writes `released` before its execve: tests/it/exec_in_place.rs.)
    let out = s
        .cmd()
        .args(["exec", "--inject", "file", "--"])
        .arg(&program)
        .args(["database", "list"])
        .output();
    let out = out.unwrap();
    assert_eq!(out.status.code(), Some(127), "{}", text(&out.stderr));
    // The file exists: the hint names its missing interpreter, not a missing influxctl.
    assert!(text(&out.stderr).contains("interpreter on its #! line"), "{}", text(&out.stderr));
    assert!(!text(&out.stderr).contains("install influxctl"), "{}", text(&out.stderr));
    let raw = std::fs::read_to_string(s.audit()).unwrap();
    let lines: Vec<serde_json::Value> =
        raw.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 1, "{raw}");
    assert_eq!(lines[0]["command"], "exec");
    assert_eq!(lines[0]["outcome"], "not-started", "{raw}");
    // A program that starts: `released`.
    let out = s.cmd().args(["exec", "--", &fake(), "database", "list"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let raw = std::fs::read_to_string(s.audit()).unwrap();
    assert!(raw.lines().nth(1).is_some_and(|l| l.contains("\"outcome\":\"released\"")), "{raw}");
}

#[test]
fn influxctl_missing_from_path_is_127_with_a_hint_and_no_token_read() {
    let s = Setup::new();
    let empty = s.env.path().join("empty-bin");
    std::fs::create_dir_all(&empty).unwrap();
    let out = s
        .cmd()
        .env("PATH", &empty)
        .args(["exec", "--", "influxctl", "database", "list"])
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(127), "{stderr}");
    assert!(stderr.contains("INFLUXCTL_CRED_INFLUXCTL") && stderr.contains("PATH"), "{stderr}");
    assert!(!stderr.contains(TOKEN));
    assert!(!s.audit().exists(), "a token was read for a program that does not exist");
}

/// `$INFLUXCTL_CRED_INFLUXCTL` names the real influxctl for a direct `exec -- influxctl` too,
/// as the not-found hint says (not only for a script's shim): with no influxctl on PATH, the
/// run starts the program it names and hands it the token; `doctor` reports that influxctl.
#[test]
fn influxctl_named_by_the_variable_runs_when_none_is_on_path() {
    let s = Setup::new();
    let empty = s.env.path().join("empty-bin");
    std::fs::create_dir_all(&empty).unwrap();
    let out = s
        .cmd()
        .env("PATH", &empty)
        .env("INFLUXCTL_CRED_INFLUXCTL", binary())
        .args(["exec", "--", "influxctl", "database", "list"])
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let report = crate::fake_influxctl::report(&s.report_path()).expect("the stand-in ran");
    assert_eq!(report["mgmt_token_sha256"], crate::fake_influxctl::sha256(TOKEN), "{report}");
    let doctor = s
        .cmd()
        .env("PATH", &empty)
        .env("INFLUXCTL_CRED_INFLUXCTL", binary())
        .arg("doctor")
        .output()
        .unwrap();
    let said = text(&doctor.stdout) + &text(&doctor.stderr);
    assert!(said.contains("from $INFLUXCTL_CRED_INFLUXCTL"), "{said}");
}

/// A file named by `$INFLUXCTL_CRED_INFLUXCTL` that exists but cannot be executed fails as such
/// (126), and a name that does not exist says which variable named it.
#[test]
fn influxctl_named_by_the_variable_but_not_executable_is_126() {
    let s = Setup::new();
    let empty = s.env.path().join("empty-bin");
    std::fs::create_dir_all(&empty).unwrap();
    let plain = s.env.path().join("influxctl-not-executable");
    std::fs::write(&plain, "not a program\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&plain, std::fs::Permissions::from_mode(0o644)).unwrap();
    let run = |named: &std::path::Path| {
        s.cmd()
            .env("PATH", &empty)
            .env("INFLUXCTL_CRED_INFLUXCTL", named)
            .args(["exec", "--", "influxctl", "database", "list"])
            .output()
            .unwrap()
    };
    let out = run(&plain);
    assert_eq!(out.status.code(), Some(126), "{}", text(&out.stderr));
    let out = run(&s.env.path().join("nowhere").join("influxctl"));
    assert_eq!(out.status.code(), Some(127), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("$INFLUXCTL_CRED_INFLUXCTL is"), "{}", text(&out.stderr));
}
