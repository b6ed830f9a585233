//! Entries written straight into the file store, as an older version or a tampered file would
//! leave them: the entry's JSON is decrypted, changed, and encrypted again to the store's own
//! identity (`identity.txt`), so that only the shape under test differs from what `store` wrote.

#![allow(dead_code)]

use std::io::Read;
use std::path::PathBuf;

use serde_json::Value;

use crate::util::TestEnv;

fn identity(env: &TestEnv) -> age::x25519::Identity {
    let text = std::fs::read_to_string(env.cred_home().join("identity.txt")).expect("identity");
    let line = text.lines().find(|l| l.starts_with("AGE-SECRET-KEY-")).expect("a secret key");
    line.parse().expect("an X25519 identity")
}

fn age_file(env: &TestEnv, profile: &str) -> PathBuf {
    env.store_dir().join(format!("{profile}.age"))
}

/// The JSON the file store keeps inside the encryption of `profile`'s entry.
pub fn read(env: &TestEnv, profile: &str) -> Value {
    let bytes = std::fs::read(age_file(env, profile)).expect("age file");
    let id = identity(env);
    let reader = age::armor::ArmoredReader::new(&bytes[..]);
    let dec = age::Decryptor::new_buffered(reader).expect("an age file");
    let mut out = String::new();
    dec.decrypt(std::iter::once(&id as &dyn age::Identity))
        .expect("decrypts with the store's identity")
        .read_to_string(&mut out)
        .expect("UTF-8");
    serde_json::from_str(&out).expect("the entry is JSON")
}

/// Replaces `profile`'s entry with `entry` (encrypted to the store's identity, 0600), and
/// removes its sidecar, which no longer describes it.
pub fn write(env: &TestEnv, profile: &str, entry: &Value) {
    let recipient = identity(env).to_public();
    let cipher = age::encrypt(&recipient, entry.to_string().as_bytes()).expect("encrypt");
    let path = age_file(env, profile);
    let tmp = path.with_extension("planting");
    std::fs::write(&tmp, cipher).expect("write");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    }
    std::fs::rename(&tmp, &path).expect("rename");
    let _ = std::fs::remove_file(env.store_dir().join(format!("{profile}.meta.json")));
}

/// [`read`], `change`, [`write`].
pub fn edit(env: &TestEnv, profile: &str, change: impl FnOnce(&mut Value)) {
    let mut entry = read(env, profile);
    change(&mut entry);
    write(env, profile, &entry);
}
