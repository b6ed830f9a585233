use super::*;
use crate::entry::Origin;
use crate::error::ErrorKind;
use crate::secret::Token;
use crate::store::memory::MemoryStore;
use jiff::{SignedDuration, Timestamp};

fn vault(stores: Vec<Box<dyn Store>>) -> (tempfile::TempDir, Vault) {
    let dir = tempfile::tempdir().unwrap();
    let paths = Paths::under(dir.path().to_owned());
    let opts = Options {
        non_interactive: true,
        influxctl_config: Some(dir.path().join("influxctl.toml")),
    };
    (dir, Vault::with_stores(paths, Settings::default(), opts, stores))
}

fn entry(profile: &str, token: &str) -> Entry {
    Entry::new(profile, Token::new(token.into()).unwrap(), Origin::Stored)
}

#[test]
fn get_absent_profile_is_not_found() {
    let (_d, v) = vault(vec![Box::new(MemoryStore::new())]);
    assert_eq!(v.get("prod", None).unwrap_err().kind(), ErrorKind::NotFound);
}

#[test]
fn get_reports_unavailable_store_when_it_is_the_profiles_own() {
    let (_d, mut v) = vault(vec![Box::new(MemoryStore::unavailable())]);
    // Not the profile's store: absent everywhere else means not-found, saying what was skipped.
    let err = v.get("prod", None).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(err.to_string().contains("memory store could not be searched"), "{err}");
    // The profile's own store: its unavailability is the answer.
    v.settings
        .profiles
        .insert("prod".into(), crate::settings::ProfileSettings { store: Some(StoreKind::Memory) });
    assert_eq!(v.get("prod", None).unwrap_err().kind(), ErrorKind::StoreUnavailable);
}

#[test]
fn put_then_get_round_trips_and_binds() {
    let (d, v) = vault(vec![Box::new(MemoryStore::new())]);
    std::fs::write(
            d.path().join("influxctl.toml"),
            "[[profile]]\nname = \"prod\"\nproduct = \"dedicated\"\naccount_id = \"a1\"\ncluster_id = \"c1\"\n",
        )
        .unwrap();
    let w = v.put(entry("prod", "M.V1.test-one"), Some(StoreKind::Memory)).unwrap();
    assert_eq!(w, Written { store: StoreKind::Memory, replaced: false });
    let found = v.get("prod", None).unwrap();
    assert_eq!(found.entry.token.expose(), "M.V1.test-one");
    assert_eq!(found.entry.cluster.cluster_id.as_deref(), Some("c1"));

    // The config now points the profile at another cluster: no token leaves.
    std::fs::write(
            d.path().join("influxctl.toml"),
            "[[profile]]\nname = \"prod\"\nproduct = \"dedicated\"\naccount_id = \"a1\"\ncluster_id = \"c2\"\n",
        )
        .unwrap();
    assert_eq!(v.get("prod", None).unwrap_err().kind(), ErrorKind::ClusterMismatch);
}

#[test]
fn get_refuses_expired_and_short_lived() {
    let (_d, v) = vault(vec![Box::new(MemoryStore::new())]);
    let mut e = entry("prod", "M.V1.test-exp");
    e.expires_at = Some(Timestamp::now() - SignedDuration::from_secs(5));
    v.put(e.clone(), Some(StoreKind::Memory)).unwrap();
    assert_eq!(v.get("prod", None).unwrap_err().exit_code(), 4);
    e.expires_at = Some(Timestamp::now() + SignedDuration::from_hours(2));
    v.put(e, Some(StoreKind::Memory)).unwrap();
    assert!(v.get("prod", Some(SignedDuration::from_hours(1))).is_ok());
    assert_eq!(v.get("prod", Some(SignedDuration::from_hours(3))).unwrap_err().exit_code(), 4);
}

#[test]
fn failed_write_keeps_what_was_stored() {
    let mem = MemoryStore::new();
    mem.set(&entry("prod", "M.V1.test-old")).unwrap();
    mem.fail_next(Error::Other("disk full".into()));
    let (_d, v) = vault(vec![Box::new(mem)]);
    assert!(v.put(entry("prod", "M.V1.test-new"), Some(StoreKind::Memory)).is_err());
    assert_eq!(v.get("prod", None).unwrap().entry.token.expose(), "M.V1.test-old");
}

#[test]
fn erase_is_idempotent() {
    let (_d, v) = vault(vec![Box::new(MemoryStore::new())]);
    v.put(entry("prod", "M.V1.test-e"), Some(StoreKind::Memory)).unwrap();
    assert!(v.erase("prod", None).unwrap());
    assert!(!v.erase("prod", None).unwrap());
}

