//! What one stored credential holds (docs/spec.md §4): the token, its metadata, and the cluster it is
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
/// (docs/spec.md §4): the endpoint fields and the profile's TLS trust.
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

    /// The binding rule of docs/spec.md §4: the profile's endpoint must be exactly the stored one. A
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

/// Checks a token id (docs/spec.md §8): 1 to 128 of `[A-Za-z0-9-]`, so that it can never be read as a
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
mod tests;
