//! What one stored credential holds (SPEC §4): the token, its metadata, and the cluster it is
//! bound to. [`Entry`] is the JSON inside the encryption; [`EntryMeta`] is the same without the
//! token, safe to keep in a plaintext index and to print.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::secret::{SecretBytes, Token};

/// How an entry came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    Stored,
    Imported,
    Created,
    Rotated,
    #[serde(other)]
    Unknown,
}

/// Where a token belongs, taken from the influxctl profile when the entry was written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cluster {
    pub product: Option<String>,
    pub account_id: Option<String>,
    pub cluster_id: Option<String>,
    pub host: Option<String>,
    pub port: Option<String>,
}

impl Cluster {
    /// The fields as (name, stored value) pairs, in a fixed order.
    pub fn fields(&self) -> [(&'static str, Option<&str>); 5] {
        [
            ("product", self.product.as_deref()),
            ("account_id", self.account_id.as_deref()),
            ("cluster_id", self.cluster_id.as_deref()),
            ("host", self.host.as_deref()),
            ("port", self.port.as_deref()),
        ]
    }

    /// True when no field is set (nothing to bind to).
    pub fn is_empty(&self) -> bool {
        self.fields().iter().all(|(_, v)| v.is_none())
    }

    /// The binding rule of SPEC §4: every field set on both sides must be equal. Returns the
    /// first field that differs.
    pub fn check(&self, profile: &str, configured: &Cluster) -> Result<()> {
        for ((field, stored), (_, now)) in self.fields().into_iter().zip(configured.fields()) {
            if let (Some(stored), Some(now)) = (stored, now)
                && stored != now
            {
                return Err(Error::ClusterMismatch {
                    profile: profile.to_owned(),
                    field,
                    stored: stored.to_owned(),
                    configured: now.to_owned(),
                });
            }
        }
        Ok(())
    }
}

/// The longest description we store, in characters: enough for a sentence, short enough for a
/// `list` column. Longer ones are refused at `store` (and every other write).
pub const MAX_DESCRIPTION: usize = 1024;

/// Refuses a description that is too long or holds control characters (a newline would break
/// `list`'s table; an escape sequence would reach the terminal of whoever lists the store).
pub fn check_description(d: &str) -> Result<()> {
    if d.chars().count() > MAX_DESCRIPTION {
        return Err(Error::InvalidRequest(format!(
            "a description must be at most {MAX_DESCRIPTION} characters"
        )));
    }
    if d.chars().any(char::is_control) {
        return Err(Error::InvalidRequest(
            "a description must be one line of text without control characters".into(),
        ));
    }
    Ok(())
}

/// Metadata of an entry: everything but the token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryMeta {
    pub profile: String,
    pub token_id: Option<String>,
    pub description: Option<String>,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub origin: Origin,
    #[serde(default)]
    pub cluster: Cluster,
}

impl EntryMeta {
    /// Time left before expiry (negative once expired); `None` when the token never expires.
    pub fn ttl(&self, now: Timestamp) -> Option<SignedDuration> {
        self.expires_at.map(|e| e.duration_since(now))
    }

    /// "expired", "expires in 3d", "never expires".
    pub fn expiry_state(&self, now: Timestamp) -> String {
        match self.ttl(now) {
            None => "never expires".to_owned(),
            Some(left) if left <= SignedDuration::ZERO => "expired".to_owned(),
            Some(left) => format!("expires in {}", crate::duration::humanize(left)),
        }
    }
}

/// One stored credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub profile: String,
    pub token: Token,
    pub token_id: Option<String>,
    pub description: Option<String>,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub origin: Origin,
    #[serde(default)]
    pub cluster: Cluster,
}

impl Entry {
    /// A fresh entry created now.
    pub fn new(profile: &str, token: Token, origin: Origin) -> Entry {
        Entry {
            profile: profile.to_owned(),
            token,
            token_id: None,
            description: None,
            created_at: Timestamp::now(),
            expires_at: None,
            origin,
            cluster: Cluster::default(),
        }
    }

    /// The metadata without the token.
    pub fn meta(&self) -> EntryMeta {
        EntryMeta {
            profile: self.profile.clone(),
            token_id: self.token_id.clone(),
            description: self.description.clone(),
            created_at: self.created_at,
            expires_at: self.expires_at,
            origin: self.origin,
            cluster: self.cluster.clone(),
        }
    }

