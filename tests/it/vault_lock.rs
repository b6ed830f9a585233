//! `lock` and the vault login cache without a server: what `lock` says and deletes, and that the
//! cache file in the store folder is never taken for an entry of the file store. (Revoking a
//! real login token is tested against OpenBao in the vault tests.)

use crate::util::{TOKEN, TestEnv, text};

fn put_cache(env: &TestEnv, bytes: &[u8]) -> std::path::PathBuf {
    let dir = env.store_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("vault-login.cache");
    std::fs::write(&path, bytes).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    path
}

#[test]
fn lock_with_nothing_cached_says_so_and_exits_0() {
    let env = TestEnv::new();
    let out = env.cmd().arg("lock").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stderr).contains("no vault login was cached"), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
}

#[test]
fn lock_deletes_a_cache_it_cannot_revoke_without_a_server() {
    let env = TestEnv::new();
    let cache = put_cache(&env, b"age-encryption.org/v1\n-> X25519 not really\n");
    let out = env.cmd().arg("lock").output().unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!cache.exists(), "{stderr}");
    assert!(stderr.contains("deleted the vault login cache"), "{stderr}");
}

#[test]
fn lock_with_a_server_configured_deletes_a_cache_it_cannot_open_without_sending_anything() {
    let env = TestEnv::new();
    std::fs::write(env.cred_home().join("config.toml"), "[vault]\naddr = \"http://127.0.0.1:1\"\n")
        .unwrap();
    let cache = put_cache(&env, b"not an age file");
    let out = env.cmd().arg("lock").output().unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!cache.exists());
    assert!(stderr.contains("nothing was revoked"), "{stderr}");
}

#[test]
fn login_cache_in_the_store_folder_is_not_an_entry_of_the_file_store() {
    let env = TestEnv::new();
    let stored = env
        .cmd()
        .args(["store", "-p", "prod", "--store", "file"])
        .write_stdin(TOKEN)
        .output()
        .unwrap();
    assert_eq!(stored.status.code(), Some(0), "{}", text(&stored.stderr));
    put_cache(&env, b"age-encryption.org/v1\n-> X25519 not really\n");
    let list = env.cmd().args(["list", "--format", "json"]).output().unwrap();
    assert_eq!(list.status.code(), Some(0), "{}", text(&list.stderr));
    let rows: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    let profiles: Vec<&str> =
        rows.as_array().unwrap().iter().map(|r| r["profile"].as_str().unwrap()).collect();
    assert_eq!(profiles, ["prod"]);
    let get = env.cmd().args(["get", "-p", "vault-login", "--store", "file"]).output().unwrap();
    assert_eq!(get.status.code(), Some(3), "{}", text(&get.stderr));
}
