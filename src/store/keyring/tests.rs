//! Unit tests of the keyring store over keyring-core's mock store: the round trip, the index,
//! error mapping and the timeout. The real Secret Service is exercised by tests/it/keyring.rs.

use std::sync::Arc;
use std::time::{Duration, Instant};

use keyring_core::{CredentialStore, mock};

use super::backend::{Backend, unavailable};
use super::*;
use crate::entry::Origin;
use crate::error::ErrorKind;
use crate::secret::Token;

const TOKEN: &str = "M.V1.test-keyring-unit";

fn mock_open() -> keyring_core::Result<Arc<CredentialStore>> {
    Ok(mock::Store::new()?)
}

fn unlocked() -> Result<()> {
    Ok(())
}

fn locked() -> Result<()> {
    Err(unavailable("the default keyring collection is locked", backend::HINT))
}

fn store_with(open: backend::Open, check: backend::Check) -> (tempfile::TempDir, KeyringStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = KeyringStore::with_backend(
        Backend::new(open, check),
        dir.path().join("store").join("keyring"),
        Duration::from_secs(5),
    );
    (dir, store)
}

fn mock_store() -> (tempfile::TempDir, KeyringStore) {
    store_with(mock_open, unlocked)
}

fn entry(profile: &str) -> Entry {
    let mut e = Entry::new(profile, Token::new(TOKEN.into()).unwrap(), Origin::Stored);
    e.description = Some("unit".into());
    e
}

/// Plants raw bytes as the keyring secret of `profile`, as another tool could.
fn plant(store: &KeyringStore, profile: &str, bytes: &[u8]) {
    store.backend.entry(profile).unwrap().set_secret(bytes).unwrap();
}

/// Makes the next call on the mock item of `profile` fail with `err`.
fn fail_next(store: &KeyringStore, profile: &str, err: keyring_core::Error) {
    let item = store.backend.entry(profile).unwrap();
    let cred: &mock::Cred = item.as_any().downcast_ref().unwrap();
    cred.set_error(err);
}

#[test]
fn set_then_get_round_trips_and_indexes_without_the_token() {
    let (dir, store) = mock_store();
    assert!(!store.set(&entry("prod")).unwrap(), "nothing was replaced");
    let got = store.get("prod").unwrap().unwrap();
    assert_eq!(got, entry_with_time(&got));
    assert_eq!(got.token.expose(), TOKEN);
    let listed = store.list().unwrap();
    assert_eq!(listed, vec![got.meta()]);
    assert!(store.index_path("prod").is_file());
    let leaks = files_containing(dir.path(), TOKEN.as_bytes());
    assert!(leaks.is_empty(), "token on disk: {leaks:?}");
    assert!(store.set(&entry("prod")).unwrap(), "second write replaces");
}

/// Every file under `root` whose bytes contain `needle`.
fn files_containing(root: &std::path::Path, needle: &[u8]) -> Vec<std::path::PathBuf> {
    let mut hits = Vec::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        for item in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = item.path();
            if path.is_dir() {
                stack.push(path);
            } else if std::fs::read(&path).unwrap().windows(needle.len()).any(|w| w == needle) {
                hits.push(path);
            }
        }
    }
    hits
}

fn entry_with_time(got: &Entry) -> Entry {
    let mut e = entry("prod");
    e.created_at = got.created_at;
    e
}

#[test]
fn get_absent_profile_is_none() {
    let (_d, store) = mock_store();
    assert!(store.get("nobody").unwrap().is_none());
}

#[test]
fn erase_twice_answers_existed_then_not_and_drops_the_index() {
    let (_d, store) = mock_store();
    store.set(&entry("prod")).unwrap();
    assert!(store.erase("prod").unwrap());
    assert!(!store.index_path("prod").exists());
    assert!(!store.erase("prod").unwrap());
    assert!(store.get("prod").unwrap().is_none());
    assert!(store.list().unwrap().is_empty());
}

#[test]
fn get_corrupt_secret_is_typed_error_without_content() {
    let (_d, store) = mock_store();
    plant(&store, "prod", b"{\"token\":\"M.V1.test-leak");
    let err = store.get("prod").unwrap_err();
    assert!(matches!(err, Error::Corrupt { store: "keyring", .. }), "{err:?}");
    assert!(!err.to_string().contains("leak"), "{err}");
    assert!(!format!("{err:?}").contains("leak"));
}

#[test]
fn get_item_planted_by_another_tool_adds_it_to_the_index() {
    let (_d, store) = mock_store();
    plant(&store, "prod", &entry("prod").to_secret_json());
    assert!(store.list().unwrap().is_empty());
    store.get("prod").unwrap().unwrap();
    assert_eq!(store.list().unwrap().len(), 1);
}

#[test]
fn locked_keyring_answers_unavailable_with_hint_and_probe_fails() {
    let (_d, store) = store_with(mock_open, locked);
    for err in [
        store.probe().unwrap_err(),
        store.get("prod").unwrap_err(),
        store.set(&entry("prod")).unwrap_err(),
        store.erase("prod").unwrap_err(),
    ] {
        assert_eq!(err.kind(), ErrorKind::StoreUnavailable, "{err}");
        assert!(err.hint().unwrap().contains("--store file"));
    }
    assert!(store.list().unwrap().is_empty(), "list needs no keyring call");
}

