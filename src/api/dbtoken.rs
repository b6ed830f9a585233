//! Ephemeral database tokens for `exec --database-token` (docs/spec.md §9): the `read=DB,write=DB2`
//! spec, and [`DatabaseToken`], a guard that creates a least-privilege, short-lived token and
//! deletes it when dropped. A failed delete only warns: the token expires by itself, since it is
//! always created with an expiry.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use super::client::ApiClient;
use super::types::{CreateDatabaseToken, Permission};
use crate::error::{Error, Result};
use crate::secret::Token;

/// Lifetime of a database token when `--database-token-ttl` is not given.
pub const DEFAULT_TTL: SignedDuration = SignedDuration::from_hours(1);

/// Bound on each delete attempt: cleanup after a signal must not hang the exit.
pub const DELETE_TIMEOUT: Duration = Duration::from_secs(5);

/// Longest database name the documents allow.
const MAX_DATABASE_NAME: usize = 64;

/// What a database token may do: `read=DB,write=DB2,…`. Sorted, without repeats.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DatabaseTokenSpec {
    permissions: Vec<Permission>,
}

impl DatabaseTokenSpec {
    /// Parses `action=database[,action=database…]`, where action is `read` or `write` and
    /// database is a name (1–64 characters, no `,` `=` or whitespace) or `*` (every database).
    pub fn parse(text: &str) -> Result<DatabaseTokenSpec> {
        let bad = |message: String| Error::InvalidValue { what: "--database-token", message };
        let mut spec = DatabaseTokenSpec::default();
        for (i, item) in text.split(',').map(str::trim).enumerate() {
            let n = i + 1;
            let (action, db) = item.split_once('=').ok_or_else(|| {
                bad(format!("item {n} must look like read=DATABASE or write=DATABASE"))
            })?;
            let action = match action.trim() {
                "read" => "read",
                "write" => "write",
                _ => return Err(bad(format!("item {n}: the action must be read or write"))),
            };
            let db = db.trim();
            let name_ok = !db.is_empty()
                && db.chars().count() <= MAX_DATABASE_NAME
                && !db.chars().any(|c| c.is_whitespace() || c.is_control() || c == '=');
            if !name_ok {
                return Err(bad(format!(
                    "item {n}: the database must be a name of 1 to {MAX_DATABASE_NAME} characters without spaces, or *"
                )));
            }
            spec.permissions.push(Permission { action: action.into(), resource: db.into() });
        }
        spec.permissions.sort();
        spec.permissions.dedup();
        Ok(spec)
    }

    /// Adds the permissions of `other` (several `--database-token` flags).
    pub fn merge(&mut self, other: DatabaseTokenSpec) {
        self.permissions.extend(other.permissions);
        self.permissions.sort();
        self.permissions.dedup();
    }

    /// The permissions, as sent.
    pub fn permissions(&self) -> &[Permission] {
        &self.permissions
    }
}

impl FromStr for DatabaseTokenSpec {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        DatabaseTokenSpec::parse(s)
    }
}

impl fmt::Display for DatabaseTokenSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let items: Vec<String> =
            self.permissions.iter().map(|p| format!("{}={}", p.action, p.resource)).collect();
        f.write_str(&items.join(","))
    }
}

/// clap value parser for `--database-token`.
pub fn parse_spec_arg(text: &str) -> std::result::Result<DatabaseTokenSpec, String> {
    DatabaseTokenSpec::parse(text).map_err(|e| e.to_string())
}

/// clap value parser for `--database-token-ttl`: a duration of at least one minute.
pub fn parse_ttl_arg(text: &str) -> std::result::Result<SignedDuration, String> {
    let d = crate::duration::parse(text).map_err(|e| e.to_string())?;
    check_ttl(d).map_err(|e| e.to_string())?;
    Ok(d)
}

fn check_ttl(ttl: SignedDuration) -> Result<()> {
    if ttl < SignedDuration::from_secs(60) {
        return Err(Error::InvalidValue {
            what: "--database-token-ttl",
            message: "must be at least 1m (a new token can take a while to become usable)".into(),
        });
    }
    Ok(())
}

/// `influxctl-cred exec <user>@<host> <time>`: who made a token, so that an orphan can be
/// traced.
pub fn description(now: Timestamp) -> String {
    format!("influxctl-cred exec {} {}", user_at_host(), now.strftime("%Y-%m-%dT%H:%M:%SZ"))
}

/// `user@host` from the environment and the kernel's host name, without control characters.
pub fn user_at_host() -> String {
    let var = |names: &[&str]| {
        names.iter().find_map(|n| std::env::var(n).ok().filter(|v| !v.trim().is_empty()))
    };
    let user = var(&["USER", "USERNAME", "LOGNAME"]).unwrap_or_else(|| "unknown".into());
    let host = ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .find_map(|p| std::fs::read_to_string(p).ok().filter(|h| !h.trim().is_empty()))
        .or_else(|| var(&["HOSTNAME", "COMPUTERNAME"]))
        .unwrap_or_else(|| "unknown".into());
    let tidy = |s: &str| -> String {
        s.trim().chars().filter(|c| !c.is_control() && !c.is_whitespace()).take(64).collect()
    };
    format!("{}@{}", tidy(&user), tidy(&host))
}

