//! Secret-holding types. A token is never a `String`: [`Token`] has a redacted `Debug`, no
//! `Display`, an explicit [`Token::expose`], and zeroizes its bytes when dropped.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use zeroize::{Zeroize, Zeroizing};

use crate::error::Error;

/// Largest token we accept. Management tokens are far shorter; this only bounds bad input.
pub const MAX_TOKEN_LEN: usize = 4096;

/// What every management token starts with.
pub const MANAGEMENT_PREFIX: &str = "M.V1.";

mod locked;
mod memlock;
pub use locked::LockedBytes;

/// A management (or database) token. Its buffer is `mlock`ed while it lives (best effort).
#[derive(PartialEq, Eq)]
pub struct Token(Zeroizing<String>);

impl Token {
    /// Wraps a checked value, locking its buffer into memory.
    fn locked(value: Zeroizing<String>) -> Token {
        memlock::lock(value.as_ptr(), value.capacity());
        Token(value)
    }
}

impl Clone for Token {
    fn clone(&self) -> Token {
        Token::locked(self.0.clone())
    }
}

impl Drop for Token {
    fn drop(&mut self) {
        // Zeroized first (Zeroizing does it again, harmlessly), then unlocked.
        self.0.zeroize();
        memlock::unlock(self.0.as_ptr(), self.0.capacity());
    }
}

impl Token {
    /// Wraps a token after checking it: not empty, no whitespace, no control characters, not
    /// absurdly long. The error never contains the token.
    pub fn new(value: String) -> Result<Self, Error> {
        let value = Zeroizing::new(value);
        validate(&value)?;
        Ok(Token::locked(value))
    }

    /// Like [`Token::new`] for input read from a user: surrounding whitespace (a trailing
    /// newline, say) is trimmed first. A bare `M.V1.` (the prefix with nothing after it) is
    /// refused: it is a truncated paste, not a token.
    pub fn from_input(raw: &str) -> Result<Self, Error> {
        let trimmed = raw.trim();
        if trimmed.strip_prefix(MANAGEMENT_PREFIX).is_some_and(str::is_empty) {
            return Err(Error::InvalidToken { reason: "the token is only the `M.V1.` prefix" });
        }
        Token::new(trimmed.to_owned())
    }

    /// A management token parsed from influxctl's output (docs/spec.md §8): `M.V1.` followed by at
    /// least 16 characters of `[A-Za-z0-9+/=_.-]`, and nothing else.
    pub fn management(value: String) -> Result<Self, Error> {
        let value = Zeroizing::new(value);
        let body = value.strip_prefix(MANAGEMENT_PREFIX).unwrap_or("");
        let ok = value.starts_with(MANAGEMENT_PREFIX)
            && body.len() >= 16
            && body.chars().all(|c| c.is_ascii_alphanumeric() || "+/=_.-".contains(c));
        if !ok {
            return Err(Error::InvalidToken {
                reason: "not `M.V1.` followed by at least 16 characters of the token alphabet",
            });
        }
        validate(&value)?;
        Ok(Token(value))
    }

    /// The secret itself. Every call site is a place where the token leaves our hands.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the token begins with `prefix` (influxctl's `token_prefix` of a listed token).
    pub fn starts_with(&self, prefix: &str) -> bool {
        self.0.starts_with(prefix)
    }

    /// The first characters that are safe to show (`M.V1.abc…`), as influxctl's `token_prefix`.
    pub fn prefix(&self) -> String {
        let keep = if self.0.starts_with("M.V1.") { 9 } else { 4 };
        let shown: String = self.0.chars().take(keep).collect();
        format!("{shown}…")
    }
}

fn validate(value: &str) -> Result<(), Error> {
    if value.is_empty() {
        return Err(Error::InvalidToken { reason: "the token is empty" });
    }
    if value.len() > MAX_TOKEN_LEN {
        return Err(Error::InvalidToken { reason: "the token is longer than 4096 bytes" });
    }
    if value.chars().any(char::is_whitespace) {
        return Err(Error::InvalidToken { reason: "the token contains whitespace" });
    }
    if value.chars().any(char::is_control) {
        return Err(Error::InvalidToken { reason: "the token contains control characters" });
    }
    Ok(())
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

impl Serialize for Token {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.expose())
    }
}

impl<'de> Deserialize<'de> for Token {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut raw = String::deserialize(d)?;
        let checked = Token::new(std::mem::take(&mut raw))
            .map_err(|e| serde::de::Error::custom(e.to_string()));
        raw.zeroize();
        checked
    }
}

/// Bytes that hold a secret (a serialized entry, a decrypted file). Zeroized on drop.
pub type SecretBytes = Zeroizing<Vec<u8>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let t = Token::new("M.V1.test-secret".into()).unwrap();
        assert_eq!(format!("{t:?}"), "Token(<redacted>)");
        assert!(!format!("{:?}", Some(&t)).contains("test-secret"));
    }

    #[test]
    fn new_rejects_empty_whitespace_control() {
        for bad in ["", "M.V1 x", "M.V1.\tx", "M.V1.\u{7}x", "M.V1.x\n"] {
            let err = Token::new(bad.into()).unwrap_err();
            assert_eq!(err.kind(), crate::error::ErrorKind::InvalidRequest, "{bad:?}");
        }
        assert!(Token::new("x".repeat(MAX_TOKEN_LEN + 1)).is_err());
    }

    #[test]
    fn from_input_trims_newline() {
        let t = Token::from_input("  M.V1.test-abc\n").unwrap();
        assert_eq!(t.expose(), "M.V1.test-abc");
    }

    #[test]
    fn prefix_shows_only_the_start() {
        let t = Token::new("M.V1.test-abcdefgh".into()).unwrap();
        assert_eq!(t.prefix(), "M.V1.test…");
    }

    #[test]
    fn deserialize_error_does_not_echo_token() {
        let err = serde_json::from_str::<Token>("\"M.V1.sec ret\"").unwrap_err();
        assert!(!err.to_string().contains("sec ret"));
    }
}
