//! `exec --database-token` through the real binary, against our own loopback server (and, with
//! `--include-ignored`, prism): the child gets the new database token as `INFLUX_TOKEN` and as
//! the derived profile's `token` (the management token stays out of its environment), and the
//! token is deleted after the child is gone — after a normal exit, a crash, SIGTERM, SIGINT or
//! SIGHUP to `exec`, and a signal during the create (then the child never starts). A failed
//! delete warns and keeps the child's exit code; a failed create exits 125 before anything
//! starts.

#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::api::uuid;
use crate::apiserver::{ApiServer, Reply};
use crate::fake_influxctl::{binary, report, sha256};
use crate::prism::{Doc, prism};
use crate::util::{TOKEN, TestEnv, text};

/// The database token our server hands out: obviously fake.
const ACCESS: &str = "apiv1_test-dbtoken-0000000000000000000000000000000000000000000000000";
const ID: &str = "0d0d0d0d-7777-4777-8777-777777777777";

fn created() -> Reply {
    Reply::json(
        200,
        &format!(
            r#"{{"id":"{ID}","description":"d","permissions":[],"createdAt":"2030-01-01T00:00:00Z","accessToken":"{ACCESS}"}}"#
        ),
    )
}

/// A test home with a Dedicated profile `prod` (account `a`, cluster `c`), a private runtime
/// dir, and a loopback Management API.
struct Setup {
    env: TestEnv,
    server: ApiServer,
    account: String,
    cluster: String,
    /// For each DELETE: whether the child (the pid in its report) was already gone.
    child_gone_at_delete: Arc<Mutex<Vec<bool>>>,
}

impl Setup {
    /// `create` answers POST, `delete` answers DELETE, anything else gets 404.
    fn new(n: u32, create: Reply, delete: Reply) -> Setup {
        let env = TestEnv::new();
        let (account, cluster) = (uuid(n), uuid(n + 1));
        env.write_influxctl_config(&format!(
            "[[profile]]\n  name = \"prod\"\n  product = \"dedicated\"\n  account_id = \"{account}\"\n  cluster_id = \"{cluster}\"\n"
        ));
        let run = env.path().join("run");
        std::fs::create_dir(&run).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&run, std::fs::Permissions::from_mode(0o700)).unwrap();
        let gone = Arc::new(Mutex::new(Vec::new()));
        let (report_path, seen) = (env.path().join("report.json"), gone.clone());
        let server = ApiServer::start(move |r| match r.method.as_str() {
            "POST" => create.clone(),
            "DELETE" => {
                let pid = report(&report_path).and_then(|v| v["pid"].as_i64());
                let alive = pid.is_some_and(|p| kill(Pid::from_raw(p as i32), None).is_ok());
                seen.lock().unwrap().push(pid.is_some() && !alive);
                delete.clone()
            }
            _ => Reply::json(404, r#"{"code":404,"message":"no such thing"}"#),
        });
        Setup { env, server, account, cluster, child_gone_at_delete: gone }
    }

    fn report_path(&self) -> PathBuf {
        self.env.path().join("report.json")
    }

    fn run_dir(&self) -> PathBuf {
        self.env.path().join("run")
    }

    fn tokens_path(&self) -> String {
        format!("/accounts/{}/clusters/{}/tokens", self.account, self.cluster)
    }

    /// The environment every run gets (besides TestEnv's clean one).
    fn vars(&self) -> Vec<(&'static str, String)> {
        vec![
            ("XDG_RUNTIME_DIR", self.run_dir().to_string_lossy().into_owned()),
            ("FAKE_INFLUXCTL_REPORT", self.report_path().to_string_lossy().into_owned()),
            ("INFLUXCTL_CRED_TOKEN_PROD", TOKEN.to_owned()),
            ("INFLUXCTL_CRED_API_URL", self.server.url()),
        ]
    }

    /// `influxctl-cred ARGS` with the knobs in `extra`.
    fn run(&self, args: &[&str], extra: &[(&str, &str)]) -> std::process::Output {
        let out = self
            .env
            .cmd()
            .envs(self.vars())
            .envs(extra.iter().copied())
            .args(args)
            .output()
            .unwrap();
        for stream in [&out.stdout, &out.stderr] {
            assert!(!text(stream).contains(TOKEN) && !text(stream).contains(ACCESS));
        }
        out
    }

