//! `exec` around a script (SPEC §7.4): the script's argv passes untouched, every `influxctl` it
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
        for r in ["r1.json", "r2.json"] {
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
        assert_eq!(r1["config_path"], config, "{inject}: the shim used INFLUXCTL_CRED_CONFIG");
        let argv: Vec<String> = serde_json::from_value(r1["argv"].clone()).unwrap();
        assert_eq!(argv.iter().filter(|a| a.starts_with("--config")).count(), 1, "{argv:?}");
        let shim = PathBuf::from(read(&out.join("which")).trim());
        assert!(shim.starts_with(s.run.path()), "{inject}: influxctl is {}", shim.display());
        assert!(!shim.exists(), "{inject}: the shim outlived the run");
        assert!(s.leftovers().is_empty(), "{inject}: {:?}", s.leftovers());
        let stderr = text(&result.stderr);
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

#[test]
fn shim_in_the_shared_dev_shm_lives_in_a_folder_only_we_can_write() {
    let s = Setup::new();
    let out = s.out();
    let script = r#"command -v influxctl > "$OUT/which""#;
    let mut c = s.cmd();
    c.env_remove("XDG_RUNTIME_DIR").env("OUT", &out);
    let result = c.args(["exec", "--", "sh", "-c", script]).output().unwrap();
    assert_eq!(result.status.code(), Some(0), "{}", text(&result.stderr));
    let shim = PathBuf::from(read(&out.join("which")).trim());
    let uid = nix::unistd::getuid();
    let parent = PathBuf::from(format!("/dev/shm/influxctl-cred-{uid}"));
    assert!(shim.starts_with(&parent), "{}", shim.display());
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let meta = std::fs::symlink_metadata(&parent).unwrap();
    assert!(meta.is_dir() && meta.uid() == uid.as_raw());
    assert_eq!(meta.permissions().mode() & 0o777, 0o700);
    assert!(!shim.exists(), "the shim outlived the run");
}

#[test]
fn shim_respects_a_config_the_script_chose_and_warns_about_another_profile() {
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
    let prod = report(&out.join("prod.json")).unwrap();
    assert!(prod["mgmt_token_sha256"].is_null(), "no token of another profile: {prod}");
    assert!(stderr.contains("uses profile \"prod\""), "{stderr}");
    assert!(!stderr.contains(TOKEN) && !stderr.contains(PROD));
}
