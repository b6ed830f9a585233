//! One error type for the whole crate. Every variant maps to an [`ErrorKind`], which is both the
//! helper protocol's `error.kind` and the one-shot exit code (SPEC §6). Callers branch on the
//! kind, never on the message. No variant ever carries a secret: parse errors name a file and a
//! line, never the line's text.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// The published error kinds. Their names are wire format; their exit codes are a contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    Other,
    InvalidRequest,
    NotFound,
    Expired,
    StoreUnavailable,
    InteractionRequired,
    ClusterMismatch,
    InfluxctlFailed,
    ApiError,
    OperationNotSupported,
    UnsupportedVersion,
    Locked,
    /// A kind this version does not know (read from a newer peer).
    #[serde(other)]
    Unknown,
}

impl ErrorKind {
    /// The process exit code for this kind (SPEC §6).
    pub fn exit_code(self) -> i32 {
        match self {
            ErrorKind::Other | ErrorKind::Unknown => 1,
            ErrorKind::InvalidRequest
            | ErrorKind::OperationNotSupported
            | ErrorKind::UnsupportedVersion => 2,
            ErrorKind::NotFound => 3,
            ErrorKind::Expired => 4,
            ErrorKind::StoreUnavailable => 5,
            ErrorKind::InteractionRequired => 6,
            ErrorKind::ClusterMismatch => 7,
            ErrorKind::InfluxctlFailed => 8,
            ErrorKind::ApiError => 9,
            ErrorKind::Locked => 75,
        }
    }

    /// The wire name, as in `"kind":"not-found"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Other => "other",
            ErrorKind::InvalidRequest => "invalid-request",
            ErrorKind::NotFound => "not-found",
            ErrorKind::Expired => "expired",
            ErrorKind::StoreUnavailable => "store-unavailable",
            ErrorKind::InteractionRequired => "interaction-required",
            ErrorKind::ClusterMismatch => "cluster-mismatch",
            ErrorKind::InfluxctlFailed => "influxctl-failed",
            ErrorKind::ApiError => "api-error",
            ErrorKind::OperationNotSupported => "operation-not-supported",
            ErrorKind::UnsupportedVersion => "unsupported-version",
            ErrorKind::Locked => "locked",
            ErrorKind::Unknown => "unknown",
        }
    }
}

