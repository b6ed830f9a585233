//! The public keys the agent can answer (`recipients`, docs/agent.md): for each
//! passphrase-protected identity file that `unlock` handed it, by the SHA-256 of that encrypted
//! file, the `age1…` recipients of the keys inside. Public keys only: a write needs them to
//! encrypt an entry to the locked identity without its passphrase; no request reads a key.

use std::collections::BTreeMap;

use crate::secret::SecretBytes;

/// Most identity files whose public keys are held.
pub const MAX_FILES: usize = 64;

/// The recipients held, by the hex SHA-256 of the encrypted identity file.
#[derive(Default)]
pub struct Publics(BTreeMap<String, Vec<String>>);

/// A file's key: 64 hex digits (the client's SHA-256 of the identity file's bytes).
fn valid(key: Option<&str>) -> Option<&str> {
    key.filter(|k| k.len() == 64 && k.bytes().all(|b| b.is_ascii_hexdigit()))
}

impl Publics {
    /// Holds `recipients` (already derived from the keys by the agent) for `file`. The first
    /// `add` for a file wins until `lock` or the TTL: the agent cannot tell which keys really
    /// came out of that file, so another same-user `add` naming it with other keys is refused
    /// (it would make writes encrypt to a key the user never chose, and drop the user's own).
    /// The user's own `unlock` then fails loudly instead of a write silently going astray.
    pub fn put(&mut self, file: &str, recipients: Vec<String>) -> Result<(), String> {
        let file = valid(Some(file)).ok_or("invalid identity file key")?.to_ascii_lowercase();
        match self.0.get(&file) {
            Some(held) if *held == recipients => return Ok(()),
            Some(_) => {
                return Err("this identity file was already unlocked with other keys; run `influxctl-cred lock`, then `unlock` again".into());
            }
            None if self.0.len() >= MAX_FILES => return Err("too many identity files".into()),
            None => {}
        }
        self.0.insert(file, recipients);
        Ok(())
    }

    /// The recipients of `file` as a JSON array of strings; "none" when it was not unlocked.
    pub fn get(&self, file: Option<&str>) -> Result<SecretBytes, &'static str> {
        let file = valid(file).ok_or("invalid identity file key")?;
        let list = self.0.get(&file.to_ascii_lowercase()).ok_or("none")?;
        let json = serde_json::to_vec(list).map_err(|_| "cannot list")?;
        Ok(SecretBytes::new(json))
    }

    /// Forgets them all.
    pub fn clear(&mut self) {
        self.0.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn recipients_are_answered_by_file_and_bounded() {
        let mut p = Publics::default();
        assert_eq!(p.get(Some(FILE)).unwrap_err(), "none");
        p.put(FILE, vec!["age1test".into()]).unwrap();
        assert_eq!(&*p.get(Some(&FILE.to_ascii_uppercase())).unwrap(), br#"["age1test"]"#);
        for bad in [None, Some("short"), Some(&"g".repeat(64)[..])] {
            assert_eq!(p.get(bad).unwrap_err(), "invalid identity file key");
        }
        assert!(p.put("../x", Vec::new()).is_err());
        for i in 1..MAX_FILES {
            p.put(&format!("{i:064x}"), Vec::new()).unwrap();
        }
        assert_eq!(p.put(&"f".repeat(64), Vec::new()).unwrap_err(), "too many identity files");
        // The same keys again: fine; other keys for a file already held: refused, kept.
        p.put(FILE, vec!["age1test".into()]).unwrap();
        assert!(p.put(FILE, vec!["age1other".into()]).unwrap_err().contains("already unlocked"));
        assert_eq!(&*p.get(Some(FILE)).unwrap(), br#"["age1test"]"#);
        p.clear();
        assert_eq!(p.get(Some(FILE)).unwrap_err(), "none");
    }
}
