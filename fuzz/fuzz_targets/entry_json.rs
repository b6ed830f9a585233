//! What the stores keep: the entry JSON inside an age file (parse, then write and parse again
//! to the same entry), the plaintext sidecar beside it, the age file itself opened with a
//! fixed identity (header parsing; a fuzzer cannot forge a valid file), and a vault secret's
//! data written by hand (`bao kv put`), read field by field: a typed error that never repeats
//! a token value, or an entry of the profile asked for.
#![no_main]

use std::sync::OnceLock;

use influxctl_cred::entry::Entry;
use influxctl_cred::store::file::decode_sidecar;
use libfuzzer_sys::fuzz_target;

/// A key made for this run; no key material lives in the repository.
fn identity() -> &'static age::x25519::Identity {
    static ID: OnceLock<age::x25519::Identity> = OnceLock::new();
    ID.get_or_init(age::x25519::Identity::generate)
}

fuzz_target!(|data: &[u8]| {
    // The entry JSON, as the file and keyring stores read it.
    let profile = serde_json::from_slice::<serde_json::Value>(data)
        .ok()
        .and_then(|v| v.get("profile").and_then(|p| p.as_str()).map(str::to_owned))
        .unwrap_or_else(|| "prod".to_owned());
    if let Ok(entry) = Entry::from_secret_json(data, "file", &profile) {
        assert_eq!(entry.profile, profile);
        let again = Entry::from_secret_json(&entry.to_secret_json(), "file", &profile)
            .expect("a written entry parses");
        assert_eq!(again, entry, "entry JSON round-trips");
        let meta = entry.meta();
        let json = serde_json::to_vec(&meta).expect("metadata serializes");
        assert_eq!(
            serde_json::from_slice::<influxctl_cred::entry::EntryMeta>(&json).ok(),
            Some(meta)
        );
    }
    // A hand-made vault secret.
    match influxctl_cred::store::vault::kv::entry_from_data(data, &profile, None, "secret/p/x") {
        Ok(entry) => assert_eq!(entry.profile, profile),
        Err(e) => {
            let said = e.to_string();
            let token = serde_json::from_slice::<serde_json::Value>(data)
                .ok()
                .and_then(|v| {
                    v.get("token").and_then(|t| t.as_str()).map(str::trim).map(str::to_owned)
                })
                .filter(|t| t.len() >= 8 && !profile.contains(t.as_str()));
            if let Some(token) = token {
                assert!(!said.contains(&token), "a hand-made entry's error repeats its token");
            }
        }
    }
    // The sidecar.
    if let Some((_, meta)) = decode_sidecar(data) {
        let _ = meta.expiry_state(jiff::Timestamp::UNIX_EPOCH);
    }
    // The age file.
    let ids = [identity() as &dyn age::Identity];
    let _ = influxctl_cred::identity::open(data, ids.into_iter());
});
