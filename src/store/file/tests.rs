//! Unit tests of the file store's layout: age files, sidecars, list, errors.

use super::*;
use crate::check::Status;
use crate::entry::Origin;
use crate::error::ErrorKind;
use crate::secret::Token;

struct Fixture {
    dir: tempfile::TempDir,
    paths: Paths,
    settings: Settings,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::under(dir.path().join("home"));
        Fixture { dir, paths, settings: Settings::default() }
    }

    fn store(&self) -> FileStore {
        FileStore::new(&self.paths, &self.settings, false)
    }

    fn age(&self, profile: &str) -> PathBuf {
        self.store().age_path(profile)
    }
}

fn entry(profile: &str, token: &str) -> Entry {
    let mut e = Entry::new(profile, Token::new(token.into()).unwrap(), Origin::Stored);
    e.description = Some(format!("desc of {profile}"));
    e
}

#[test]
fn new_does_no_io() {
    let f = Fixture::new();
    let _ = f.store();
    assert!(!f.dir.path().join("home").exists());
}

#[test]
fn set_get_list_erase_round_trip() {
    let f = Fixture::new();
    let s = f.store();
    assert!(s.get("prod").unwrap().is_none());
    assert!(!s.set(&entry("prod", "M.V1.test-one")).unwrap());
    assert!(s.set(&entry("prod", "M.V1.test-two")).unwrap());
    s.set(&entry("a/b c", "M.V1.test-odd")).unwrap();
    assert_eq!(s.get("prod").unwrap().unwrap().token.expose(), "M.V1.test-two");
    assert_eq!(s.get("a/b c").unwrap().unwrap().token.expose(), "M.V1.test-odd");
    let names: Vec<String> = s.list().unwrap().into_iter().map(|m| m.profile).collect();
    assert_eq!(names, ["a/b c", "prod"]);
    assert!(s.erase("prod").unwrap());
    assert!(!s.erase("prod").unwrap());
    assert!(!f.store().meta_path("prod").exists());
    assert!(s.get("prod").unwrap().is_none());
}

#[test]
fn sidecar_holds_metadata_and_hash_but_never_the_token() {
    let f = Fixture::new();
    let s = f.store();
    s.set(&entry("prod", "M.V1.test-sidecar")).unwrap();
    let json = std::fs::read_to_string(s.meta_path("prod")).unwrap();
    assert!(!json.contains("M.V1.test-sidecar"), "{json}");
    let car: Sidecar = serde_json::from_str(&json).unwrap();
    assert_eq!(car.age_sha256, sha256_hex(&std::fs::read(f.age("prod")).unwrap()));
    assert_eq!(car.meta.description.as_deref(), Some("desc of prod"));
}

#[test]
fn list_uses_a_matching_sidecar_without_decrypting() {
    let f = Fixture::new();
    let s = f.store();
    s.set(&entry("prod", "M.V1.test-l")).unwrap();
    // Without any identity, only the sidecar can answer.
    std::fs::remove_file(f.paths.default_identity()).unwrap();
    let json = std::fs::read_to_string(s.meta_path("prod")).unwrap();
    std::fs::write(s.meta_path("prod"), json.replace("desc of prod", "from sidecar")).unwrap();
    assert_eq!(s.list().unwrap()[0].description.as_deref(), Some("from sidecar"));
}

#[test]
fn list_decrypts_when_the_sidecar_is_stale_or_missing() {
    let f = Fixture::new();
    let s = f.store();
    s.set(&entry("prod", "M.V1.test-l")).unwrap();
    let json = std::fs::read_to_string(s.meta_path("prod")).unwrap();
    let car: Sidecar = serde_json::from_str(&json).unwrap();
    let stale = json.replace(&car.age_sha256, &"0".repeat(64)).replace("desc of prod", "stale");
    std::fs::write(s.meta_path("prod"), stale).unwrap();
    assert_eq!(s.list().unwrap()[0].description.as_deref(), Some("desc of prod"));
    std::fs::remove_file(s.meta_path("prod")).unwrap();
    assert_eq!(s.list().unwrap()[0].description.as_deref(), Some("desc of prod"));
    // Reads never modify anything.
    assert!(!s.meta_path("prod").exists());
}

