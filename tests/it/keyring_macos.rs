//! The keyring store on macOS: the Keychain, through the binary. `#[ignore]`d because it needs
//! an unlocked default keychain that no dialog guards: .github/workflows/ci.yml creates a
//! throwaway one, makes it the default and runs
//! `cargo test --test it keyring_macos -- --include-ignored --test-threads=1`. Never run on the
//! Linux machine of this repository's own CI (docs/platforms.md).

#![cfg(target_os = "macos")]

use std::process::Command;

use crate::util::{TOKEN, TestEnv, text};

/// A profile name no other test (or earlier run against the same keychain) uses.
fn unique(env: &TestEnv, name: &str) -> String {
    let tag = env.path().file_name().and_then(|n| n.to_str()).unwrap_or("x").to_owned();
    format!("{name}-{tag}")
}

/// The binary with the real HOME, so the Keychain search list of the job's user applies.
fn cmd(env: &TestEnv) -> assert_cmd::Command {
    let mut c = env.cmd();
    if let Some(home) = std::env::var_os("HOME") {
        c.env("HOME", home);
    }
    c
}

/// `security find-generic-password` for our item (attributes only, never `-w`).
fn keychain_item(profile: &str) -> std::process::Output {
    Command::new("security")
        .args(["find-generic-password", "-s", "influxctl-cred", "-a", profile])
        .output()
        .expect("run security")
}

#[test]
#[ignore = "needs an unlocked default keychain (the macOS CI job makes a throwaway one)"]
fn store_get_list_erase_with_the_keychain_round_trips() {
    let env = TestEnv::new();
    let p = unique(&env, "mac");

    let out = cmd(&env)
        .args(["store", "-p", &p, "--store", "keyring"])
        .write_stdin(TOKEN)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!text(&out.stderr).contains(TOKEN), "token on stderr");

    // One generic password: service influxctl-cred, account = the profile.
    let item = keychain_item(&p);
    assert!(item.status.success(), "no Keychain item: {}", text(&item.stderr));
    assert!(!text(&item.stdout).contains(TOKEN), "the attributes show the token");

    let out = cmd(&env).args(["get", "-p", &p, "--store", "keyring"]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), TOKEN);

    let out = cmd(&env).args(["list", "--store", "keyring"]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains(&p), "{}", text(&out.stdout));
    assert!(!text(&out.stdout).contains(TOKEN), "list printed the token");

    let out = cmd(&env).args(["erase", "-p", &p, "--store", "keyring"]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!keychain_item(&p).status.success(), "the Keychain item outlived erase");

    let out = cmd(&env).args(["get", "-p", &p, "--store", "keyring"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3), "not-found: {}", text(&out.stderr));
    assert!(
        env.files_containing(TOKEN).is_empty(),
        "token on disk: {:?}",
        env.files_containing(TOKEN)
    );
}
