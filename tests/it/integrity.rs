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

/// Every path under `root` (files and folders), for "nothing was written" checks.
fn tree(root: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut all = Vec::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        let Ok(read) = std::fs::read_dir(&dir) else { continue };
        for item in read.flatten() {
            let p = item.path();
            if p.is_dir() {
                stack.push(p.clone());
            }
            all.push(p);
        }
    }
    all.sort();
    all
}

/// A name of 241 bytes (one more than fits a 255-byte file name with `.meta.json`), one of
/// 41 two-byte characters (246 bytes once each byte is `%XX`), and the longest that fits.
fn long_names() -> (Vec<String>, String) {
    (vec!["p".repeat(241), "ü".repeat(41)], "p".repeat(240))
}

#[test]
fn store_profile_name_too_long_for_a_file_name_is_refused_before_writing() {
    let (too_long, fits) = long_names();
    for name in &too_long {
        let env = TestEnv::new();
        // Make the file store (and its identity) exist first, so that "nothing new" is visible.
        assert_exit(&store(&env, "other", &[]), 0);
        let before = tree(&env.cred_home());
        for target in [&["--store", "file"][..], &["--store", "keyring"], &[]] {
            let out = env
                .cmd()
                .args(["store", "-p", name])
                .args(target)
                .write_stdin(TOKEN)
                .output()
                .unwrap();
            assert_exit(&out, 2);
            let err = text(&out.stderr);
            assert!(err.contains("too long"), "{target:?}: {err}");
            assert!(!err.contains(TOKEN), "{err}");
            assert_eq!(tree(&env.cred_home()), before, "{target:?} wrote something");
        }
        // The helper's `store` is refused the same way.
        let req = serde_json::json!({"v":1,"id":1,"kind":"store","profile":name,"token":TOKEN,
            "store":"file"});
        let out = env.cmd().arg("helper").write_stdin(format!("{req}\n")).output().unwrap();
        assert_exit(&out, 0);
        let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(answer["error"]["kind"], "invalid-request", "{answer}");
        assert_eq!(tree(&env.cred_home()), before, "the helper wrote something");
        // Nothing to find, nothing to erase, no panic, and the other entry is untouched.
        let out = env.cmd().args(["get", "-p", name]).output().unwrap();
        assert_exit(&out, 3);
        let out = env.cmd().args(["erase", "-p", name]).output().unwrap();
        assert!(matches!(out.status.code(), Some(0 | 3)), "{}", text(&out.stderr));
        assert!(!text(&out.stderr).contains("internal error"), "{}", text(&out.stderr));
        let out = env.cmd().args(["get", "-p", "other"]).output().unwrap();
        assert_exit(&out, 0);
        assert_eq!(text(&out.stdout), format!("{TOKEN}\n"));
    }
    // The longest name that fits round-trips.
    let env = TestEnv::new();
    assert_exit(&store(&env, &fits, &[]), 0);
    let out = env.cmd().args(["get", "-p", &fits]).output().unwrap();
    assert_exit(&out, 0);
    assert_eq!(text(&out.stdout), format!("{TOKEN}\n"));
    let out = env.cmd().args(["erase", "-p", &fits]).output().unwrap();
    assert_exit(&out, 0);
    assert!(
        !env.store_dir()
            .read_dir()
            .unwrap()
            .flatten()
            .any(|f| { f.file_name().to_string_lossy().starts_with(&fits) })
    );
}

#[test]
fn import_profile_name_too_long_is_refused_and_keeps_the_config() {
    let (too_long, _) = long_names();
    let env = TestEnv::new();
    let config_text = format!(
        "[[profile]]\n  name = \"{}\"\n  mgmt_token = \"M.V1.test-long-name-0123456789\"\n",
        too_long[0]
    );
    let config = env.write_influxctl_config(&config_text);
    for args in [&["import", "--all"][..], &["import", "-p", &too_long[0]]] {
        let out = env.cmd().args(args).args(["--store", "file"]).output().unwrap();
        assert_exit(&out, 2);
        let err = text(&out.stderr);
        assert!(err.contains("too long"), "{err}");
        assert!(!err.contains("test-long-name"), "{err}");
    }
    assert_eq!(std::fs::read_to_string(&config).unwrap(), config_text, "the token stays put");
    assert!(env.files_containing("M.V1.test-long-name").len() == 1, "only the config holds it");
}

/// A second token, for the environment.
const ENV_TOKEN: &str = "M.V1.test-from-the-environment-0000";

