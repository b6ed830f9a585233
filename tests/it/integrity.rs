//! Hostile input and hostile surroundings (issue 10): no panic (exit 101) on what a user or a
//! store hands us, no false success, and no token echoed back.

use std::process::Stdio;

use crate::util::{TOKEN, TestEnv, text};

/// Asserts a run ended by itself with `code`, without the panic hook's "internal error".
fn assert_exit(out: &std::process::Output, code: i32) {
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "stderr: {err}");
    assert!(!err.contains("internal error"), "{err}");
}

fn store(env: &TestEnv, profile: &str, extra: &[&str]) -> std::process::Output {
    env.cmd()
        .args(["store", "-p", profile, "--store", "file"])
        .args(extra)
        .write_stdin(TOKEN)
        .output()
        .unwrap()
}

#[test]
fn list_long_description_does_not_panic() {
    let env = TestEnv::new();
    assert_exit(&store(&env, "prod", &[]), 0);
    // An entry written by another tool (or an older version, before the cap) with a
    // 70 000-character description, with no sidecar to speak for it: `list` decrypts it and
    // must still print its table. (A sidecar that large is over its 64 KiB cap and ignored.)
    let identity: age::x25519::Identity =
        std::fs::read_to_string(env.cred_home().join("identity.txt"))
            .unwrap()
            .lines()
            .find(|l| l.starts_with("AGE-SECRET-KEY-"))
            .unwrap()
            .parse()
            .unwrap();
    let entry_path = env.store_dir().join("prod.age");
    let plain = age::decrypt(&identity, &std::fs::read(&entry_path).unwrap()).unwrap();
    let mut json: serde_json::Value = serde_json::from_slice(&plain).unwrap();
    json["description"] = serde_json::Value::String("d".repeat(70_000));
    let sealed = age::encrypt(&identity.to_public(), &serde_json::to_vec(&json).unwrap()).unwrap();
    std::fs::write(&entry_path, sealed).unwrap();
    std::fs::remove_file(env.store_dir().join("prod.meta.json")).unwrap();
    let out = env.cmd().args(["list"]).output().unwrap();
    assert_exit(&out, 0);
    let table = text(&out.stdout);
    assert!(table.contains("prod") && table.contains('…'), "{table}");
    assert!(table.lines().all(|l| l.chars().count() < 400), "{table}");
    // JSON keeps it whole.
    let out = env.cmd().args(["list", "--format", "json"]).output().unwrap();
    assert_exit(&out, 0);
    assert!(text(&out.stdout).contains(&"d".repeat(70_000)));
}

#[test]
fn store_long_or_multiline_description_is_refused_before_writing() {
    let env = TestEnv::new();
    let long = "x".repeat(70_000);
    for bad in [long.as_str(), "two\nlines", "bell\u{7}"] {
        let out = store(&env, "prod", &["--description", bad]);
        assert_exit(&out, 2);
        assert!(text(&out.stderr).contains("description"), "{}", text(&out.stderr));
    }
    assert!(!env.store_dir().join("prod.age").exists());
    assert_exit(&store(&env, "prod", &["--description", &"x".repeat(1024)]), 0);
}

#[test]
fn helper_store_long_description_is_invalid_request() {
    let env = TestEnv::new();
    let req = serde_json::json!({"v":1,"id":1,"kind":"store","profile":"prod","token":TOKEN,
        "store":"file","description":"y".repeat(5000)});
    let out = env.cmd().arg("helper").write_stdin(format!("{req}\n")).output().unwrap();
    assert_exit(&out, 0);
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["error"]["kind"], "invalid-request", "{answer}");
    assert!(!env.store_dir().join("prod.age").exists());
}

/// [`TestEnv::cmd`] as a std `Command`, whose stdout can be any file.
fn std_cmd(env: &TestEnv) -> std::process::Command {
    let c = env.cmd();
    let mut std = std::process::Command::new(c.get_program());
    std.env_clear().stdin(Stdio::null());
    for (k, v) in c.get_envs() {
        if let Some(v) = v {
            std.env(k, v);
        }
    }
    std
}

fn dev_full() -> Stdio {
    Stdio::from(std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap())
}

/// A pipe whose reading end is already closed: every write is EPIPE.
fn closed_pipe() -> Stdio {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    Stdio::from(writer)
}

const PRINTERS: &[&[&str]] = &[
    &["--help"],
    &["--version"],
    &["doctor"],
    &["create", "--help"],
    &["completions", "bash"],
    &["man"],
    &["list"],
];

#[test]
fn help_to_dev_full_exits_1_with_message() {
    let env = TestEnv::new();
    for args in PRINTERS {
        let out =
            std_cmd(&env).args(*args).stdout(dev_full()).stderr(Stdio::piped()).output().unwrap();
        assert_exit(&out, 1);
        assert!(text(&out.stderr).contains("cannot write to stdout"), "{args:?}");
    }
}

