//! The read-only `env` store: `INFLUXCTL_CRED_TOKEN_<PROFILE>` (profile upper-cased, every
//! non-alphanumeric character `_`), then `INFLUXCTL_CRED_TOKEN`. For CI runners, where secrets
//! arrive as environment variables. Entries have no id, no expiry and no cluster binding.

use std::collections::BTreeMap;

use zeroize::Zeroizing;

use super::{Store, StoreKind, read_only};
use crate::entry::{Entry, EntryMeta, Origin};
use crate::error::{Error, Result};
use crate::secret::Token;

/// The generic variable, used for any profile that has no variable of its own.
pub const GENERIC_VAR: &str = "INFLUXCTL_CRED_TOKEN";

/// A snapshot of the token variables, taken when the store is made.
pub struct EnvStore {
    vars: BTreeMap<String, Zeroizing<String>>,
}

impl std::fmt::Debug for EnvStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnvStore").field("vars", &self.vars.keys().collect::<Vec<_>>()).finish()
    }
}

/// The variable that holds `profile`'s token.
pub fn var_name(profile: &str) -> String {
    let suffix: String = profile
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' })
        .collect();
    format!("{GENERIC_VAR}_{suffix}")
}

/// The variable an entry of the env store came from (its description says `from $VAR`).
pub fn source_var(entry: &Entry) -> Option<&str> {
    entry.description.as_deref()?.strip_prefix("from $")
}

impl EnvStore {
    /// Snapshots the process environment.
    pub fn from_process() -> Self {
        Self::from_vars(
            std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))),
        )
    }

    /// Snapshots the given variables (tests).
    pub fn from_vars(vars: impl IntoIterator<Item = (String, String)>) -> Self {
        let vars = vars
            .into_iter()
            .filter(|(k, v)| k.starts_with(GENERIC_VAR) && !v.is_empty())
            .map(|(k, v)| (k, Zeroizing::new(v)))
            .collect();
        EnvStore { vars }
    }

    fn entry(&self, profile: &str, var: &str, value: &str) -> Result<Entry> {
        let token =
            Token::from_input(value).map_err(|e| e.context(format!("the value of ${var}")))?;
        let mut entry = Entry::new(profile, token, Origin::Stored);
        entry.description = Some(format!("from ${var}"));
        Ok(entry)
    }
}

impl Store for EnvStore {
    fn kind(&self) -> StoreKind {
        StoreKind::Env
    }

    fn probe(&self) -> Result<()> {
        if self.vars.is_empty() {
            return Err(Error::StoreUnavailable {
                store: "env",
                reason: format!("neither {GENERIC_VAR} nor {GENERIC_VAR}_<PROFILE> is set"),
                hint: None,
            });
        }
        Ok(())
    }

    fn get(&self, profile: &str) -> Result<Option<Entry>> {
        let own = var_name(profile);
        for var in [own.as_str(), GENERIC_VAR] {
            if let Some(value) = self.vars.get(var) {
                return self.entry(profile, var, value).map(Some);
            }
        }
        Ok(None)
    }

    fn set(&self, _entry: &Entry) -> Result<bool> {
        Err(read_only(StoreKind::Env))
    }

    fn erase(&self, _profile: &str) -> Result<bool> {
        Err(read_only(StoreKind::Env))
    }

    /// One row per profile-specific variable (the profile shown is the lower-cased suffix, since
    /// the mapping cannot be undone exactly), and `*` for the generic variable.
    fn list(&self) -> Result<Vec<EntryMeta>> {
        let mut out = Vec::new();
        for (var, value) in &self.vars {
            let profile = match var.strip_prefix(GENERIC_VAR) {
                Some("") => "*".to_owned(),
                Some(rest) => match rest.strip_prefix('_') {
                    Some(suffix) if !suffix.is_empty() => suffix.to_ascii_lowercase(),
                    _ => continue,
                },
                None => continue,
            };
            // A malformed value still gets a row, without metadata beyond its source.
            let mut meta = Entry::new(&profile, Token::new("x".into())?, Origin::Stored).meta();
            meta.description = Some(match Token::from_input(value) {
                Ok(_) => format!("from ${var}"),
                Err(e) => format!("from ${var} ({e})"),
            });
            out.push(meta);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(vars: &[(&str, &str)]) -> EnvStore {
        EnvStore::from_vars(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    #[test]
    fn var_name_maps_non_alphanumerics() {
        assert_eq!(var_name("prod-eu.1"), "INFLUXCTL_CRED_TOKEN_PROD_EU_1");
    }

    #[test]
    fn get_prefers_the_profile_variable() {
        let s = store(&[
            ("INFLUXCTL_CRED_TOKEN", "M.V1.test-generic"),
            ("INFLUXCTL_CRED_TOKEN_PROD", "M.V1.test-prod"),
        ]);
        assert_eq!(s.get("prod").unwrap().unwrap().token.expose(), "M.V1.test-prod");
        assert_eq!(s.get("other").unwrap().unwrap().token.expose(), "M.V1.test-generic");
    }

    #[test]
    fn get_absent_is_none_and_writes_are_refused() {
        let s = store(&[]);
        assert!(s.get("prod").unwrap().is_none());
        assert_eq!(s.probe().unwrap_err().exit_code(), 5);
        let e = Entry::new("p", Token::new("M.V1.test-x".into()).unwrap(), Origin::Stored);
        assert_eq!(s.set(&e).unwrap_err().exit_code(), 2);
        assert_eq!(s.erase("p").unwrap_err().exit_code(), 2);
    }

    #[test]
    fn malformed_value_is_a_typed_error_without_the_value() {
        let s = store(&[("INFLUXCTL_CRED_TOKEN_PROD", "M.V1.test bad")]);
        let err = s.get("prod").unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(!err.to_string().contains("test bad"));
        assert_eq!(s.list().unwrap().len(), 1);
    }
}
