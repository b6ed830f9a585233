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

/// Where a token belongs, taken from the influxctl profile when the entry was written
/// (SPEC §4): the endpoint fields and the profile's TLS trust.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cluster {
    pub product: Option<String>,
    pub account_id: Option<String>,
    pub cluster_id: Option<String>,
    pub host: Option<String>,
    pub port: Option<String>,
    /// The profile's `[profile.tls]` trust. `None` in an entry with no binding at all, and in
    /// entries written before the trust was recorded (the *legacy* shape: read as "the profile
    /// set none of it", and rewritten with the full binding on use).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<Trust>,
}

/// The TLS trust of one influxctl profile. A flag that is absent and one set to `false` are the
/// same trust (influxctl's default); an empty `ca` is no `ca`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trust {
    #[serde(default)]
    pub disable: bool,
    #[serde(default)]
    pub insecure: bool,
    #[serde(default)]
    pub ca: Option<String>,
}

impl Trust {
    /// The fields as (name, value) pairs for comparison and messages.
    fn fields(&self) -> [(&'static str, Option<String>); 3] {
        [
            ("tls.disable", self.disable.then(|| "true".to_owned())),
            ("tls.insecure", self.insecure.then(|| "true".to_owned())),
            ("tls.ca", self.ca.clone()),
        ]
    }
}

/// How a stored binding relates to the profile it is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binding {
    /// The entry has no binding: it is bound on first use.
    Unbound,
    /// The entry's binding matches exactly.
    Matches,
    /// The entry has the legacy shape (no TLS trust recorded) and matches a profile without
    /// any TLS trust set: its binding should be rewritten in the full shape.
    MatchesLegacy,
}

impl Cluster {
    /// The endpoint fields as (name, stored value) pairs, in a fixed order (no TLS trust).
    pub fn fields(&self) -> [(&'static str, Option<&str>); 5] {
        [
            ("product", self.product.as_deref()),
            ("account_id", self.account_id.as_deref()),
            ("cluster_id", self.cluster_id.as_deref()),
            ("host", self.host.as_deref()),
            ("port", self.port.as_deref()),
        ]
    }

    /// True when nothing is recorded (no binding at all).
    pub fn is_empty(&self) -> bool {
        self.tls.is_none() && self.fields().iter().all(|(_, v)| v.is_none())
    }

    /// True for a binding written before the TLS trust was recorded.
    pub fn is_legacy(&self) -> bool {
        self.tls.is_none() && !self.is_empty()
    }

    /// One line for people: `product=dedicated account_id=a cluster_id=c tls=default`.
    pub fn describe(&self) -> String {
        if self.is_empty() {
            return "(no binding)".to_owned();
        }
        let mut parts: Vec<String> =
            self.fields().iter().filter_map(|(k, v)| v.map(|v| format!("{k}={v}"))).collect();
        match &self.tls {
            None => parts.push("tls=(not recorded)".to_owned()),
            Some(t) => {
                let set: Vec<String> = t
                    .fields()
                    .into_iter()
                    .filter_map(|(k, v)| v.map(|v| format!("{k}={v}")))
                    .collect();
                if set.is_empty() {
                    parts.push("tls=default".to_owned());
                } else {
                    parts.extend(set);
                }
            }
        }
        parts.join(" ")
    }

    /// The binding rule of SPEC §4: the profile's endpoint must be exactly the stored one. A
    /// field set on one side and absent on the other is a mismatch; host names compare
    /// case-insensitively without a trailing dot; nothing else is normalised (`port` is already
    /// text: `"443"` and `443` read the same). A legacy binding (no trust recorded) matches
    /// only a profile that sets no TLS trust. Returns the first field that differs.
    pub fn check(&self, profile: &str, configured: &Cluster) -> Result<Binding> {
        if self.is_empty() {
            return Ok(Binding::Unbound);
        }
        let mismatch =
            |field: &'static str, stored: Option<&str>, now: Option<&str>| Error::ClusterMismatch {
                profile: profile.to_owned(),
                field,
                stored: stored.unwrap_or("(not set)").to_owned(),
                configured: now.unwrap_or("(not set)").to_owned(),
            };
        for ((field, stored), (_, now)) in self.fields().into_iter().zip(configured.fields()) {
            let same = match (stored, now) {
                (None, None) => true,
                (Some(a), Some(b)) if field == "host" => host_key(a) == host_key(b),
                (Some(a), Some(b)) => a == b,
                _ => false,
            };
            if !same {
                return Err(mismatch(field, stored, now));
            }
        }
        let default = Trust::default();
        let now_tls = configured.tls.as_ref().unwrap_or(&default);
        let stored_tls = self.tls.as_ref().unwrap_or(&default);
        for ((field, stored), (_, now)) in stored_tls.fields().into_iter().zip(now_tls.fields()) {
            if stored != now {
                return Err(mismatch(field, stored.as_deref(), now.as_deref()));
            }
        }
        Ok(if self.tls.is_none() { Binding::MatchesLegacy } else { Binding::Matches })
    }
}