#[test]
fn generic_token_variable_shadowing_a_stored_entry_warns() {
    let env = TestEnv::new();
    assert_exit(&store(&env, "prod", &[]), 0);
    let out = env.cmd().env("INFLUXCTL_CRED_TOKEN", ENV_TOKEN).args(["get", "-p", "prod"]).output();
    let out = out.unwrap();
    assert_exit(&out, 0);
    assert_eq!(text(&out.stdout), format!("{ENV_TOKEN}\n"), "env comes first (docs/spec.md §3)");
    let err = text(&out.stderr);
    assert!(err.contains("INFLUXCTL_CRED_TOKEN shadows"), "{err}");
    assert!(err.contains("\"prod\"") && err.contains("file store"), "{err}");
    assert!(!err.contains(TOKEN) && !err.contains(ENV_TOKEN), "{err}");
    // The helper warns the same way (on its stderr, not in the answer).
    let req = "{\"v\":1,\"id\":1,\"kind\":\"get\",\"profile\":\"prod\"}\n";
    let out =
        env.cmd().env("INFLUXCTL_CRED_TOKEN", ENV_TOKEN).arg("helper").write_stdin(req).output();
    let out = out.unwrap();
    assert!(text(&out.stderr).contains("INFLUXCTL_CRED_TOKEN shadows"), "{}", text(&out.stderr));
    // No stored entry for the profile: nothing is shadowed, nothing to warn about.
    let out =
        env.cmd().env("INFLUXCTL_CRED_TOKEN", ENV_TOKEN).args(["get", "-p", "stage"]).output();
    let out = out.unwrap();
    assert_exit(&out, 0);
    assert_eq!(text(&out.stdout), format!("{ENV_TOKEN}\n"));
    assert!(!text(&out.stderr).contains("shadows"), "{}", text(&out.stderr));
    // The profile's own variable shadows nothing the user did not ask for: no warning.
    let out = env
        .cmd()
        .env("INFLUXCTL_CRED_TOKEN_PROD", ENV_TOKEN)
        .args(["get", "-p", "prod"])
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert!(!text(&out.stderr).contains("shadows"), "{}", text(&out.stderr));
}

#[test]
fn env_name_shared_by_two_profiles_is_refused_for_both() {
    // Both profiles in influxctl's config.
    let env = TestEnv::new();
    env.write_influxctl_config(
        "[[profile]]\n  name = \"a-b\"\n  cluster_id = \"c-1\"\n\n[[profile]]\n  name = \"a_b\"\n  cluster_id = \"c-2\"\n",
    );
    for profile in ["a-b", "a_b"] {
        let out = env
            .cmd()
            .env("INFLUXCTL_CRED_TOKEN_A_B", ENV_TOKEN)
            .args(["get", "-p", profile])
            .output()
            .unwrap();
        assert_exit(&out, 2);
        let err = text(&out.stderr);
        assert!(err.contains("INFLUXCTL_CRED_TOKEN_A_B is ambiguous"), "{profile}: {err}");
        assert!(err.contains("\"a-b\"") && err.contains("\"a_b\""), "{profile}: {err}");
        assert!(!text(&out.stdout).contains(ENV_TOKEN) && !err.contains(ENV_TOKEN), "{err}");
    }
    // One in influxctl's config, one in a store: refused for both.
    let env = TestEnv::new();
    env.write_influxctl_config("[[profile]]\n  name = \"a-b\"\n  cluster_id = \"c-1\"\n");
    assert_exit(&store(&env, "a_b", &[]), 0);
    for profile in ["a-b", "a_b"] {
        let out = env
            .cmd()
            .env("INFLUXCTL_CRED_TOKEN_A_B", ENV_TOKEN)
            .args(["get", "-p", profile])
            .output()
            .unwrap();
        assert_exit(&out, 2);
        assert!(text(&out.stderr).contains("ambiguous"), "{profile}: {}", text(&out.stderr));
    }
    // Only `a_b` is known: asking for `a-b` (whose variable a known profile shares) is refused;
    // `a_b` itself gets its variable, since no other known profile maps to it.
    let env = TestEnv::new();
    assert_exit(&store(&env, "a_b", &[]), 0);
    let run = |profile: &str| {
        env.cmd().env("INFLUXCTL_CRED_TOKEN_A_B", ENV_TOKEN).args(["get", "-p", profile]).output()
    };
    assert_exit(&run("a-b").unwrap(), 2);
    let out = run("a_b").unwrap();
    assert_exit(&out, 0);
    assert_eq!(text(&out.stdout), format!("{ENV_TOKEN}\n"));
    // Only one profile maps to the variable: it answers.
    let env = TestEnv::new();
    let out = env
        .cmd()
        .env("INFLUXCTL_CRED_TOKEN_A_B", ENV_TOKEN)
        .args(["get", "-p", "a-b"])
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert_eq!(text(&out.stdout), format!("{ENV_TOKEN}\n"));
}
