//! The two headless CI flows of `packaging/ci/` run as a CI runner runs them: the real binary
//! through `bash`, `CI=true`, no stdin, no D-Bus, `influxctl` (the stand-in) and
//! `influxctl-cred` found on `PATH`, and the shell steps taken verbatim from the templates
//! (between their `# influxctl-cred: NAME (begin)` / `(end)` markers). Flow (a): a developer
//! commits age files encrypted to a CI key; the runner checks them out (modes as git leaves
//! them), fixes their modes and runs `exec` with `INFLUXCTL_CRED_AGE_IDENTITY`. Flow (b): the
//! token arrives in `INFLUXCTL_CRED_TOKEN`.

#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use age::secrecy::ExposeSecret;

use crate::fake_influxctl::{path_dir, path_with, report, sha256};
use crate::util::{TestEnv, files_containing, text};

const PROD: &str = "M.V1.test-ci-prod-0123456789";

/// The developer's influxctl config: the entry is bound to this cluster when stored.
const DEV_CONFIG: &str = "[[profile]]\n  name = \"prod\"\n  product = \"dedicated\"\n  account_id = \"acc-ci\"\n  cluster_id = \"clu-ci\"\n";

const GITHUB: &str = "packaging/ci/github/action.yml";
const GITLAB: &str = "packaging/ci/gitlab/influxctl-cred.gitlab-ci.yml";

/// The lines of `template` between its `NAME (begin)` and `NAME (end)` markers, de-indented.
fn block(template: &str, name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(template);
    let body = std::fs::read_to_string(&path).expect("template");
    let begin = format!("# influxctl-cred: {name} (begin)");
    let end = format!("# influxctl-cred: {name} (end)");
    let lines: Vec<&str> = body.lines().collect();
    let start = lines.iter().position(|l| l.trim() == begin).expect("begin marker");
    let stop = lines.iter().position(|l| l.trim() == end).expect("end marker");
    let indent = lines[start].len() - lines[start].trim_start().len();
    lines[start + 1..stop]
        .iter()
        .map(|l| l.get(indent..).unwrap_or("").trim_end())
        .collect::<Vec<_>>()
        .join("\n")
}

/// A CI runner: a private home, a "repository" checkout and a `PATH` with `influxctl` and
/// `influxctl-cred`.
struct Runner {
    env: TestEnv,
}

impl Runner {
    fn new() -> Runner {
        let env = TestEnv::new();
        std::fs::create_dir(env.path().join("repo")).expect("mkdir repo");
        Runner { env }
    }

    fn repo(&self) -> PathBuf {
        self.env.path().join("repo")
    }

    fn cred_home(&self) -> PathBuf {
        self.repo().join(".influxctl-cred")
    }

    fn report_path(&self) -> PathBuf {
        self.env.path().join("report.json")
    }

    /// Runs `script` with `bash -euo pipefail` in the checkout, as a CI job step: a clean
    /// environment with `CI=true` and the job's variables, stdin closed, no D-Bus.
    fn step(&self, script: &str, vars: &[(&str, &str)]) -> Output {
        let _ = std::fs::remove_file(self.report_path());
        let p = self.env.path();
        let run = p.join("run");
        std::fs::create_dir_all(&run).expect("mkdir run");
        std::fs::set_permissions(&run, std::fs::Permissions::from_mode(0o700)).expect("chmod");
        Command::new("bash")
            .args(["-euo", "pipefail", "-c", script])
            .current_dir(self.repo())
            .env_clear()
            .env("PATH", path_with(&path_dir(p)))
            .env("HOME", p.join("home"))
            .env("XDG_CONFIG_HOME", p.join("xdg-config"))
            .env("XDG_DATA_HOME", p.join("xdg-data"))
            .env("XDG_RUNTIME_DIR", run)
            .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/influxctl-cred-test-bus")
            .env("CI", "true")
            .env("FAKE_INFLUXCTL_REPORT", self.report_path())
            .envs(vars.iter().copied())
            .stdin(Stdio::null())
            .output()
            .expect("run bash")
    }