    /// `exec_args` spawned (to be signalled), stderr piped.
    fn spawn(&self, extra: &[(&str, &str)]) -> std::process::Child {
        let p = self.env.path();
        let fake = fake();
        Command::new(env!("CARGO_BIN_EXE_influxctl-cred"))
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", p.join("home"))
            .env("XDG_CONFIG_HOME", p.join("xdg-config"))
            .env("INFLUXCTL_CRED_HOME", self.env.cred_home())
            .env("CI", "true")
            .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/influxctl-cred-test-bus")
            .envs(self.vars())
            .envs(extra.iter().copied())
            .args(exec_args(&fake))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    fn methods(&self) -> Vec<String> {
        self.server.requests().iter().map(|r| r.method.clone()).collect()
    }

    fn leftovers(&self) -> usize {
        std::fs::read_dir(self.run_dir().join("influxctl-cred")).map_or(0, |d| d.count())
    }
}

fn fake() -> String {
    binary().to_string_lossy().into_owned()
}

/// `exec -p prod --database-token read=DatabaseOne,write=DatabaseTwo -- fake query …`.
fn exec_args(fake: &str) -> Vec<&str> {
    vec![
        "exec",
        "-p",
        "prod",
        "--database-token",
        "read=DatabaseOne",
        "--database-token",
        "write=DatabaseTwo",
        "--database-token-ttl",
        "30m",
        "--",
        fake,
        "query",
        "SELECT 1",
    ]
}

#[test]
fn exec_database_token_reaches_child_as_influx_token_and_profile_token_then_is_deleted() {
    let s = Setup::new(0xe1, created(), Reply::empty(204));
    let before = Timestamp::now();
    let fake = fake();
    let out = s.run(&exec_args(&fake), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let r = report(&s.report_path()).expect("the child ran");
    assert_eq!(r["env_influx_token_sha256"], sha256(ACCESS), "INFLUX_TOKEN");
    assert_eq!(r["token_sha256"], sha256(ACCESS), "the derived profile's token");
    assert!(r["mgmt_token_sha256"].is_null(), "least privilege: no management token for the child");
    let env_hashes = r["env_value_sha256"].as_array().expect("the stand-in hashes its env");
    assert!(!env_hashes.contains(&sha256(TOKEN).into()), "management token in the child's env");
    assert!(!r["argv"].to_string().contains(ACCESS));
    let reqs = s.server.requests();
    assert_eq!(s.methods(), ["POST", "DELETE"]);
    assert_eq!(reqs[0].path, s.tokens_path());
    let body = reqs[0].json();
    crate::dbtoken::assert_read_one_write_two(&body);
    let expires: Timestamp = body["expiresAt"].as_str().unwrap().parse().unwrap();
    assert!((29 * 60..=31 * 60).contains(&expires.duration_since(before).as_secs()));
    assert!(body["description"].as_str().unwrap().starts_with("influxctl-cred exec "));
    assert_eq!(reqs[1].path, format!("{}/{ID}", s.tokens_path()));
    assert_eq!(reqs[1].header("authorization"), Some(format!("Bearer {TOKEN}").as_str()));
    assert_eq!(*s.child_gone_at_delete.lock().unwrap(), [true], "deleted before the child ended");
    assert_eq!(s.leftovers(), 0);
    assert!(s.env.files_containing(ACCESS).is_empty(), "{:?}", s.env.files_containing(ACCESS));
}

#[test]
fn exec_database_token_is_deleted_after_a_child_crash() {
    let s = Setup::new(0xe3, created(), Reply::empty(204));
    let fake = fake();
    let out = s.run(&exec_args(&fake), &[("FAKE_INFLUXCTL_CRASH", "abort")]);
    assert_eq!(out.status.code(), Some(128 + 6), "{}", text(&out.stderr));
    assert_eq!(s.methods(), ["POST", "DELETE"]);
    assert_eq!(*s.child_gone_at_delete.lock().unwrap(), [true]);
    assert_eq!(s.leftovers(), 0);
}

#[test]
fn exec_database_token_is_deleted_after_sigterm_sigint_sighup_to_exec() {
    for sig in [Signal::SIGTERM, Signal::SIGINT, Signal::SIGHUP] {
        let s = Setup::new(0xe5, created(), Reply::empty(204));
        let ready = s.env.path().join("ready");
        let ready_s = ready.to_string_lossy().into_owned();
        let helper =
            s.spawn(&[("FAKE_INFLUXCTL_SLEEP_MS", "20000"), ("FAKE_INFLUXCTL_READY", &ready_s)]);
        wait_for(&ready);
        assert_eq!(s.methods(), ["POST"], "{sig:?}: no delete while the child runs");
        kill(Pid::from_raw(helper.id() as i32), sig).unwrap();
        let out = helper.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(128 + sig as i32), "{sig:?}: {}", text(&out.stderr));
        assert_eq!(s.methods(), ["POST", "DELETE"], "{sig:?}");
        assert_eq!(*s.child_gone_at_delete.lock().unwrap(), [true], "{sig:?}");
        assert_eq!(s.leftovers(), 0, "{sig:?}");
        assert!(!text(&out.stderr).contains(ACCESS));
    }
}

#[test]
fn exec_database_token_signal_during_create_stops_before_child_and_deletes() {
    let s = Setup::new(0xe6, created().after(Duration::from_secs(2)), Reply::empty(204));
    let helper = s.spawn(&[]);
    let deadline = Instant::now() + Duration::from_secs(20);
    while s.methods().is_empty() {
        assert!(Instant::now() < deadline, "no POST arrived");
        std::thread::sleep(Duration::from_millis(20));
    }
    kill(Pid::from_raw(helper.id() as i32), Signal::SIGTERM).unwrap();
    let out = helper.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(128 + 15), "{}", text(&out.stderr));
    assert!(report(&s.report_path()).is_none(), "the child must not start after the signal");
    assert_eq!(s.methods(), ["POST", "DELETE"], "the token made meanwhile is deleted");
    assert_eq!(s.leftovers(), 0);
}