#[test]
fn list_keeps_an_unreadable_entry_and_says_why() {
    let f = Fixture::new();
    let s = f.store();
    s.set(&entry("good", "M.V1.test-g")).unwrap();
    crate::fsutil::write_atomic(&f.age("bad"), b"age-encryption.org/v1\ngarbage").unwrap();
    let rows = s.list().unwrap();
    assert_eq!(rows.len(), 2);
    let bad = rows.iter().find(|m| m.profile == "bad").unwrap();
    assert!(bad.description.as_deref().unwrap().starts_with("(metadata unavailable: "));
}

#[test]
fn get_does_not_need_the_sidecar() {
    let f = Fixture::new();
    let s = f.store();
    s.set(&entry("prod", "M.V1.test-nosidecar")).unwrap();
    std::fs::write(s.meta_path("prod"), "not json").unwrap();
    assert_eq!(s.get("prod").unwrap().unwrap().token.expose(), "M.V1.test-nosidecar");
}

#[test]
fn corrupt_and_truncated_files_are_typed_and_name_the_file() {
    let f = Fixture::new();
    let s = f.store();
    s.set(&entry("prod", "M.V1.test-c")).unwrap();
    let good = std::fs::read(f.age("prod")).unwrap();
    for broken in [&good[..good.len() - 10], &good[..30], b"\x00\x01garbage".as_slice()] {
        crate::fsutil::write_atomic(&f.age("prod"), broken).unwrap();
        let err = s.get("prod").unwrap_err();
        assert!(matches!(err, Error::Corrupt { .. }), "{err:?}");
        assert_eq!(err.exit_code(), 1);
        assert!(err.to_string().contains("prod.age"), "{err}");
    }
}

#[test]
fn entry_of_another_profile_is_corrupt() {
    let f = Fixture::new();
    let s = f.store();
    s.set(&entry("prod", "M.V1.test-swap")).unwrap();
    std::fs::copy(f.age("prod"), f.age("staging")).unwrap();
    assert!(matches!(s.get("staging").unwrap_err(), Error::Corrupt { .. }));
}

#[test]
fn wrong_identity_is_decrypt_error_and_no_identity_is_unavailable() {
    let f = Fixture::new();
    let s = f.store();
    s.set(&entry("prod", "M.V1.test-w")).unwrap();
    let other = age::x25519::Identity::generate();
    let text = age::secrecy::ExposeSecret::expose_secret(&other.to_string()).to_owned();
    crate::fsutil::write_atomic(&f.paths.default_identity(), text.as_bytes()).unwrap();
    let err = s.get("prod").unwrap_err();
    assert!(matches!(err, Error::Decrypt { .. }), "{err:?}");
    assert_eq!(err.exit_code(), 5);
    assert!(err.hint().unwrap().contains("INFLUXCTL_CRED_AGE_IDENTITY"));
    std::fs::remove_file(f.paths.default_identity()).unwrap();
    let err = s.get("prod").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::StoreUnavailable);
    assert!(!f.paths.default_identity().exists(), "reads never generate an identity");
}

#[test]
fn bad_recipient_writes_nothing() {
    let mut f = Fixture::new();
    f.settings.recipients = vec!["age1-not-a-key".into()];
    let err = f.store().set(&entry("prod", "M.V1.test-r")).unwrap_err();
    assert_eq!(err.exit_code(), 2);
    assert!(!f.age("prod").exists());
    assert!(!f.paths.default_identity().exists());
}

#[test]
fn configured_recipient_can_open_written_files() {
    let mut f = Fixture::new();
    let team = age::x25519::Identity::generate();
    f.settings.recipients = vec![team.to_public().to_string()];
    f.store().set(&entry("prod", "M.V1.test-team")).unwrap();
    let bytes = std::fs::read(f.age("prod")).unwrap();
    let plain = identity::open(&bytes, std::iter::once(&team as &dyn age::Identity)).unwrap();
    assert!(Entry::from_secret_json(&plain, "file", "prod").is_ok());
}

