use super::*;
use std::collections::HashMap;

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> =
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    move |name: &str| map.get(name).cloned()
}

#[test]
fn bao_token_wins_then_vault_token_then_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    crate::fsutil::write_atomic(&home.join(".vault-token"), b"s.fromfile\n").unwrap();
    let (t, s) =
        static_token(&env(&[("BAO_TOKEN", "s.bao"), ("VAULT_TOKEN", "s.v")]), Some(home)).unwrap();
    assert_eq!((t.expose(), s), ("s.bao", Source::Env("BAO_TOKEN")));
    let (t, s) =
        static_token(&env(&[("BAO_TOKEN", ""), ("VAULT_TOKEN", "s.v")]), Some(home)).unwrap();
    assert_eq!((t.expose(), s), ("s.v", Source::Env("VAULT_TOKEN")));
    let (t, s) = static_token(&env(&[]), Some(home)).unwrap();
    assert_eq!((t.expose(), s), ("s.fromfile", Source::File(home.join(".vault-token"))));
}

#[test]
fn no_token_anywhere_is_store_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let err = static_token(&env(&[]), Some(dir.path())).unwrap_err();
    assert_eq!(err.exit_code(), 5);
    assert_eq!(static_token(&env(&[]), None).unwrap_err().exit_code(), 5);
}

#[cfg(unix)]
#[test]
fn a_vault_token_file_readable_by_others_is_refused_with_the_chmod() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".vault-token");
    std::fs::write(&path, "s.secretvaulttoken").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = static_token(&env(&[]), Some(dir.path())).unwrap_err();
    assert_eq!(err.exit_code(), 5);
    let all = format!("{err} {}", err.hint().unwrap_or_default());
    assert!(all.contains("chmod 600"), "{all}");
    assert!(!all.contains("s.secretvaulttoken"), "{all}");
}