    /// The SHA-256 of the token the stand-in got, and its profile; `None` when it never ran.
    fn handed(&self) -> Option<(String, String)> {
        let r = report(&self.report_path())?;
        Some((
            r["mgmt_token_sha256"].as_str().unwrap_or("").to_owned(),
            r["profile"].as_str().unwrap_or("").to_owned(),
        ))
    }
}

/// A new x25519 identity: (secret `AGE-SECRET-KEY-1…`, public `age1…`).
fn keypair() -> (String, String) {
    let id = age::x25519::Identity::generate();
    (id.to_string().expose_secret().to_owned(), id.to_public().to_string())
}

/// The developer's side of flow (a), as docs/ci-runners.md describes it: their own identity in
/// `INFLUXCTL_CRED_AGE_IDENTITY_FILE`, the CI key in the committed `config.toml`, the token
/// stored with `--store file` into the working copy's `.influxctl-cred/`. Answers the working
/// copy's `.influxctl-cred` folder.
fn developer_commits_token(dev: &TestEnv, ci_public: &str) -> PathBuf {
    dev.write_influxctl_config(DEV_CONFIG);
    let (mine, _) = keypair();
    let my_identity = dev.path().join("home").join("my-identity.txt");
    std::fs::write(&my_identity, format!("{mine}\n")).expect("write identity");
    std::fs::set_permissions(&my_identity, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let home = dev.path().join("work").join(".influxctl-cred");
    std::fs::create_dir_all(&home).expect("mkdir");
    std::fs::write(home.join("config.toml"), format!("recipients = [\"{ci_public}\"]\n"))
        .expect("write settings");
    let out = dev
        .cmd()
        .env("INFLUXCTL_CRED_HOME", &home)
        .env("INFLUXCTL_CRED_AGE_IDENTITY_FILE", &my_identity)
        .args(["--store", "file", "store", "-p", "prod", "--description", "CI deployer"])
        .write_stdin(format!("{PROD}\n"))
        .output()
        .expect("run store");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(!home.join("identity.txt").exists(), "no identity may land in the repository");
    home
}

/// What `git clone` leaves of the committed files (`config.toml`, `store/*.age`,
/// `store/*.meta.json`, as the .gitignore of docs/ci-runners.md keeps them): files `file_mode`,
/// folders `dir_mode`.
fn checkout(from: &Path, to: &Path, file_mode: u32, dir_mode: u32) {
    std::fs::create_dir_all(to.join("store")).expect("mkdir");
    std::fs::copy(from.join("config.toml"), to.join("config.toml")).expect("copy settings");
    let mut copied = 0;
    for item in std::fs::read_dir(from.join("store")).expect("read store").flatten() {
        let name = item.file_name().to_string_lossy().into_owned();
        if name.ends_with(".age") || name.ends_with(".meta.json") {
            let dest = to.join("store").join(&name);
            std::fs::copy(item.path(), &dest).expect("copy");
            std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(file_mode))
                .expect("chmod");
            copied += 1;
        }
    }
    assert_eq!(copied, 2, "one age file and its sidecar");
    std::fs::set_permissions(to.join("config.toml"), std::fs::Permissions::from_mode(file_mode))
        .expect("chmod");
    // The checkout folder itself too: under umask 0000 it is 0777 as well.
    let checkout = to.parent().expect("the store home is inside the checkout").to_owned();
    for dir in [to.join("store"), to.to_owned(), checkout] {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(dir_mode)).expect("chmod");
    }
}

/// The runner's variables of flow (a).
fn age_vars<'a>(home: &'a str, identity: &'a str) -> [(&'a str, &'a str); 3] {
    [
        ("INFLUXCTL_CRED_HOME", home),
        ("INFLUXCTL_CRED_AGE_IDENTITY", identity),
        ("INFLUXCTL_PROFILE", "prod"),
    ]
}

#[test]
fn templates_share_one_fix_modes_step() {
    let github = block(GITHUB, "fix store modes");
    assert!(github.contains("chmod 600") && github.contains("chmod 700"), "{github}");
    assert_eq!(github, block(GITLAB, "fix store modes"));
}