#[test]
fn exec_database_token_failed_delete_warns_and_keeps_child_exit_code() {
    let s = Setup::new(
        0xe7,
        created(),
        Reply::json(500, r#"{"code":500,"message":"catalog unavailable"}"#),
    );
    let fake = fake();
    let out = s.run(&exec_args(&fake), &[("FAKE_INFLUXCTL_EXIT", "3")]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains(&format!("could not delete database token {ID}")), "{err}");
    assert!(err.contains("expires at") && err.contains("catalog unavailable"), "{err}");
    assert_eq!(s.methods(), ["POST", "DELETE", "DELETE"], "one retry after a 5xx");
    assert_eq!(s.leftovers(), 0);
}

#[test]
fn exec_database_token_failed_create_exits_125_before_the_child() {
    let s = Setup::new(
        0xe9,
        Reply::json(403, r#"{"code":403,"message":"not allowed"}"#),
        Reply::empty(204),
    );
    let fake = fake();
    let out = s.run(&exec_args(&fake), &[]);
    assert_eq!(out.status.code(), Some(125), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("kind: api-error") && err.contains("not allowed"), "{err}");
    assert!(report(&s.report_path()).is_none(), "the child must not start");
    assert_eq!(s.methods(), ["POST"]);
    assert_eq!(s.leftovers(), 0);
}

#[test]
fn exec_database_token_without_api_location_is_a_usage_error() {
    let s = Setup::new(0xeb, created(), Reply::empty(204));
    // The env store's token has no binding, and influxctl's config has no profile "ci".
    let fake = fake();
    let mut args = exec_args(&fake);
    args[2] = "ci";
    let out = s.run(&args, &[("INFLUXCTL_CRED_TOKEN_CI", TOKEN)]);
    assert_eq!(out.status.code(), Some(125), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("kind: invalid-request") && err.contains("--database-token"), "{err}");
    assert!(err.contains("account_id"), "{err}");
    assert!(s.server.requests().is_empty());
    assert!(report(&s.report_path()).is_none());
}

#[test]
fn exec_database_token_follows_influxctl_cluster_flag() {
    let s = Setup::new(0xed, created(), Reply::empty(204));
    let other = uuid(0xee0);
    let fake = fake();
    let mut args = exec_args(&fake);
    args.splice(11..11, ["--cluster", other.as_str()]);
    let out = s.run(&args, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(report(&s.report_path()).unwrap()["cluster"], other.as_str());
    let reqs = s.server.requests();
    let expected = format!("/accounts/{}/clusters/{other}/tokens", s.account);
    assert_eq!(reqs[0].path, expected);
    assert_eq!(reqs[1].path, format!("{expected}/{ID}"));
}

#[test]
fn exec_database_token_reaches_a_program_without_arguments() {
    let s = Setup::new(0xef, created(), Reply::empty(204));
    // A job script: no arguments of its own, so no `influxctl help` look-alike.
    let script = s.env.path().join("job.sh");
    let out_file = s.env.path().join("job.out");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nprintf '%s' \"$INFLUX_TOKEN\" | sha256sum | cut -d' ' -f1 > '{}'\n",
            out_file.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o700)).unwrap();
    let script = script.to_string_lossy().into_owned();
    let args = ["exec", "-p", "prod", "--database-token", "write=rollups", "--", &script];
    let out = s.run(&args, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(std::fs::read_to_string(&out_file).unwrap().trim(), sha256(ACCESS));
    assert_eq!(s.methods(), ["POST", "DELETE"]);
}

#[test]
fn exec_database_token_flags_are_checked_before_anything_runs() {
    let s = Setup::new(0xf1, created(), Reply::empty(204));
    let fake = fake();
    for args in [
        &["exec", "--database-token", "admin=db", "--", &fake, "database", "list"][..],
        &["exec", "--database-token", "read=db", "--database-token-ttl", "30s", "--", &fake],
        &["exec", "--database-token-ttl", "1h", "--", &fake, "database", "list"],
        &["exec", "--database-token", "read=db", "--allow-missing", "--", &fake, "database"],
    ] {
        let out = s.run(args, &[]);
        // exec's usage errors are its own failures before the program runs: 125.
        assert_eq!(out.status.code(), Some(125), "{args:?}: {}", text(&out.stderr));
    }
    assert!(s.server.requests().is_empty());
    assert!(report(&s.report_path()).is_none());
}

#[test]
#[ignore = "needs prism (npm)"]
fn exec_database_token_create_and_delete_pass_prism_validation() {
    for doc in [Doc::Dedicated, Doc::Clustered] {
        let p = prism(doc);
        let env = TestEnv::new();
        let (account, cluster) = (uuid(0xdbe01), uuid(0xdbe02));
        let (config, prefix) = match doc {
            Doc::Dedicated => (
                format!(
                    "[[profile]]\n  name = \"prod\"\n  product = \"dedicated\"\n  account_id = \"{account}\"\n  cluster_id = \"{cluster}\"\n"
                ),
                format!("/accounts/{account}/clusters/{cluster}"),
            ),
            Doc::Clustered => (
                "[[profile]]\n  name = \"prod\"\n  product = \"clustered\"\n  host = \"influx.example.com\"\n  port = \"8443\"\n".to_owned(),
                String::new(),
            ),
        };
        env.write_influxctl_config(&config);
        let report_path = env.path().join("report.json");
        let fake = fake();
        let out = env
            .cmd()
            .env("FAKE_INFLUXCTL_REPORT", &report_path)
            .env("INFLUXCTL_CRED_TOKEN_PROD", TOKEN)
            .env("INFLUXCTL_CRED_API_URL", &p.url)
            .args(["-v", "exec", "-p", "prod", "--database-token", "read=DatabaseOne,write=*"])
            .args(["--", &fake, "query", "--database", "DatabaseOne", "SELECT 1"])
            .output()
            .unwrap();
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{doc:?}: {err}");
        assert!(!err.contains(TOKEN), "{err}");
        let r = report(&report_path).expect("the child ran");
        assert!(r["token_sha256"].is_string(), "{r}");
        assert_eq!(r["token_sha256"], r["env_influx_token_sha256"]);
        assert_ne!(r["token_sha256"], sha256(TOKEN));
        let id = err
            .split("created database token ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("no id in -v output: {err}"));
        assert!(p.saw("POST", &format!("{prefix}/tokens")), "{doc:?}");
        assert!(p.saw("DELETE", &format!("{prefix}/tokens/{id}")), "{doc:?}: no delete of {id}");
        assert!(!err.contains("could not delete"), "{err}");
        p.assert_clean();
    }
}

fn wait_for(path: &Path) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !path.exists() {
        assert!(Instant::now() < deadline, "{} never appeared", path.display());
        std::thread::sleep(Duration::from_millis(20));
    }
}
