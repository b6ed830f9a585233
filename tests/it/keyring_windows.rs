//! The keyring store on Windows: the Credential Manager, through the binary. `#[ignore]`d so a
//! developer's own credentials are never touched by a bare `cargo test`; the Windows job of
//! .github/workflows/ci.yml runs `cargo test --test it keyring_windows -- --include-ignored`.
//! Never run on the Linux machine of this repository's own CI (docs/platforms.md).

#![cfg(target_os = "windows")]

use std::collections::HashMap;

use crate::util::{TOKEN, TestEnv, text};

/// A profile name no other test (or earlier run on the same account) uses.
fn unique(env: &TestEnv, name: &str) -> String {
    let tag = env.path().file_name().and_then(|n| n.to_str()).unwrap_or("x").to_owned();
    format!("{name}-{tag}")
}

/// Whether the Credential Manager holds the generic credential `<profile>.influxctl-cred`
/// (read with CredReadW through the same crate, not through our binary; Wine has no `cmdkey`).
fn credential_listed(profile: &str) -> bool {
    use keyring_core::api::CredentialStoreApi;
    let target = format!("{profile}.influxctl-cred");
    let store = windows_native_keyring_store::Store::new().expect("open the Credential Manager");
    let modifiers = HashMap::from([("target", target.as_str())]);
    let entry = store.build("influxctl-cred", profile, Some(&modifiers)).expect("an entry");
    match entry.get_secret() {
        Ok(_) => true,
        Err(keyring_core::Error::NoEntry) => false,
        Err(e) => panic!("cannot read the credential {target}: {e}"),
    }
}

#[test]
#[ignore = "writes to the Credential Manager of the account (the Windows CI job runs it)"]
fn store_get_list_erase_with_the_credential_manager_round_trips() {
    let env = TestEnv::new();
    let p = unique(&env, "win");

    let out = env
        .cmd()
        .args(["store", "-p", &p, "--store", "keyring"])
        .write_stdin(TOKEN)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!text(&out.stderr).contains(TOKEN), "token on stderr");
    assert!(credential_listed(&p), "no generic credential {p}.influxctl-cred");

    let out = env.cmd().args(["get", "-p", &p, "--store", "keyring"]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), TOKEN);

    let out = env.cmd().args(["list", "--store", "keyring"]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains(&p), "{}", text(&out.stdout));
    assert!(!text(&out.stdout).contains(TOKEN), "list printed the token");

    let out = env.cmd().args(["erase", "-p", &p, "--store", "keyring"]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!credential_listed(&p), "the credential outlived erase");

    let out = env.cmd().args(["get", "-p", &p, "--store", "keyring"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3), "not-found: {}", text(&out.stderr));
    assert!(
        env.files_containing(TOKEN).is_empty(),
        "token on disk: {:?}",
        env.files_containing(TOKEN)
    );
}

#[test]
#[ignore = "writes to the Credential Manager of the account (the Windows CI job runs it)"]
fn an_over_long_description_is_refused_not_cut() {
    let env = TestEnv::new();
    let p = unique(&env, "winlong");
    let long = "d".repeat(4000);
    let out = env
        .cmd()
        .args(["store", "-p", &p, "--store", "keyring", "--description", &long])
        .write_stdin(TOKEN)
        .output()
        .unwrap();
    assert!(!out.status.success(), "a 4000-byte description fit in a 2560-byte credential");
    assert!(!text(&out.stderr).contains(TOKEN), "token on stderr");
    assert!(!credential_listed(&p), "a refused store left a credential");
}