#[test]
fn templates_never_echo_or_trace_secrets() {
    for template in [GITHUB, GITLAB] {
        let body =
            std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(template)).unwrap();
        for (n, line) in body.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with('#') {
                continue;
            }
            let names_secret = [
                "INFLUXCTL_CRED_TOKEN",
                "INFLUXCTL_CRED_AGE_IDENTITY",
                "inputs.token",
                "inputs.age-identity",
            ]
            .iter()
            .any(|s| code.contains(s));
            let prints = ["echo ", "printf ", "cat ", "tee "].iter().any(|s| code.contains(s));
            assert!(
                !(names_secret && prints && code.contains('$')),
                "{template}:{}: {line}",
                n + 1
            );
            assert!(
                !code.contains("set -x") && !code.contains("set -o xtrace"),
                "{template}:{}",
                n + 1
            );
        }
    }
}

#[test]
fn ci_age_files_flow_hands_committed_token_to_influxctl() {
    let dev = TestEnv::new();
    let (ci_secret, ci_public) = keypair();
    let work = developer_commits_token(&dev, &ci_public);
    assert!(files_containing(&work, PROD.as_bytes()).is_empty(), "plaintext in the commit");
    // git on a runner (0644 files, 0755 folders), and GitLab's docker executor (umask 0000).
    for (file_mode, dir_mode) in [(0o644, 0o755), (0o666, 0o777)] {
        let ci = Runner::new();
        checkout(&work, &ci.cred_home(), file_mode, dir_mode);
        let home = ci.cred_home().to_string_lossy().into_owned();
        // The action's two steps: "Prepare the committed store", then the exec step, which
        // gets the folder as ICRED_HOME.
        let out = ci.step(&block(GITHUB, "fix store modes"), &[("INFLUXCTL_CRED_HOME", &home)]);
        assert_eq!(out.status.code(), Some(0), "{file_mode:o}: {}", text(&out.stderr));
        let vars = [
            ("ICRED_HOME", home.as_str()),
            ("INFLUXCTL_CRED_AGE_IDENTITY", &ci_secret),
            ("INFLUXCTL_PROFILE", "prod"),
            ("ICRED_INFLUXCTL", "influxctl"),
            ("ICRED_ARGS", "database list"),
        ];
        let out = ci.step(&block(GITHUB, "exec"), &vars);
        assert_eq!(out.status.code(), Some(0), "{file_mode:o}: {}", text(&out.stderr));
        assert_eq!(ci.handed(), Some((sha256(PROD), "prod".to_owned())));
        assert!(!text(&out.stderr).contains(PROD) && !text(&out.stdout).contains(PROD));
        assert!(!text(&out.stderr).contains(&ci_secret), "the identity leaked");
        let r = report(&ci.report_path()).unwrap();
        let inherited = r["env_cred_vars"].as_array().unwrap();
        assert!(!inherited.contains(&"INFLUXCTL_CRED_AGE_IDENTITY".into()), "{inherited:?}");
        assert!(inherited.contains(&"INFLUXCTL_CRED_HOME".into()), "{inherited:?}");
        let mode = std::fs::metadata(ci.cred_home().join("store/prod.age")).unwrap().permissions();
        assert_eq!(mode.mode() & 0o777, 0o600);
        assert!(files_containing(ci.env.path(), PROD.as_bytes()).is_empty());
    }
}

#[test]
fn ci_age_files_flow_works_with_gitlab_job_command() {
    let dev = TestEnv::new();
    let (ci_secret, ci_public) = keypair();
    let work = developer_commits_token(&dev, &ci_public);
    let ci = Runner::new();
    checkout(&work, &ci.cred_home(), 0o666, 0o777);
    let home = ci.cred_home().to_string_lossy().into_owned();
    let script = format!(
        "{}\ninfluxctl-cred exec -- influxctl database list",
        block(GITLAB, "fix store modes")
    );
    let out = ci.step(&script, &age_vars(&home, &ci_secret));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(ci.handed(), Some((sha256(PROD), "prod".to_owned())));
}

