//! `exec` on Windows against the stand-in influxctl: `--inject file` into a fresh private folder
//! under %TEMP% (a disk, so only with `allow_disk = true`), the child's exit code passed
//! through, and the folder removed afterwards. `#[ignore]`d like the other OS-specific tests;
//! the Windows job of .github/workflows/ci.yml runs
//! `cargo test --test it exec_windows -- --include-ignored`. Never run on the Linux machine of
//! this repository's own CI (docs/platforms.md).

#![cfg(target_os = "windows")]

use std::path::PathBuf;

use crate::fake_influxctl::{binary, report, sha256};
use crate::util::{TOKEN, TestEnv, text};

const CONFIG: &str = r#"[[profile]]
  name = "default"
  product = "dedicated"
  account_id = "acc-1"
  cluster_id = "clu-1"
"#;

struct Setup {
    env: TestEnv,
    config: PathBuf,
    temp: PathBuf,
}

impl Setup {
    fn new(allow_disk: bool) -> Setup {
        let env = TestEnv::new();
        let config = env.write_influxctl_config(CONFIG);
        let temp = env.path().join("temp");
        std::fs::create_dir_all(&temp).unwrap();
        if allow_disk {
            std::fs::write(env.cred_home().join("config.toml"), "allow_disk = true\n").unwrap();
        }
        Setup { env, config, temp }
    }

    fn report_path(&self) -> PathBuf {
        self.env.path().join("report.json")
    }

    /// `influxctl-cred exec --inject file -- <stand-in> --config <config> database list`, with
    /// %TEMP% pointing at a folder of this test.
    fn exec(&self, extra: &[(&str, &str)]) -> std::process::Output {
        let fake = binary();
        let config = self.config.to_string_lossy().into_owned();
        self.env
            .cmd()
            .env("TMP", &self.temp)
            .env("TEMP", &self.temp)
            .env("FAKE_INFLUXCTL_REPORT", self.report_path())
            .env("INFLUXCTL_CRED_TOKEN_DEFAULT", TOKEN)
            .envs(extra.iter().copied())
            .args(["exec", "--inject", "file", "--"])
            .arg(&fake)
            .args(["--config", &config, "database", "list"])
            .output()
            .unwrap()
    }

    /// What a run left in %TEMP%: anything but the folder `influxctl-cred` (ours, kept for the
    /// per-run folders of a script's shim, as `$XDG_RUNTIME_DIR/influxctl-cred` is on Linux),
    /// and anything inside that folder.
    fn leftovers(&self) -> Vec<PathBuf> {
        let list = |dir: &std::path::Path| -> Vec<PathBuf> {
            std::fs::read_dir(dir).unwrap().flatten().map(|e| e.path()).collect()
        };
        let mut left = Vec::new();
        for p in list(&self.temp) {
            if p.file_name().is_some_and(|n| n == "influxctl-cred") && p.is_dir() {
                left.extend(list(&p));
            } else {
                left.push(p);
            }
        }
        left
    }
}

#[test]
#[ignore = "Windows exec (the Windows CI job runs it)"]
fn exec_passes_the_token_and_exit_codes_and_removes_the_folder() {
    for code in [0, 3, 42] {
        let s = Setup::new(true);
        let code_s = code.to_string();
        let out = s.exec(&[("FAKE_INFLUXCTL_EXIT", &code_s)]);
        assert_eq!(out.status.code(), Some(code), "{}", text(&out.stderr));
        assert!(!text(&out.stderr).contains(TOKEN), "token on stderr");
        let rep = report(&s.report_path()).expect("the stand-in ran and reported");
        assert!(rep.to_string().contains(&sha256(TOKEN)), "the stand-in got no token: {rep}");
        assert!(!rep.to_string().contains(TOKEN), "the report holds the token");
        assert!(s.leftovers().is_empty(), "left in %TEMP%: {:?}", s.leftovers());
        assert!(s.env.files_containing(TOKEN).is_empty(), "token on disk");
        assert_eq!(
            std::fs::read_to_string(&s.config).unwrap(),
            CONFIG,
            "the user's config changed"
        );
    }
}

#[test]
#[ignore = "Windows exec (the Windows CI job runs it)"]
fn exec_refuses_a_disk_token_file_without_allow_disk_and_runs_nothing() {
    let s = Setup::new(false);
    let out = s.exec(&[]);
    assert_ne!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("allow_disk"), "{}", text(&out.stderr));
    // Never a way out that Windows does not have.
    for unix_only in ["memfd", "fifo", "XDG_RUNTIME_DIR", "/dev/shm"] {
        assert!(!text(&out.stderr).contains(unix_only), "{}", text(&out.stderr));
    }
    assert!(report(&s.report_path()).is_none(), "the stand-in ran");
    assert!(s.leftovers().is_empty(), "left in %TEMP%: {:?}", s.leftovers());
}

#[test]
#[ignore = "Windows exec (the Windows CI job runs it)"]
fn exec_missing_program_is_127_and_fifo_is_not_supported() {
    let s = Setup::new(true);
    let out = s
        .env
        .cmd()
        .env("TMP", &s.temp)
        .env("TEMP", &s.temp)
        .env("INFLUXCTL_CRED_TOKEN_DEFAULT", TOKEN)
        .args(["exec", "--", "influxctl-cred-no-such-program", "x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(127), "{}", text(&out.stderr));
    let fake = binary();
    let out = s
        .env
        .cmd()
        .env("TMP", &s.temp)
        .env("TEMP", &s.temp)
        .env("INFLUXCTL_CRED_TOKEN_DEFAULT", TOKEN)
        .args(["exec", "--inject", "fifo", "--"])
        .arg(&fake)
        .args(["database", "list"])
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0), "--inject fifo ran on Windows");
    assert!(text(&out.stderr).contains("fifo"), "{}", text(&out.stderr));
    assert!(s.leftovers().is_empty(), "left in %TEMP%: {:?}", s.leftovers());
}

#[test]
#[ignore = "Windows exec (the Windows CI job runs it)"]
fn exec_finds_influxctl_config_in_appdata_as_influxctl_does() {
    // No --config: influxctl (Go's os.UserConfigDir) reads %APPDATA%\influxctl\config.toml,
    // where the variable points, so must we (TestEnv points APPDATA into this test's home).
    let s = Setup::new(true);
    let out = s
        .env
        .cmd()
        .env("TMP", &s.temp)
        .env("TEMP", &s.temp)
        .env("FAKE_INFLUXCTL_REPORT", s.report_path())
        .env("INFLUXCTL_CRED_TOKEN_DEFAULT", TOKEN)
        .args(["exec", "--"])
        .arg(binary())
        .args(["database", "list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let rep = report(&s.report_path()).expect("the stand-in ran and reported");
    assert!(rep.to_string().contains(&sha256(TOKEN)), "the stand-in got no token: {rep}");
    assert!(s.leftovers().is_empty(), "left in %TEMP%: {:?}", s.leftovers());
    assert_eq!(std::fs::read_to_string(&s.config).unwrap(), CONFIG, "the user's config changed");
}