#[cfg(unix)]
#[test]
fn too_open_store_file_and_folder_are_refused() {
    use std::os::unix::fs::PermissionsExt;
    let f = Fixture::new();
    let s = f.store();
    s.set(&entry("prod", "M.V1.test-open")).unwrap();
    std::fs::set_permissions(f.age("prod"), std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = s.get("prod").unwrap_err();
    assert_eq!(err.exit_code(), 5);
    assert!(err.hint().unwrap().contains("chmod 600"));
    let dir = f.paths.store_dir();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let err = s.probe().unwrap_err();
    assert!(err.hint().unwrap().contains("chmod 700"), "{err}");
    assert_eq!(s.list().unwrap_err().exit_code(), 5);
    std::fs::set_permissions(f.age("prod"), std::fs::Permissions::from_mode(0o600)).unwrap();
    let err = s.get("prod").unwrap_err();
    assert!(err.hint().unwrap().contains("chmod 700"), "{err}");
}

#[test]
fn probe_accepts_a_creatable_folder_without_creating_it() {
    let f = Fixture::new();
    f.store().probe().unwrap();
    assert!(!f.paths.store_dir().exists());
}

#[test]
fn foreign_files_in_the_folder_are_ignored() {
    let f = Fixture::new();
    let s = f.store();
    s.set(&entry("prod", "M.V1.test-f")).unwrap();
    let dir = f.paths.store_dir();
    for name in [".tmp-abc", "%41.age", "notes.txt", "x.meta.json"] {
        std::fs::write(dir.join(name), "x").unwrap();
    }
    let names: Vec<String> = s.list().unwrap().into_iter().map(|m| m.profile).collect();
    assert_eq!(names, ["prod"]);
}

#[test]
fn doctor_names_the_identity_and_files_it_cannot_open() {
    let f = Fixture::new();
    let s = f.store();
    let first = doctor::checks(&s);
    assert!(first.iter().any(|c| c.name == "file identities" && c.detail.contains("none yet")));
    s.set(&entry("prod", "M.V1.test-doc")).unwrap();
    let ok = doctor::checks(&s);
    assert!(ok.iter().all(|c| c.status == Status::Ok), "{ok:?}");
    let ids = ok.iter().find(|c| c.name == "file identities").unwrap();
    assert!(ids.detail.contains("default identity") && ids.detail.contains("age1"), "{ids:?}");
    crate::fsutil::write_atomic(&f.age("junk"), b"junk").unwrap();
    let bad = doctor::checks(&s);
    let fail = bad.iter().find(|c| c.status == Status::Fail).expect("a failing check");
    assert!(fail.name == "file entries" && fail.detail.contains("junk.age"), "{fail:?}");
    assert!(bad.iter().all(|c| !c.detail.contains("M.V1.test-doc")));
}

/// A session (the helper) keeps identities and entries only while their files are unchanged:
/// another process's write, a replaced identity, and a file made too open are all seen on the
/// next request; without `keep_for_session` nothing is kept.
#[cfg(unix)]
#[test]
fn a_session_sees_every_change_to_what_it_kept() {
    use std::os::unix::fs::PermissionsExt;
    let f = Fixture::new();
    let session = f.store();
    session.keep_for_session();
    let other = f.store();
    other.set(&entry("prod", "M.V1.test-session-one")).unwrap();
    assert_eq!(session.get("prod").unwrap().unwrap().token.expose(), "M.V1.test-session-one");
    assert_eq!(session.kept.borrow().entries.len(), 1);
    assert_eq!(session.get("prod").unwrap().unwrap().token.expose(), "M.V1.test-session-one");
    // Another process replaces the entry.
    other.set(&entry("prod", "M.V1.test-session-two")).unwrap();
    assert_eq!(session.get("prod").unwrap().unwrap().token.expose(), "M.V1.test-session-two");
    // The entry file made readable by others: refused as on a first read.
    let age = f.age("prod");
    std::fs::set_permissions(&age, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert_eq!(session.get("prod").unwrap_err().kind(), ErrorKind::StoreUnavailable);
    std::fs::set_permissions(&age, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert!(session.get("prod").unwrap().is_some());
    // The identity replaced by another one: the kept entry is not handed out.
    let identity = f.paths.default_identity();
    std::fs::remove_file(&identity).unwrap();
    crate::identity::generate_default(&identity).unwrap();
    assert!(matches!(session.get("prod").unwrap_err(), Error::Decrypt { .. }));
    // Erased elsewhere: gone.
    other.erase("prod").unwrap();
    assert!(session.get("prod").unwrap().is_none());
    // A one-shot store keeps nothing.
    other.set(&entry("prod", "M.V1.test-session-three")).unwrap();
    assert!(other.get("prod").unwrap().is_some());
    assert!(other.kept.borrow().entries.is_empty() && other.kept.borrow().identities.is_none());
}

#[test]
fn sidecar_hash_is_lower_case_hex_sha256() {
    // SHA-256 of "abc" (FIPS 180-2, appendix B.1): sidecars written before stay valid.
    assert_eq!(
        sha256_hex(b"abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}
