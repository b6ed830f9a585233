//! `verify`: asks the Management API whether the stored token of a profile works
//! (`GET …/databases`, docs/spec.md §9), and reports valid, invalid or unreachable.
//!
//! | verdict | exit | kind |
//! |---|---|---|
//! | valid (2xx) | 0 | — |
//! | invalid: 401 or 403 | 9 | `api-error` |
//! | the API answered another error (400, 404, 5xx, bad JSON) | 9 | `api-error` |
//! | unreachable: DNS, connect, TLS, timeout | 1 | `other` |
//! | nothing to verify: no token (3), expired (4), binding mismatch (7), bad config (2) | as listed | |
//!
//! `--format json` prints one object on stdout in every case, with `status` one of `valid`,
//! `invalid`, `unreachable`, `error`.
//!
//! `doctor --online` asks the same of every stored entry ([`doctor_checks`]).

use serde::Serialize;

use jiff::Timestamp;

use crate::api::ApiClient;
use crate::app::Vault;
use crate::check::{Check, Status};
use crate::entry::Entry;
use crate::error::{Error, ErrorKind, Result};
use crate::influxctl::config::Snapshot;
use crate::store::env::GENERIC_VAR;

/// A client for `profile`: its management token as `get` hands it out (binding and expiry
/// checked against one [`Snapshot`] of influxctl's config), sent where that same snapshot says.
pub fn client_for(vault: &Vault, profile: &str) -> Result<ApiClient> {
    let snap = vault.snapshot()?;
    let found = vault.get_in(&snap, profile, None)?;
    let binding = found.entry.cluster.clone();
    crate::api::client_with(&vault.settings, &snap, profile, found.entry.token, &binding)
}

/// What `verify` found out about one profile.
#[derive(Debug)]
pub enum Verdict {
    /// The API accepted the token.
    Valid { url: String, databases: usize },
    /// 401 or 403.
    Invalid(Error),
    /// No answer.
    Unreachable(Error),
    /// Anything else: no token, a bad config, another API error.
    Failed(Error),
}

impl Verdict {
    fn from_result(r: Result<(String, usize)>) -> Verdict {
        match r {
            Ok((url, databases)) => Verdict::Valid { url, databases },
            Err(e @ Error::ApiRejected { .. }) => Verdict::Invalid(e),
            Err(e @ Error::ApiUnreachable { .. }) => Verdict::Unreachable(e),
            Err(e) => Verdict::Failed(e),
        }
    }

    /// `valid`, `invalid`, `unreachable` or `error`.
    pub fn status(&self) -> &'static str {
        match self {
            Verdict::Valid { .. } => "valid",
            Verdict::Invalid(_) => "invalid",
            Verdict::Unreachable(_) => "unreachable",
            Verdict::Failed(_) => "error",
        }
    }

    /// The exit code of `verify` (table above).
    pub fn exit_code(&self) -> i32 {
        match self {
            Verdict::Valid { .. } => 0,
            Verdict::Invalid(e) | Verdict::Unreachable(e) | Verdict::Failed(e) => e.exit_code(),
        }
    }

    /// The error, unless valid.
    pub fn error(&self) -> Option<&Error> {
        match self {
            Verdict::Valid { .. } => None,
            Verdict::Invalid(e) | Verdict::Unreachable(e) | Verdict::Failed(e) => Some(e),
        }
    }
}

/// Verifies the token of `profile`: the token as `get` would hand it out (binding and expiry
/// checked), sent to the profile's Management API.
pub fn check(vault: &Vault, profile: &str) -> Verdict {
    Verdict::from_result(client_for(vault, profile).and_then(|client| probe(&client)))
}

/// Verifies one stored entry (the token of that store, not the first in lookup order), with
/// the checks `get` makes first: a token whose binding no longer matches, or that has expired,
/// is never sent.
pub fn check_entry(vault: &Vault, snap: &Snapshot, entry: Entry) -> Verdict {
    let result = vault
        .check_binding_in(snap, &entry)
        .and_then(|_| crate::app::check_expiry(&entry.meta(), None, Timestamp::now()))
        .and_then(|()| {
            let binding = entry.cluster.clone();
            crate::api::client_with(&vault.settings, snap, &entry.profile, entry.token, &binding)
        })
        .and_then(|client| probe(&client));
    Verdict::from_result(result)
}