/// Every failure of the crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Usage(String),

    #[error("invalid token: {reason}")]
    InvalidToken { reason: &'static str },

    #[error("invalid request: {0}")]
    InvalidRequest(String),

    #[error("invalid value for {what}: {message}")]
    InvalidValue { what: &'static str, message: String },

    #[error("cannot parse {}: {message}", path.display())]
    ParseConfig { path: PathBuf, message: String },

    #[error("influxctl profile {name:?} not found in {} (profiles: {})", path.display(), list_or_none(available))]
    ProfileNotFound { name: String, path: PathBuf, available: Vec<String> },

    #[error("{action} {}: {source}", path.display())]
    Io { action: &'static str, path: PathBuf, source: std::io::Error },

    #[error("no token stored for profile {profile:?}")]
    NotFound { profile: String },

    #[error("the token of profile {profile:?} {state}")]
    Expired { profile: String, state: String },

    #[error("the {store} store is unavailable: {reason}")]
    StoreUnavailable { store: &'static str, reason: String, hint: Option<String> },

    #[error("{} is accessible by group or others (mode {mode:04o}); refusing to use it", path.display())]
    TooOpen { path: PathBuf, mode: u32 },

    #[error("the {store} entry of profile {profile:?} is corrupt: {reason}")]
    Corrupt { store: &'static str, profile: String, reason: String },

    #[error("cannot decrypt {}: {reason}", path.display())]
    Decrypt { path: PathBuf, reason: String },

    #[error("{what} needs interaction, but interaction is off")]
    InteractionRequired { what: String },

    #[error(
        "the token of profile {profile:?} belongs to {field} {stored:?}, but the influxctl profile now says {configured:?}; refusing to hand it out"
    )]
    ClusterMismatch { profile: String, field: &'static str, stored: String, configured: String },

    #[error("influxctl failed: {0}")]
    InfluxctlFailed(String),

    #[error("management API error{}: {message}", status.map(|s| format!(" (HTTP {s})")).unwrap_or_default())]
    Api { status: Option<u16>, code: Option<String>, message: String },

    #[error("{0} is not supported")]
    OperationNotSupported(String),

    #[error("unsupported protocol version {0}; this helper speaks version 1")]
    UnsupportedVersion(String),

    #[error("could not lock {} within {secs}s; another influxctl-cred holds it", path.display())]
    Locked { path: PathBuf, secs: u64 },

    #[error("{0}")]
    Other(String),

    #[error("{context}: {source}")]
    Context { context: String, source: Box<Error> },

    #[error(
        "the Management API refused the management token of profile {profile:?} (HTTP {status}{}): {}",
        code.as_deref().filter(|c| *c != status.to_string()).map(|c| format!(", code {c}")).unwrap_or_default(),
        rejected_reason(*status, message)
    )]
    ApiRejected { profile: String, status: u16, code: Option<String>, message: String },

    #[error("cannot reach the Management API at {url}: {reason}")]
    ApiUnreachable { url: String, reason: String },

    /// A file or folder that strict modes (SPEC §2) do not trust: `kind` is `store-unavailable`
    /// for store, identity and home, `invalid-request` for a config file.
    #[error("refusing {}: {reason}", path.display())]
    Untrusted { path: PathBuf, reason: String, fix: String, kind: ErrorKind },
}

fn rejected_reason(status: u16, message: &str) -> String {
    if status == 403 {
        format!(
            "{message}; the token is under-privileged: it may be valid, but lacks the rights for this account or cluster"
        )
    } else {
        format!("{message}; the token is invalid: wrong, expired or revoked")
    }
}

fn list_or_none(names: &[String]) -> String {
    if names.is_empty() { "none".to_owned() } else { names.join(", ") }
}

impl Error {
    /// The published kind of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Usage(_)
            | Error::InvalidToken { .. }
            | Error::InvalidRequest(_)
            | Error::InvalidValue { .. }
            | Error::ParseConfig { .. }
            | Error::ProfileNotFound { .. } => ErrorKind::InvalidRequest,
            Error::Io { .. } | Error::Corrupt { .. } | Error::Other(_) => ErrorKind::Other,
            Error::NotFound { .. } => ErrorKind::NotFound,
            Error::Expired { .. } => ErrorKind::Expired,
            Error::StoreUnavailable { .. } | Error::TooOpen { .. } | Error::Decrypt { .. } => {
                ErrorKind::StoreUnavailable
            }
            Error::InteractionRequired { .. } => ErrorKind::InteractionRequired,
            Error::ClusterMismatch { .. } => ErrorKind::ClusterMismatch,
            Error::InfluxctlFailed(_) => ErrorKind::InfluxctlFailed,
            Error::Api { .. } | Error::ApiRejected { .. } => ErrorKind::ApiError,
            Error::ApiUnreachable { .. } => ErrorKind::Other,
            Error::OperationNotSupported(_) => ErrorKind::OperationNotSupported,
            Error::UnsupportedVersion(_) => ErrorKind::UnsupportedVersion,
            Error::Locked { .. } => ErrorKind::Locked,
            Error::Context { source, .. } => source.kind(),
            Error::Untrusted { kind, .. } => *kind,
        }
    }

    /// The exit code of a one-shot command that failed with this error.
    pub fn exit_code(&self) -> i32 {
        self.kind().exit_code()
    }

    /// What the user can do about it, when there is something to do.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::NotFound { profile } => Some(format!(
                "run `influxctl-cred store -p {profile}` (token on stdin), `influxctl-cred import`, or `influxctl-cred create -p {profile}`"
            )),
            Error::Expired { profile, .. } => Some(format!(
                "run `influxctl-cred rotate -p {profile}`, or store a fresh token with `influxctl-cred store -p {profile}`"
            )),
            Error::TooOpen { path, .. } => Some(format!("run `chmod 600 {}`", path.display())),
            Error::Decrypt { .. } => Some(crate::identity::LOOKUP.to_owned()),
            Error::StoreUnavailable { hint, .. } => hint.clone(),
            Error::ClusterMismatch { profile, .. } => Some(format!(
                "if the cluster really changed, store a token for it: `influxctl-cred store -p {profile}`"
            )),
            Error::Locked { .. } => Some("try again when the other run has finished".to_owned()),
            Error::InteractionRequired { .. } => {
                Some("run it in a terminal, or drop --non-interactive".to_owned())
            }
            Error::ApiRejected { profile, status: 403, .. } => Some(format!(
                "check account_id/cluster_id of profile {profile:?} in influxctl's config, or store a token with more rights: `influxctl-cred store -p {profile}`"
            )),
            Error::ApiRejected { profile, .. } => Some(format!(
                "store a working token with `influxctl-cred store -p {profile}`, or create one with `influxctl-cred create -p {profile}`"
            )),
            Error::ApiUnreachable { .. } => Some(
                "check the network, the profile's host and port, [profile.tls] (ca, insecure), and INFLUXCTL_CRED_API_URL / api_url".to_owned(),
            ),
            Error::Context { source, .. } => source.hint(),
            Error::Untrusted { fix, .. } => Some(fix.clone()),
            _ => None,
        }
    }

    /// Adds context that is printed before this error.
    pub fn context(self, context: impl Into<String>) -> Error {
        Error::Context { context: context.into(), source: Box::new(self) }
    }

    /// An I/O error on a path.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io { action, path: path.into(), source }
    }
}

/// Shorthand used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_match_the_spec_table() {
        let table = [
            (ErrorKind::Other, 1),
            (ErrorKind::InvalidRequest, 2),
            (ErrorKind::NotFound, 3),
            (ErrorKind::Expired, 4),
            (ErrorKind::StoreUnavailable, 5),
            (ErrorKind::InteractionRequired, 6),
            (ErrorKind::ClusterMismatch, 7),
            (ErrorKind::InfluxctlFailed, 8),
            (ErrorKind::ApiError, 9),
            (ErrorKind::OperationNotSupported, 2),
            (ErrorKind::UnsupportedVersion, 2),
            (ErrorKind::Locked, 75),
        ];
        for (kind, code) in table {
            assert_eq!(kind.exit_code(), code, "{kind:?}");
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
        }
    }

    #[test]
    fn unknown_kind_deserializes() {
        let k: ErrorKind = serde_json::from_str("\"from-the-future\"").unwrap();
        assert_eq!(k, ErrorKind::Unknown);
    }

    #[test]
    fn context_keeps_kind_and_hint() {
        let e = Error::NotFound { profile: "prod".into() }.context("reading token");
        assert_eq!(e.kind(), ErrorKind::NotFound);
        assert!(e.hint().unwrap().contains("store -p prod"));
        assert_eq!(e.to_string(), "reading token: no token stored for profile \"prod\"");
    }
}