    /// The JSON that goes inside the encryption. Zeroized on drop.
    pub fn to_secret_json(&self) -> SecretBytes {
        // Serializing plain structs of strings and timestamps into a Vec cannot fail.
        SecretBytes::new(serde_json::to_vec(self).expect("entry serializes"))
    }

    /// Parses the JSON from inside the encryption. The error names the store and profile, never
    /// the content (serde's message may quote input, so only its position is kept).
    pub fn from_secret_json(bytes: &[u8], store: &'static str, profile: &str) -> Result<Entry> {
        let corrupt = |reason: &str| Error::Corrupt {
            store,
            profile: profile.to_owned(),
            reason: reason.to_owned(),
        };
        let parsed = crate::error::shield_or(
            || Ok(serde_json::from_slice::<Entry>(bytes)),
            || corrupt("the entry's JSON could not be parsed"),
        )?;
        let entry: Entry = parsed.map_err(|e| Error::Corrupt {
            store,
            profile: profile.to_owned(),
            reason: format!(
                "not a valid entry (JSON error at line {} column {})",
                e.line(),
                e.column()
            ),
        })?;
        if entry.profile != profile {
            return Err(Error::Corrupt {
                store,
                profile: profile.to_owned(),
                reason: format!("it holds the entry of profile {:?}", entry.profile),
            });
        }
        Ok(entry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Entry {
        let mut e =
            Entry::new("prod", Token::new("M.V1.test-entry".into()).unwrap(), Origin::Stored);
        e.created_at = "2026-01-02T03:04:05Z".parse().unwrap();
        e.cluster.product = Some("dedicated".into());
        e.cluster.account_id = Some("acc".into());
        e
    }

    #[test]
    fn json_is_pinned() {
        let json = String::from_utf8(sample().to_secret_json().to_vec()).unwrap();
        assert_eq!(
            json,
            r#"{"profile":"prod","token":"M.V1.test-entry","token_id":null,"description":null,"created_at":"2026-01-02T03:04:05Z","expires_at":null,"origin":"stored","cluster":{"product":"dedicated","account_id":"acc","cluster_id":null,"host":null,"port":null}}"#
        );
        let back = Entry::from_secret_json(json.as_bytes(), "file", "prod").unwrap();
        assert_eq!(back, sample());
    }

    #[test]
    fn corrupt_json_error_hides_content() {
        let err =
            Entry::from_secret_json(b"{\"token\":\"M.V1.test-leak", "file", "prod").unwrap_err();
        assert!(!err.to_string().contains("leak"));
        assert_eq!(err.kind(), crate::error::ErrorKind::Other);
    }

    #[test]
    fn entry_of_another_profile_is_corrupt() {
        let json = sample().to_secret_json();
        assert!(Entry::from_secret_json(&json, "file", "staging").is_err());
    }

    #[test]
    fn binding_compares_fields_set_on_both_sides() {
        let stored = sample().cluster;
        let mut configured = Cluster { product: Some("dedicated".into()), ..Cluster::default() };
        assert!(stored.check("prod", &configured).is_ok());
        configured.account_id = Some("other".into());
        let err = stored.check("prod", &configured).unwrap_err();
        assert_eq!(err.kind(), crate::error::ErrorKind::ClusterMismatch);
        configured.account_id = None;
        configured.host = Some("h".into());
        assert!(stored.check("prod", &configured).is_ok());
    }

    #[test]
    fn check_description_refuses_long_and_control_characters() {
        assert!(check_description(&"ü".repeat(MAX_DESCRIPTION)).is_ok());
        for bad in ["x".repeat(MAX_DESCRIPTION + 1), "two\nlines".into(), "esc\u{1b}[2J".into()] {
            let err = check_description(&bad).unwrap_err();
            assert_eq!(err.kind(), crate::error::ErrorKind::InvalidRequest, "{bad:?}");
        }
    }

    #[test]
    fn expiry_state_reads_well() {
        let mut m = sample().meta();
        let now: Timestamp = "2026-01-10T00:00:00Z".parse().unwrap();
        assert_eq!(m.expiry_state(now), "never expires");
        m.expires_at = Some("2026-01-13T01:00:00Z".parse().unwrap());
        assert_eq!(m.expiry_state(now), "expires in 3d");
        m.expires_at = Some("2026-01-09T00:00:00Z".parse().unwrap());
        assert_eq!(m.expiry_state(now), "expired");
    }
}