#[test]
fn allowed_prompts_skip_the_lock_check() {
    let (_d, store) = store_with(mock_open, locked);
    let store = store.allow_prompts(true);
    store.set(&entry("prod")).unwrap();
    assert!(store.get("prod").unwrap().is_some());
    assert!(store.probe().is_err(), "the probe never prompts");
}

#[test]
fn platform_errors_become_store_unavailable() {
    let (_d, store) = mock_store();
    store.set(&entry("prod")).unwrap();
    let boom = || Box::new(std::io::Error::other("no bus")) as keyring_core::error::PlatformError;
    fail_next(&store, "prod", keyring_core::Error::NoStorageAccess(boom()));
    assert_eq!(store.get("prod").unwrap_err().kind(), ErrorKind::StoreUnavailable);
    fail_next(&store, "prod", keyring_core::Error::PlatformFailure(boom()));
    assert_eq!(store.erase("prod").unwrap_err().kind(), ErrorKind::StoreUnavailable);
    // A failed erase keeps the entry and its index.
    assert!(store.get("prod").unwrap().is_some());
    assert!(store.index_path("prod").is_file());
}

#[test]
fn bad_data_and_ambiguous_items_are_corrupt() {
    let (_d, store) = mock_store();
    fail_next(&store, "prod", keyring_core::Error::BadEncoding(b"M.V1.test-leak".to_vec()));
    let err = store.get("prod").unwrap_err();
    assert!(matches!(err, Error::Corrupt { .. }) && !err.to_string().contains("leak"), "{err}");
    fail_next(&store, "prod", keyring_core::Error::Ambiguous(Vec::new()));
    let err = store.get("prod").unwrap_err();
    assert!(matches!(err, Error::Corrupt { .. }) && err.to_string().contains("match"), "{err}");
}

fn hanging_open() -> keyring_core::Result<Arc<CredentialStore>> {
    std::thread::sleep(Duration::from_secs(30));
    mock_open()
}

#[test]
fn hanging_keyring_times_out_then_answers_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = KeyringStore::with_backend(
        Backend::new(hanging_open, unlocked),
        dir.path().join("keyring"),
        Duration::from_millis(200),
    );
    let start = Instant::now();
    let err = store.get("prod").unwrap_err();
    assert!(start.elapsed() < Duration::from_secs(2), "{:?}", start.elapsed());
    assert_eq!(err.kind(), ErrorKind::StoreUnavailable);
    assert!(err.to_string().contains("did not answer within 200ms"), "{err}");
    let start = Instant::now();
    assert_eq!(store.probe().unwrap_err().kind(), ErrorKind::StoreUnavailable);
    assert!(start.elapsed() < Duration::from_millis(100), "stuck store answers at once");
}

static SLOWED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Slow the first time only, as a keyring that was busy for a moment.
fn slow_once_check() -> Result<()> {
    if !SLOWED.swap(true, std::sync::atomic::Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(400));
    }
    Ok(())
}

#[test]
fn keyring_that_answers_late_is_used_again_once_its_worker_finished() {
    let dir = tempfile::tempdir().unwrap();
    let store = KeyringStore::with_backend(
        Backend::new(mock_open, slow_once_check),
        dir.path().join("keyring"),
        Duration::from_millis(100),
    );
    assert_eq!(store.set(&entry("prod")).unwrap_err().kind(), ErrorKind::StoreUnavailable);
    assert!(store.get("prod").is_err(), "the late worker still runs");
    std::thread::sleep(Duration::from_millis(600));
    assert!(store.get("prod").unwrap().is_some(), "the late write landed; the store recovered");
}

#[test]
fn probe_of_usable_keyring_creates_nothing() {
    let (_d, store) = mock_store();
    store.probe().unwrap();
    assert!(store.list().unwrap().is_empty());
    let probe_item = store.backend.entry(PROBE_USER).unwrap();
    assert!(matches!(probe_item.get_secret(), Err(keyring_core::Error::NoEntry)));
}

#[test]
fn list_skips_foreign_and_broken_index_files() {
    let (_d, store) = mock_store();
    store.set(&entry("prod")).unwrap();
    let dir = store.index_path("prod").parent().unwrap().to_owned();
    std::fs::write(dir.join("staging.meta.json"), b"{\"profile\":").unwrap();
    std::fs::write(dir.join("other.meta.json"), std::fs::read(store.index_path("prod")).unwrap())
        .unwrap();
    std::fs::write(dir.join("notes.txt"), b"hello").unwrap();
    let profiles: Vec<String> = store.list().unwrap().into_iter().map(|m| m.profile).collect();
    assert_eq!(profiles, vec!["prod".to_owned()]);
}

#[test]
fn show_prints_whole_seconds_or_millis() {
    assert_eq!(show(Duration::from_secs(5)), "5s");
    assert_eq!(show(Duration::from_millis(1500)), "1500ms");
}
