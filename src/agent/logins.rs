//! The vault login tokens the agent holds (docs/spec.md §13): what an approle or jwt login of the
//! vault store gave, by the login cache's key (a hex SHA-256 of the settings and identity it
//! belongs to), each the cache's JSON in mlocked, zeroized memory. Opaque to the agent: the
//! client checks what it gets back (key, expiry), and `lock` revokes them all on the server
//! before the agent forgets them.

use std::collections::BTreeMap;

use super::Op;
use crate::secret::{LockedBytes, SecretBytes};

/// Most logins held at once (one per `[vault]` setting and identity in use).
pub const MAX_LOGINS: usize = 64;
/// The largest login held (the cache's JSON is a few hundred bytes).
pub const MAX_LOGIN_BYTES: usize = 16 << 10;

/// The logins held, by key.
#[derive(Default)]
pub struct Logins(BTreeMap<String, LockedBytes>);

impl Logins {
    /// How many are held.
    pub fn count(&self) -> usize {
        self.0.len()
    }

    /// Forgets them all.
    pub fn clear(&mut self) {
        self.0.clear();
    }

    /// Answers one request: `login-put` (hold `payload`, a JSON object, under `key`; another
    /// login under the same key is replaced), `login-get` (the payload held, else "none"),
    /// `login-drop`, `logins` (every payload, as a JSON array). The refusals hold no secret.
    pub fn answer(
        &mut self,
        op: Op,
        key: Option<&str>,
        payload: &[u8],
    ) -> Result<SecretBytes, &'static str> {
        if op == Op::Logins {
            let mut all = SecretBytes::new(Vec::with_capacity(2 + self.0.len() * 512));
            all.push(b'[');
            for (i, held) in self.0.values().enumerate() {
                if i > 0 {
                    all.push(b',');
                }
                all.extend_from_slice(held.expose());
            }
            all.push(b']');
            return Ok(all);
        }
        let key = key
            .filter(|k| k.len() == 64 && k.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or("invalid login key")?;
        match op {
            Op::LoginPut => {
                let is_object = serde_json::from_slice::<&serde_json::value::RawValue>(payload)
                    .is_ok_and(|r| r.get().starts_with('{'));
                if payload.len() > MAX_LOGIN_BYTES || !is_object {
                    return Err("invalid login");
                }
                if self.0.len() >= MAX_LOGINS && !self.0.contains_key(key) {
                    return Err("too many logins");
                }
                self.0.insert(key.to_owned(), LockedBytes::copy_of(payload));
                Ok(SecretBytes::new(Vec::new()))
            }
            Op::LoginGet => match self.0.get(key) {
                Some(held) => Ok(SecretBytes::new(held.expose().to_vec())),
                None => Err("none"),
            },
            Op::LoginDrop => {
                self.0.remove(key);
                Ok(SecretBytes::new(Vec::new()))
            }
            _ => Err("not a login request"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    const LOGIN: &[u8] = br#"{"v":1,"key":"k","server":"s","login":{"token":"s.test-login"}}"#;

    #[test]
    fn a_login_is_held_given_back_listed_and_dropped_by_its_key() {
        let mut l = Logins::default();
        assert_eq!(l.answer(Op::LoginGet, Some(KEY), &[]).unwrap_err(), "none");
        l.answer(Op::LoginPut, Some(KEY), LOGIN).unwrap();
        assert_eq!(&*l.answer(Op::LoginGet, Some(KEY), &[]).unwrap(), LOGIN);
        let other = KEY.replace('0', "f");
        assert_eq!(l.answer(Op::LoginGet, Some(&other), &[]).unwrap_err(), "none");
        l.answer(Op::LoginPut, Some(&other), b"{}").unwrap();
        let all = l.answer(Op::Logins, None, &[]).unwrap();
        let list: Vec<serde_json::Value> = serde_json::from_slice(&all).unwrap();
        assert_eq!(list.len(), 2);
        l.answer(Op::LoginDrop, Some(KEY), &[]).unwrap();
        assert_eq!(l.answer(Op::LoginGet, Some(KEY), &[]).unwrap_err(), "none");
        assert_eq!(l.count(), 1);
        l.clear();
        assert_eq!(&*l.answer(Op::Logins, None, &[]).unwrap(), b"[]");
    }

    #[test]
    fn bad_keys_payloads_and_too_many_logins_are_refused_without_echoing_them() {
        let mut l = Logins::default();
        for key in [None, Some("short"), Some(&"g".repeat(64)[..]), Some(&"../".repeat(22)[..])] {
            assert_eq!(l.answer(Op::LoginPut, key, LOGIN).unwrap_err(), "invalid login key");
        }
        for bad in [&b"s.test-login"[..], b"[1]", b"", &vec![b' '; MAX_LOGIN_BYTES + 1]] {
            assert_eq!(l.answer(Op::LoginPut, Some(KEY), bad).unwrap_err(), "invalid login");
        }
        for i in 0..MAX_LOGINS {
            l.answer(Op::LoginPut, Some(&format!("{i:064x}")), b"{}").unwrap();
        }
        assert_eq!(l.answer(Op::LoginPut, Some(KEY), b"{}").unwrap_err(), "too many logins");
        // Replacing a held one is still allowed.
        l.answer(Op::LoginPut, Some(&format!("{:064x}", 0)), LOGIN).unwrap();
        assert_eq!(l.answer(Op::Decrypt, Some(KEY), &[]).unwrap_err(), "not a login request");
    }
}