/// A database token that lives as long as this value: created by [`DatabaseToken::create`],
/// deleted by [`DatabaseToken::delete`] or, failing that, when dropped (with a warning when the
/// delete fails; the token's expiry is the fallback).
#[derive(Debug)]
pub struct DatabaseToken {
    client: ApiClient,
    id: String,
    token: Token,
    expires_at: Timestamp,
    deleted: bool,
}

impl DatabaseToken {
    /// Creates a token with exactly the permissions of `spec`, expiring after `ttl`.
    pub fn create(
        client: &ApiClient,
        spec: &DatabaseTokenSpec,
        ttl: SignedDuration,
    ) -> Result<DatabaseToken> {
        if spec.permissions.is_empty() {
            return Err(Error::InvalidValue {
                what: "--database-token",
                message: "names no database".into(),
            });
        }
        check_ttl(ttl)?;
        let now = Timestamp::now();
        let expires_at = now
            .checked_add(ttl)
            .map_err(|_| Error::InvalidValue {
                what: "--database-token-ttl",
                message: "too long".into(),
            })?
            // The API takes whole seconds in practice; a round value also reads better.
            .round(jiff::Unit::Second)
            .map_err(|e| Error::Other(e.to_string()))?;
        let req = CreateDatabaseToken {
            description: description(now),
            permissions: spec.permissions.clone(),
            expires_at: Some(expires_at),
        };
        let orphan = |e: Error| {
            e.context(format!(
                "creating a database token ({spec}); if the server made it anyway, it expires at {expires_at}"
            ))
        };
        let created = client.create_database_token(&req).map_err(orphan)?;
        super::client::check_id(&created.id).map_err(orphan)?;
        crate::ui::verbose(format!(
            "created database token {} ({spec}), expires at {expires_at}",
            created.id
        ));
        Ok(DatabaseToken {
            client: client.clone(),
            id: created.id,
            token: created.access_token,
            expires_at: created.expires_at.unwrap_or(expires_at),
            deleted: false,
        })
    }

    /// The token's secret, for the child's `INFLUX_TOKEN` and the derived profile's `token`.
    pub fn token(&self) -> &Token {
        &self.token
    }

    /// The token's id (not secret).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// When the server will stop accepting it, deleted or not.
    pub fn expires_at(&self) -> Timestamp {
        self.expires_at
    }

    /// Deletes the token now and says whether that worked. Dropping does the same, but can
    /// only warn.
    pub fn delete(mut self) -> Result<()> {
        self.deleted = true;
        self.delete_now()
    }

    /// Two attempts, each bounded by [`DELETE_TIMEOUT`]; a second only when the first got no
    /// answer or a 5xx.
    fn delete_now(&self) -> Result<()> {
        let mut last = None;
        for _ in 0..2 {
            match self.client.delete_database_token(&self.id, Some(DELETE_TIMEOUT)) {
                Ok(existed) => {
                    crate::ui::verbose(if existed {
                        format!("deleted database token {}", self.id)
                    } else {
                        format!("database token {} was already gone", self.id)
                    });
                    return Ok(());
                }
                Err(e @ Error::ApiUnreachable { .. }) => last = Some(e),
                Err(e @ Error::Api { status: Some(500..=599), .. }) => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| Error::Other("the delete did not run".into())))
    }
}

impl Drop for DatabaseToken {
    fn drop(&mut self) {
        if self.deleted {
            return;
        }
        self.deleted = true;
        if let Err(e) = self.delete_now() {
            crate::ui::warn(format!(
                "could not delete database token {}: {e}; it stays usable until it expires at {}",
                self.id, self.expires_at
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_spec_sorts_and_dedups() {
        let s = DatabaseTokenSpec::parse("write=DB2, read=DB,read=DB").unwrap();
        assert_eq!(s.to_string(), "read=DB,write=DB2");
        assert_eq!(s.permissions()[0], Permission { action: "read".into(), resource: "DB".into() });
        let star = DatabaseTokenSpec::parse("read=*").unwrap();
        assert_eq!(star.permissions()[0].resource, "*");
    }

    #[test]
    fn parse_spec_rejects_bad_items_without_panicking() {
        let too_long = format!("read={}", "d".repeat(65));
        for bad in
            ["", "read", "admin=DB", "read=", "read=a b", "read=DB,", "=DB", "read=a=b", &too_long]
        {
            let err = DatabaseTokenSpec::parse(bad).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{bad:?}");
        }
    }

    #[test]
    fn merge_combines_flags() {
        let mut a = DatabaseTokenSpec::parse("read=A").unwrap();
        a.merge(DatabaseTokenSpec::parse("write=B,read=A").unwrap());
        assert_eq!(a.to_string(), "read=A,write=B");
    }

    #[test]
    fn ttl_must_be_at_least_a_minute() {
        assert!(parse_ttl_arg("30s").is_err());
        assert!(parse_ttl_arg("soon").is_err());
        assert_eq!(parse_ttl_arg("1h").unwrap(), DEFAULT_TTL);
    }

    #[test]
    fn description_names_user_host_and_time() {
        let d = description("2030-01-02T03:04:05.678Z".parse().unwrap());
        assert!(d.starts_with("influxctl-cred exec "), "{d}");
        assert!(d.contains('@') && d.ends_with(" 2030-01-02T03:04:05Z"), "{d}");
        assert!(!d.contains('\n'));
    }
}
