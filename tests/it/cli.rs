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