#[test]
fn store_flag_restricts_reads_to_that_store() {
    let env = EnvStore::from_vars([(
        "INFLUXCTL_CRED_TOKEN_PROD".to_string(),
        "M.V1.test-env".to_string(),
    )]);
    let (_d, v) = vault(vec![Box::new(MemoryStore::new()), Box::new(env)]);
    let v = v.reading_only_from(Some(StoreKind::Memory));
    assert_eq!(v.get("prod", None).unwrap_err().kind(), ErrorKind::NotFound);
    assert!(v.list().0.is_empty());
}

/// A store that holds `prod` and then became unreachable (a keyring that got locked).
fn locked_holding_prod() -> MemoryStore {
    let mem = MemoryStore::new();
    mem.set(&entry("prod", "M.V1.test-locked")).unwrap();
    mem.set_unavailable(true);
    mem
}

#[test]
fn get_unreachable_store_that_holds_the_profile_is_unavailable() {
    let (_d, v) = vault(vec![Box::new(locked_holding_prod())]);
    let err = v.get("prod", None).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::StoreUnavailable, "{err}");
    assert!(err.to_string().contains("holds an entry of profile \"prod\""), "{err}");
    // Nothing says it holds another profile: that one is not found.
    assert_eq!(v.get("other", None).unwrap_err().kind(), ErrorKind::NotFound);
}

#[test]
fn get_named_unreachable_store_is_unavailable() {
    let (_d, v) = vault(vec![Box::new(MemoryStore::unavailable())]);
    let v = v.reading_only_from(Some(StoreKind::Memory));
    assert_eq!(v.get("prod", None).unwrap_err().kind(), ErrorKind::StoreUnavailable);
}

#[test]
fn erase_unreachable_store_fails_and_erases_the_others() {
    let reachable = MemoryStore::new();
    reachable.set(&entry("prod", "M.V1.test-other")).unwrap();
    let (_d, v) = vault(vec![Box::new(reachable), Box::new(locked_holding_prod())]);
    let err = v.erase("prod", None).unwrap_err();
    assert_eq!(err.exit_code(), 5, "{err}");
    let msg = err.to_string();
    assert!(msg.contains("erased it from the memory store, but NOT from the memory"), "{msg}");
    // The reachable one is gone; asking again still fails for the locked one.
    assert_eq!(v.erase("prod", None).unwrap_err().exit_code(), 5);
}

#[test]
fn put_refuses_when_the_holding_store_is_unreachable() {
    let (_d, v) = vault(vec![Box::new(MemoryStore::new()), Box::new(locked_holding_prod())]);
    let err = v.put(entry("prod", "M.V1.test-new"), None).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::StoreUnavailable, "{err}");
    // Nothing was written to the reachable store.
    assert!(v.store(StoreKind::Memory).unwrap().get("prod").unwrap().is_none());
}

#[test]
fn put_replaces_where_the_profile_already_is() {
    let holder = MemoryStore::new();
    holder.set(&entry("prod", "M.V1.test-old")).unwrap();
    let (_d, v) = vault(vec![Box::new(MemoryStore::new()), Box::new(holder)]);
    let w = v.put(entry("prod", "M.V1.test-new"), None).unwrap();
    assert!(w.replaced, "the second store held it and was replaced");
    assert_eq!(v.get("prod", None).unwrap().entry.token.expose(), "M.V1.test-new");
}

#[test]
fn put_long_profile_name_is_refused_before_writing() {
    let (_d, v) = vault(vec![Box::new(MemoryStore::new())]);
    let long = "p".repeat(crate::store::MAX_FILE_STEM + 1);
    assert_eq!(v.put(entry(&long, "M.V1.test-x"), None).unwrap_err().exit_code(), 2);
    assert!(v.list().0.is_empty());
}