#[test]
fn help_into_closed_pipe_exits_quietly() {
    let env = TestEnv::new();
    for args in PRINTERS {
        let out = std_cmd(&env)
            .args(*args)
            .stdout(closed_pipe())
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", text(&out.stderr));
        let err = text(&out.stderr);
        assert!(!err.contains("internal error") && !err.contains("error:"), "{args:?}: {err}");
    }
}

/// toml_edit 0.23.10 panicked on these five bytes.
const PANIC_TOML: &[u8] = b"==\r.=";

#[test]
fn config_toml_panic_input_is_invalid_request() {
    let env = TestEnv::new();
    let config = env.write_influxctl_config("");
    std::fs::write(&config, PANIC_TOML).unwrap();
    let out = store(&env, "prod", &[]);
    assert_exit(&out, 2);
    assert!(text(&out.stderr).contains(&config.display().to_string()), "{}", text(&out.stderr));
    assert!(!env.store_dir().join("prod.age").exists());
    let out = env.cmd().args(["import", "-p", "prod"]).output().unwrap();
    assert_exit(&out, 2);
    assert_eq!(std::fs::read(&config).unwrap(), PANIC_TOML);
}

const DUP: &str = "[[profile]]\n  name = \"prod\"\n  mgmt_token = \"M.V1.test-dup-aaaaaaaaaaaa\"\n\n# again\n[[profile]]\n  name = \"prod\"\n  mgmt_token = \"M.V1.test-dup-bbbbbbbbbbbb\"\n";

#[test]
fn import_duplicate_profiles_refused_with_lines() {
    let env = TestEnv::new();
    let config = env.write_influxctl_config(DUP);
    for args in [&["import", "--all"][..], &["import", "-p", "prod"]] {
        let out = env.cmd().args(args).args(["--store", "file"]).output().unwrap();
        assert_exit(&out, 2);
        let err = text(&out.stderr);
        assert!(err.contains("lines 1 and 6"), "{err}");
        assert!(!err.contains("removed") && !err.contains("moved"), "{err}");
        assert!(!err.contains("test-dup"), "{err}");
    }
    assert_eq!(std::fs::read_to_string(&config).unwrap(), DUP);
    assert!(!env.store_dir().join("prod.age").exists());
}

#[test]
fn import_keeps_bom_and_crlf_byte_for_byte() {
    let env = TestEnv::new();
    let before = "\u{feff}# mine\r\n[[profile]]\r\n  name = \"prod\"\r\n  # pasted\r\n  mgmt_token = \"M.V1.test-crlf-0123456789\" # note\r\n  product = \"dedicated\"\r\n\r\n[[profile]]\r\n  name = \"other\"\r\n";
    let after = "\u{feff}# mine\r\n[[profile]]\r\n  name = \"prod\"\r\n  # pasted\r\n  # note\r\n  product = \"dedicated\"\r\n\r\n[[profile]]\r\n  name = \"other\"\r\n";
    let config = env.write_influxctl_config(before);
    let out = env.cmd().args(["import", "--all", "--store", "file"]).output().unwrap();
    assert_exit(&out, 0);
    assert_eq!(std::fs::read_to_string(&config).unwrap(), after);
    let out = env.cmd().args(["get", "-p", "prod"]).output().unwrap();
    assert_exit(&out, 0);
    assert_eq!(text(&out.stdout), "M.V1.test-crlf-0123456789\n");
}

#[test]
fn exec_token_as_profile_is_redacted() {
    let env = TestEnv::new();
    let runs: [&[&str]; 4] = [
        &["exec", "-p", TOKEN, "--", "influxctl", "cluster", "list"],
        &["exec", "--", "influxctl", "--profile", TOKEN, "cluster", "list"],
        &["exec", "--", "influxctl", &format!("--profile={TOKEN}"), "cluster", "list"],
        &["get", "-p", TOKEN],
    ];
    for args in runs {
        let out = env.cmd().args(args).output().unwrap();
        let err = text(&out.stderr);
        assert!(!out.status.success(), "{args:?}");
        assert!(!err.contains("0123456789abcdefTOKEN"), "{args:?}: {err}");
        assert!(err.contains("looks like a management token"), "{args:?}: {err}");
    }
    let req = format!("{{\"v\":1,\"id\":1,\"kind\":\"get\",\"profile\":\"{TOKEN}\"}}\n");
    let out = env.cmd().arg("helper").write_stdin(req).output().unwrap();
    assert!(!text(&out.stdout).contains("0123456789abcdefTOKEN"), "{}", text(&out.stdout));
    assert!(!text(&out.stderr).contains("0123456789abcdefTOKEN"));
}

#[test]
fn error_naming_a_path_with_a_token_is_redacted() {
    let env = TestEnv::new();
    // A token pasted where a path belongs: the error names the path, masked.
    let dir = env.path().join(TOKEN);
    std::fs::create_dir_all(&dir).unwrap();
    let out = env
        .cmd()
        .args(["--influxctl-config", dir.to_str().unwrap(), "store", "-p", "prod"])
        .args(["--store", "file"])
        .write_stdin(TOKEN)
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(!err.contains("0123456789abcdefTOKEN"), "{err}");
    assert!(err.contains("<redacted token>"), "{err}");
}