#[test]
fn ci_checkout_without_chmod_step_is_refused_with_chmod_hint() {
    let dev = TestEnv::new();
    let (ci_secret, ci_public) = keypair();
    let work = developer_commits_token(&dev, &ci_public);
    let ci = Runner::new();
    checkout(&work, &ci.cred_home(), 0o644, 0o755);
    let home = ci.cred_home().to_string_lossy().into_owned();
    let exec = "influxctl-cred exec -- influxctl database list";
    let out = ci.step(exec, &age_vars(&home, &ci_secret));
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(125), "{stderr}");
    assert!(stderr.contains("kind: store-unavailable"), "{stderr}");
    let age_file = ci.cred_home().join("store").join("prod.age");
    assert!(stderr.contains(&format!("chmod 600 {}", age_file.display())), "{stderr}");
    assert_eq!(ci.handed(), None, "influxctl must not run");
    // The same checkout with the templates' step works.
    let out = ci.step(
        &format!("{}\n{exec}", block(GITHUB, "fix store modes")),
        &age_vars(&home, &ci_secret),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn ci_age_files_flow_with_wrong_identity_stops_before_influxctl() {
    let dev = TestEnv::new();
    let (_, ci_public) = keypair();
    let (other_secret, _) = keypair();
    let work = developer_commits_token(&dev, &ci_public);
    let ci = Runner::new();
    checkout(&work, &ci.cred_home(), 0o644, 0o755);
    let home = ci.cred_home().to_string_lossy().into_owned();
    let script = format!(
        "{}\ninfluxctl-cred exec -- influxctl database list",
        block(GITHUB, "fix store modes")
    );
    let out = ci.step(&script, &age_vars(&home, &other_secret));
    assert_eq!(out.status.code(), Some(125), "{}", text(&out.stderr));
    assert!(!text(&out.stderr).contains(&other_secret));
    assert_eq!(ci.handed(), None, "influxctl must not run");
}

#[test]
fn ci_env_store_flow_hands_secret_variable_to_influxctl() {
    let ci = Runner::new();
    // influxctl's config is committed without any token: an env entry names no cluster.
    std::fs::create_dir(ci.repo().join("ci")).unwrap();
    std::fs::write(ci.repo().join("ci/influxctl.toml"), DEV_CONFIG).unwrap();
    let vars = [
        ("INFLUXCTL_CRED_TOKEN", PROD),
        ("INFLUXCTL_PROFILE", "prod"),
        ("ICRED_INFLUXCTL", "influxctl"),
        ("ICRED_ARGS", "--config ci/influxctl.toml database list"),
    ];
    let out = ci.step(&block(GITHUB, "exec"), &vars);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(ci.handed(), Some((sha256(PROD), "prod".to_owned())));
    let r = report(&ci.report_path()).unwrap();
    assert!(!r["argv"].to_string().contains(PROD));
    assert_eq!(r["env_holds_token"], false, "the token must not reach influxctl's environment");
    assert!(!text(&out.stderr).contains(PROD) && !text(&out.stdout).contains(PROD));
    // GitLab's documented job command, with the profile's own variable.
    let vars = [("INFLUXCTL_CRED_TOKEN_PROD", PROD), ("INFLUXCTL_PROFILE", "prod")];
    let out =
        ci.step("influxctl-cred exec -- influxctl --config ci/influxctl.toml database list", &vars);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(ci.handed(), Some((sha256(PROD), "prod".to_owned())));
    assert!(files_containing(ci.env.path(), PROD.as_bytes()).is_empty());
}

/// `git` in `dir`, with no user or system configuration; panics unless it succeeds.
fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(["-c", "user.name=influxctl-cred", "-c", "user.email=dev@influxctl-cred.invalid"])
        .args(["-c", "init.defaultBranch=main", "-c", "core.fileMode=true"])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .expect("run git");
    assert!(out.status.success(), "git {args:?}: {}", text(&out.stderr));
    text(&out.stdout)
}

/// The `.gitignore` that docs/ci-runners.md tells the developer to commit.
fn documented_gitignore() -> String {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/ci-runners.md"))
            .expect("docs/ci-runners.md");
    let start = doc.find("```gitignore\n").expect("a gitignore block") + "```gitignore\n".len();
    let len = doc[start..].find("```").expect("its end");
    doc[start..start + len].to_owned()
}