#[test]
fn env_variable_shared_by_two_profiles_is_refused_for_both() {
    let env = EnvStore::from_vars([(
        "INFLUXCTL_CRED_TOKEN_A_B".to_string(),
        "M.V1.test-env".to_string(),
    )]);
    let mem = MemoryStore::new();
    mem.set(&entry("a_b", "M.V1.test-mem")).unwrap();
    mem.set(&entry("a-b", "M.V1.test-mem2")).unwrap();
    let (_d, v) = vault(vec![Box::new(env), Box::new(mem)]);
    for p in ["a-b", "a_b"] {
        let err = v.get(p, None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{p}: {err}");
        let msg = err.to_string();
        assert!(msg.contains("\"a-b\" and \"a_b\""), "{msg}");
    }
    // A profile of its own keeps working.
    let (_d, v) = vault(vec![Box::new(EnvStore::from_vars([(
        "INFLUXCTL_CRED_TOKEN_A_B".to_string(),
        "M.V1.test-env".to_string(),
    )]))]);
    assert_eq!(v.get("a-b", None).unwrap().entry.token.expose(), "M.V1.test-env");
}

#[test]
fn env_comes_first() {
    let env = EnvStore::from_vars([(
        "INFLUXCTL_CRED_TOKEN_PROD".to_string(),
        "M.V1.test-env".to_string(),
    )]);
    let mem = MemoryStore::new();
    mem.set(&entry("prod", "M.V1.test-mem")).unwrap();
    let (_d, v) = vault(vec![Box::new(mem), Box::new(env)]);
    let f = v.get("prod", None).unwrap();
    assert_eq!((f.store, f.entry.token.expose()), (StoreKind::Env, "M.V1.test-env"));
}

#[test]
fn update_meta_keeps_token_binding_origin_and_refuses_a_replaced_token() {
    let (_d, v) = vault(vec![Box::new(MemoryStore::new())]);
    let mut e = entry("prod", "M.V1.test-one");
    e.cluster.cluster_id = Some("c1".into());
    v.put(e, Some(StoreKind::Memory)).unwrap();
    let other = Token::new("M.V1.test-two".into()).unwrap();
    let refused = v.update_meta(StoreKind::Memory, "prod", Some(&other), |e| {
        e.token_id = Some("id-1".into());
        Ok(())
    });
    assert!(refused.unwrap_err().to_string().contains("replaced meanwhile"));
    let written = v
        .update_meta(StoreKind::Memory, "prod", None, |e| {
            e.token = other.clone();
            e.origin = Origin::Created;
            e.cluster = crate::entry::Cluster::default();
            e.token_id = Some("id-1".into());
            Ok(())
        })
        .unwrap();
    assert_eq!(written.token_id.as_deref(), Some("id-1"));
    let back = v.find("prod").unwrap().entry;
    assert_eq!(back.token.expose(), "M.V1.test-one");
    assert_eq!(back.origin, Origin::Stored);
    assert_eq!(back.cluster.cluster_id.as_deref(), Some("c1"));
    assert_eq!(back.token_id.as_deref(), Some("id-1"));
    // A bad id is refused before anything is written.
    let bad = v.update_meta(StoreKind::Memory, "prod", None, |e| {
        e.token_id = Some("--force".into());
        Ok(())
    });
    assert!(bad.is_err());
    assert_eq!(v.find("prod").unwrap().entry.token_id.as_deref(), Some("id-1"));
}

/// The real stores of `Vault::open` under a temporary home with `settings` as config.toml.
fn opened(settings: Option<&str>) -> (tempfile::TempDir, Vault) {
    let dir = tempfile::tempdir().unwrap();
    let paths = Paths::under(dir.path().join("home"));
    crate::fsutil::private_dir(paths.config_dir()).unwrap();
    if let Some(text) = settings {
        crate::fsutil::write_atomic(&paths.settings(), text.as_bytes()).unwrap();
    }
    let opts = Options { non_interactive: true, influxctl_config: Some(dir.path().join("none")) };
    let v = Vault::open(paths, opts).unwrap();
    (dir, v)
}

#[test]
fn the_vault_store_takes_part_only_when_configured_or_named() {
    let (_d, v) = opened(None);
    assert!(!v.kinds().contains(&StoreKind::Vault));
    assert_eq!(
        v.store(StoreKind::Vault).err().map(|e| e.kind()),
        Some(ErrorKind::StoreUnavailable)
    );
    let v = v.reading_only_from(Some(StoreKind::Vault));
    assert!(v.kinds().contains(&StoreKind::Vault), "--store vault enables it");
    for text in ["[vault]\naddr = \"https://bao.example:8200\"", "store = \"vault\""] {
        let (_d, v) = opened(Some(text));
        assert_eq!(v.kinds().last(), Some(&StoreKind::Vault), "{text}");
    }
}

#[test]
fn the_vault_store_is_read_last_unless_it_is_the_profiles_store() {
    let (_d, v) = opened(Some(
        "[vault]\naddr = \"https://bao.example:8200\"\n[profiles.team]\nstore = \"vault\"",
    ));
    let order = |p: &str| v.read_order(p).iter().map(|s| s.kind()).collect::<Vec<_>>();
    assert_eq!(
        order("prod"),
        [StoreKind::Env, StoreKind::File, StoreKind::Keyring, StoreKind::Vault]
    );
    assert_eq!(
        order("team"),
        [StoreKind::Env, StoreKind::Vault, StoreKind::File, StoreKind::Keyring]
    );
    // Writes never go to it unless named: with no store setting, it is not the target.
    let target = v.write_target("prod", None).map(|s| s.kind()).unwrap_or(StoreKind::File);
    assert_ne!(target, StoreKind::Vault);
    assert_eq!(v.write_target("team", None).unwrap().kind(), StoreKind::Vault);
}

fn row(store: StoreKind, created_at: Timestamp) -> ListRow {
    let mut meta = entry("hand", "M.V1.test-row0123456789abcdef").meta();
    meta.created_at = created_at;
    meta.expires_at = Some("2099-01-01T00:00:00Z".parse().unwrap());
    ListRow { store, meta, expiry: "expires in 73y".into(), active: true }
}

#[test]
fn list_rows_never_show_1970_for_an_unknown_creation_time() {
    // A secret put into the vault store by hand whose creation time the server did not give.
    let hand = row(StoreKind::Vault, Timestamp::UNIX_EPOCH);
    let json = serde_json::to_value(&hand).unwrap();
    assert_eq!(json["created_at"], serde_json::Value::Null, "{json}");
    assert_eq!(json["expires_at"], "2099-01-01T00:00:00Z", "only the unknown time is null");
    assert_eq!(json["expiry"], "expires in 73y");
    assert!(hand.created_unknown() && !hand.times_unknown());

    let known: Timestamp = "2026-01-02T03:04:05Z".parse().unwrap();
    let json = serde_json::to_value(row(StoreKind::Vault, known)).unwrap();
    assert_eq!(json["created_at"], "2026-01-02T03:04:05Z");
}

#[test]
fn list_rows_of_the_env_store_have_no_times_in_the_helpers_json_too() {
    let json = serde_json::to_value(row(StoreKind::Env, Timestamp::now())).unwrap();
    assert_eq!(json["created_at"], serde_json::Value::Null);
    assert_eq!(json["expires_at"], serde_json::Value::Null);
    assert_eq!(json["expiry"], "unknown");
}

#[cfg(unix)]
#[test]
fn a_session_keeps_influxctls_config_only_while_it_is_the_same_trusted_file() {
    use std::os::unix::fs::PermissionsExt;
    let (d, mut v) = vault(vec![Box::new(MemoryStore::new())]);
    let folder = d.path().join("conf");
    std::fs::create_dir(&folder).unwrap();
    std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o700)).unwrap();
    let config = folder.join("config.toml");
    v.opts.influxctl_config = Some(config.clone());
    let write = |cluster: &str| {
        let text = format!(
            "[[profile]]\nname = \"prod\"\nproduct = \"dedicated\"\naccount_id = \"a1\"\ncluster_id = \"{cluster}\"\n"
        );
        std::fs::write(&config, text).unwrap();
    };
    write("c1");
    // A file changed within the last second or so is never kept (its times cannot tell a
    // write in the same tick): let it age.
    std::thread::sleep(std::time::Duration::from_millis(2100));
    v.keep_for_session();
    v.put(entry("prod", "M.V1.test-kept"), Some(StoreKind::Memory)).unwrap();
    assert_eq!(v.get("prod", None).unwrap().entry.cluster.cluster_id.as_deref(), Some("c1"));
    assert!(v.kept_snapshot.borrow().is_some(), "an old file is kept");
    v.get("prod", None).unwrap();

    // The folder above it made group-writable: refused on the next request, kept or not.
    for mode in [0o720, 0o702] {
        std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(mode)).unwrap();
        let err = v.get("prod", None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{err}");
        assert!(err.to_string().contains("group or others may write"), "{err}");
        std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o700)).unwrap();
        v.get("prod", None).unwrap();
    }

    // Edited in place to point elsewhere (same size, same inode): seen on the next request.
    write("c2");
    assert_eq!(v.get("prod", None).unwrap_err().kind(), ErrorKind::ClusterMismatch);
    assert!(v.kept_snapshot.borrow().is_none(), "a fresh edit is not kept");
    // Replaced by another file (a new inode) pointing back: read again.
    let other = folder.join("other.toml");
    std::fs::copy(&config, &other).unwrap();
    write("c1");
    assert!(v.get("prod", None).is_ok());
    std::fs::rename(&other, &config).unwrap();
    assert_eq!(v.get("prod", None).unwrap_err().kind(), ErrorKind::ClusterMismatch);
    // Made group-writable itself: refused.
    write("c1");
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o664)).unwrap();
    assert_eq!(v.get("prod", None).unwrap_err().kind(), ErrorKind::InvalidRequest);
}
