//! Command-line behaviour that does not depend on one store: usage errors, exit codes, help.

use crate::util::{TOKEN, TestEnv, text};

#[test]
fn store_token_as_argument_is_refused_without_echo() {
    let env = TestEnv::new();
    let out = env.cmd().args(["store", "-p", "prod", TOKEN]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(!text(&out.stderr).contains(TOKEN), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("stdin"));
}

#[test]
fn unknown_argument_is_usage_error_without_echoing_a_token() {
    let env = TestEnv::new();
    let out = env.cmd().args(["get", TOKEN]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(!text(&out.stderr).contains(TOKEN), "{}", text(&out.stderr));
}

#[test]
fn completions_and_man_are_generated() {
    let env = TestEnv::new();
    let out = env.cmd().args(["completions", "bash"]).output().unwrap();
    assert!(out.status.success());
    assert!(text(&out.stdout).contains("influxctl-cred"));
    let out = env.cmd().arg("man").output().unwrap();
    assert!(out.status.success());
    assert!(text(&out.stdout).contains(".TH"));
}

#[test]
fn broken_settings_file_is_a_usage_error() {
    let env = TestEnv::new();
    std::fs::write(env.cred_home().join("config.toml"), "ttl = \"forever\"\n").unwrap();
    let out = env.cmd().args(["list"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("config.toml"));
}

#[test]
fn list_shows_no_made_up_times_for_env_entries() {
    let env = TestEnv::new();
    let out = env.cmd().args(["list"]).env("INFLUXCTL_CRED_TOKEN_PROD", TOKEN_FOR_LIST).output();
    let out = out.unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    let row = table.lines().find(|l| l.starts_with("prod ")).unwrap_or_else(|| panic!("{table}"));
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cells[cells.len() - 2..], ["-", "-"], "created and expires: {row}");
    assert!(!row.contains("never") && !row.contains("20"), "{row}");
    let out = env
        .cmd()
        .args(["list", "--format", "json"])
        .env("INFLUXCTL_CRED_TOKEN_PROD", TOKEN_FOR_LIST)
        .output()
        .unwrap();
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let prod = rows.as_array().unwrap().iter().find(|r| r["profile"] == "prod").unwrap();
    assert_eq!(
        (&prod["created_at"], &prod["expires_at"]),
        (&serde_json::Value::Null, &serde_json::Value::Null)
    );
    assert_eq!(prod["expiry"], "unknown");
    assert!(!text(&out.stdout).contains(TOKEN_FOR_LIST));
}

const TOKEN_FOR_LIST: &str = "M.V1.test-list-env-0123456789";

#[test]
fn memory_store_in_settings_is_a_usage_error_naming_the_choices() {
    let env = TestEnv::new();
    std::fs::write(env.cred_home().join("config.toml"), "store = \"memory\"\n").unwrap();
    let out = env.cmd().args(["list"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("keyring, file, env or vault"), "{}", text(&out.stderr));
}