/// `doctor --online`: one line per stored entry (`vault.list()`), `verify`'s verdict on its
/// token: valid (ok), invalid (fail), anything else — unreachable, another API error, nothing
/// that can be asked — (warn). Never a token: error messages carry none.
pub fn doctor_checks(vault: &Vault) -> Vec<Check> {
    // Stores that cannot be listed are reported by the offline checks.
    let (rows, _failed) = vault.list();
    // One read of influxctl's config for every entry checked and sent.
    let snap = match vault.snapshot() {
        Ok(s) => s,
        Err(e) => return vec![Check::new("api", Status::Warn, format!("not verified: {e}"))],
    };
    rows.iter()
        .map(|row| {
            let profile = &row.meta.profile;
            let name = format!("api {profile} ({})", row.store);
            if profile == "*" {
                return Check::new(
                    name,
                    Status::Ok,
                    format!(
                        "${GENERIC_VAR} serves any profile; not verified (run `influxctl-cred verify -p NAME`)"
                    ),
                );
            }
            match vault.store(row.store).and_then(|s| s.get(profile)) {
                Ok(Some(entry)) => doctor_line(name, &check_entry(vault, &snap, entry)),
                Ok(None) => Check::new(name, Status::Warn, "the entry is gone; nothing to verify"),
                Err(e) => Check::new(name, Status::Warn, format!("cannot read the entry: {e}")),
            }
        })
        .collect()
}

/// The doctor line of a verdict.
fn doctor_line(name: String, verdict: &Verdict) -> Check {
    match verdict {
        Verdict::Valid { url, databases } => Check::new(
            name,
            Status::Ok,
            format!(
                "valid ({url} answered; {databases} database{})",
                if *databases == 1 { "" } else { "s" }
            ),
        ),
        Verdict::Invalid(e) => Check::new(name, Status::Fail, format!("invalid: {e}")),
        Verdict::Unreachable(e) => Check::new(name, Status::Warn, format!("unreachable: {e}")),
        Verdict::Failed(e) => Check::new(name, Status::Warn, format!("not verified: {e}")),
    }
}

/// `GET …/databases` with `client`; the URL asked and how many databases it listed.
pub fn probe(client: &ApiClient) -> Result<(String, usize)> {
    let databases = client.list_databases()?;
    Ok((client.endpoint().url("/databases"), databases.len()))
}

#[derive(Serialize)]
struct JsonReport<'a> {
    profile: &'a str,
    status: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    databases: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<ErrorKind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hint: Option<String>,
}

/// The `verify` command: one line (or one JSON object) on stdout, the error report on stderr,
/// and the exit code of the verdict.
pub fn run(vault: &Vault, profile: &str, json: bool) -> Result<i32> {
    let verdict = check(vault, profile);
    let line = if json {
        let (url, databases) = match &verdict {
            Verdict::Valid { url, databases } => (Some(url.as_str()), Some(*databases)),
            _ => (None, None),
        };
        let e = verdict.error();
        let report = JsonReport {
            profile,
            status: verdict.status(),
            url,
            databases,
            kind: e.map(Error::kind),
            message: e.map(ToString::to_string),
            hint: e.and_then(Error::hint),
        };
        serde_json::to_string(&report).map_err(|e| Error::Other(e.to_string()))?
    } else {
        match &verdict {
            Verdict::Valid { url, databases } => format!(
                "{profile}: valid ({url} answered; {databases} database{})",
                if *databases == 1 { "" } else { "s" }
            ),
            other => format!("{profile}: {}", other.status()),
        }
    };
    crate::ui::stdout(format!("{line}\n").as_bytes())?;
    if let Some(e) = verdict.error()
        && !json
    {
        crate::ui::report(e);
    }
    Ok(verdict.exit_code())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doctor_line_fails_only_an_invalid_token() {
        let line = |v: Verdict| doctor_line("api p (env)".into(), &v);
        let valid = line(Verdict::Valid { url: "http://x/databases".into(), databases: 1 });
        assert_eq!(valid.status, Status::Ok);
        assert!(valid.detail.ends_with("1 database)"), "{}", valid.detail);
        let rejected = Error::ApiRejected {
            profile: "p".into(),
            status: 401,
            code: None,
            message: "unauthorized".into(),
        };
        assert_eq!(line(Verdict::from_result(Err(rejected))).status, Status::Fail);
        let down = Error::ApiUnreachable { url: "http://x".into(), reason: "refused".into() };
        let down = line(Verdict::from_result(Err(down)));
        assert_eq!((down.status, down.detail.starts_with("unreachable")), (Status::Warn, true));
        let server = Error::Api { status: Some(500), code: None, message: "oops".into() };
        assert_eq!(line(Verdict::from_result(Err(server))).status, Status::Warn);
    }
}