/// docs/ci-runners.md's flow (a) with a developer who has no influxctl profile yet, so the
/// committed entry has no binding: the runner's first `exec` binds it (trust on first use) on
/// the runner only. The checkout stays clean in git, and the developer's own identity still
/// opens the committed file, with the reference `age` and with our `get`. The runner's binding
/// holds for its later runs: a config pointing elsewhere is `cluster-mismatch`.
#[test]
fn ci_first_use_leaves_the_checkout_clean_and_the_developer_keeps_access() {
    let dev = TestEnv::new();
    let (dev_secret, _) = keypair();
    let (ci_secret, ci_public) = keypair();
    let dev_identity = dev.path().join("home").join("my-identity.txt");
    std::fs::write(&dev_identity, format!("{dev_secret}\n")).unwrap();
    std::fs::set_permissions(&dev_identity, std::fs::Permissions::from_mode(0o600)).unwrap();
    let work = dev.path().join("work");
    let home = work.join(".influxctl-cred");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::write(home.join("config.toml"), format!("recipients = [\"{ci_public}\"]\n")).unwrap();
    assert!(!dev.influxctl_config().exists(), "the developer has no influxctl profile yet");
    let out = dev
        .cmd()
        .env("INFLUXCTL_CRED_HOME", &home)
        .env("INFLUXCTL_CRED_AGE_IDENTITY_FILE", &dev_identity)
        .args(["--store", "file", "store", "-p", "prod"])
        .write_stdin(format!("{PROD}\n"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    std::fs::write(work.join(".gitignore"), documented_gitignore()).unwrap();
    git(&work, &["init", "-q"]);
    git(&work, &["add", "-A"]);
    git(&work, &["commit", "-q", "-m", "CI token for prod"]);
    let committed = git(&work, &["ls-files"]);
    assert!(committed.contains(".influxctl-cred/store/prod.age"), "{committed}");

    let ci = Runner::new();
    std::fs::remove_dir(ci.repo()).unwrap();
    git(ci.env.path(), &["clone", "-q", &work.to_string_lossy(), "repo"]);
    ci.env.write_influxctl_config(DEV_CONFIG);
    let cred_home = ci.cred_home().to_string_lossy().into_owned();
    let script = format!(
        "{}\ninfluxctl-cred exec -- influxctl database list",
        block(GITHUB, "fix store modes")
    );
    let out = ci.step(&script, &age_vars(&cred_home, &ci_secret));
    let said = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert_eq!(ci.handed(), Some((sha256(PROD), "prod".to_owned())));
    assert!(said.contains("first use") && said.contains("first-use"), "{said}");
    assert_eq!(git(&ci.repo(), &["status", "--porcelain"]), "", "the checkout was modified");
    assert!(ci.cred_home().join("first-use").join("prod.json").is_file());
    // Bound on the runner: the next run is silent about it.
    let out = ci
        .step("influxctl-cred exec -- influxctl database list", &age_vars(&cred_home, &ci_secret));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(!text(&out.stderr).contains("first use"), "{}", text(&out.stderr));

    // The developer's identity still opens the committed file: the reference age, and `get`.
    let age_file = ci.cred_home().join("store").join("prod.age");
    let out = Command::new("age")
        .arg("-d")
        .arg("-i")
        .arg(&dev_identity)
        .arg(&age_file)
        .output()
        .expect("the reference age CLI");
    assert!(out.status.success(), "age -d: {}", text(&out.stderr));
    assert!(text(&out.stdout).contains(PROD));
    let out = dev
        .cmd()
        .env("INFLUXCTL_CRED_HOME", &home)
        .env("INFLUXCTL_CRED_AGE_IDENTITY_FILE", &dev_identity)
        .args(["get", "-p", "prod"])
        .output()
        .unwrap();
    assert_eq!(text(&out.stdout).trim(), PROD, "{}", text(&out.stderr));
    std::fs::copy(&age_file, home.join("store").join("prod.age")).unwrap();
    assert_eq!(git(&work, &["status", "--porcelain"]), "", "the runner's file differs");

    // The runner keeps its first-use binding: a profile pointed elsewhere gets nothing.
    ci.env.write_influxctl_config(&DEV_CONFIG.replace("clu-ci", "clu-other"));
    let out = ci
        .step("influxctl-cred exec -- influxctl database list", &age_vars(&cred_home, &ci_secret));
    assert_eq!(out.status.code(), Some(125), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("cluster-mismatch"), "{}", text(&out.stderr));
    assert_eq!(ci.handed(), None, "influxctl ran with the token");
}