/// A host name as compared: lower case, without one trailing dot.
fn host_key(host: &str) -> String {
    host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase()
}

/// Checks a token id (SPEC §8): 1 to 128 of `[A-Za-z0-9-]`, so that it can never be read as a
/// flag or a path by the program it is passed to. The error does not repeat the id.
pub fn validate_token_id(id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.len() <= 128
        && !id.starts_with('-')
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidValue {
            what: "token id",
            message: "a token id is 1 to 128 letters, digits and '-' (not starting with '-')"
                .into(),
        })
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

    fn bound() -> Cluster {
        Cluster {
            product: Some("clustered".into()),
            host: Some("Influx.Example.com.".into()),
            port: Some("443".into()),
            tls: Some(Trust::default()),
            ..Cluster::default()
        }
    }

    #[test]
    fn check_field_gained_or_lost_is_mismatch() {
        let stored = bound();
        assert_eq!(stored.check("p", &bound()).unwrap(), Binding::Matches);
        let mut now = bound();
        now.host = Some("influx.example.com".into());
        assert_eq!(stored.check("p", &now).unwrap(), Binding::Matches, "case and trailing dot");
        type Change = Box<dyn Fn(&mut Cluster)>;
        let variants: Vec<Change> = vec![
            Box::new(|c| c.account_id = Some("a".into())),
            Box::new(|c| c.host = None),
            Box::new(|c| c.host = Some("other.example.com".into())),
            Box::new(|c| c.port = Some("8443".into())),
            Box::new(|c| c.port = None),
            Box::new(|c| c.product = None),
            Box::new(|c| c.tls = Some(Trust { disable: true, ..Trust::default() })),
            Box::new(|c| c.tls = Some(Trust { insecure: true, ..Trust::default() })),
            Box::new(|c| c.tls = Some(Trust { ca: Some("/ca.pem".into()), ..Trust::default() })),
        ];
        for change in variants {
            let mut now = bound();
            change(&mut now);
            let err = stored.check("p", &now).unwrap_err();
            assert_eq!(err.kind(), crate::error::ErrorKind::ClusterMismatch, "{now:?}");
        }
        // A stored ca that the profile no longer has, or has changed, is a mismatch too.
        let mut with_ca = bound();
        with_ca.tls = Some(Trust { ca: Some("/ca.pem".into()), ..Trust::default() });
        assert!(with_ca.check("p", &bound()).is_err());
        let mut other_ca = with_ca.clone();
        other_ca.tls = Some(Trust { ca: Some("/other.pem".into()), ..Trust::default() });
        assert!(with_ca.check("p", &other_ca).is_err());
    }

    #[test]
    fn check_legacy_binding_matches_only_a_profile_without_tls() {
        let mut legacy = bound();
        legacy.tls = None;
        assert!(legacy.is_legacy());
        assert_eq!(legacy.check("p", &bound()).unwrap(), Binding::MatchesLegacy);
        let mut now = bound();
        now.tls = Some(Trust { disable: true, ..Trust::default() });
        assert!(legacy.check("p", &now).is_err());
        assert_eq!(Cluster::default().check("p", &now).unwrap(), Binding::Unbound);
    }

    #[test]
    fn legacy_json_reads_as_legacy_and_full_binding_round_trips() {
        let old =
            r#"{"product":"dedicated","account_id":"a","cluster_id":"c","host":null,"port":null}"#;
        let c: Cluster = serde_json::from_str(old).unwrap();
        assert!(c.is_legacy());
        let mut full = c.clone();
        full.tls = Some(Trust::default());
        let json = serde_json::to_string(&full).unwrap();
        assert!(json.contains(r#""tls":{"disable":false,"insecure":false,"ca":null}"#), "{json}");
        assert_eq!(serde_json::from_str::<Cluster>(&json).unwrap(), full);
    }

    #[test]
    fn validate_token_id_refuses_flags_and_paths() {
        assert!(validate_token_id("0a1b2c3d-0000-4000-8000-00000000beef").is_ok());
        for bad in ["", "--help", "-rf", "a b", "../x", "a/b", "x;y", &"a".repeat(129)] {
            assert!(validate_token_id(bad).is_err(), "{bad}");
        }
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
