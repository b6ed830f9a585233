//! One error type for the whole crate. Every variant maps to an [`ErrorKind`], which is both the
//! helper protocol's `error.kind` and the one-shot exit code (docs/spec.md §6). Callers branch on the
//! kind, never on the message. No variant ever carries a secret: parse errors name a file and a
//! line, never the line's text.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// How identities are found, for hints.
pub const IDENTITY_LOOKUP: &str = "age identities come from INFLUXCTL_CRED_AGE_IDENTITY, else INFLUXCTL_CRED_AGE_IDENTITY_FILE, else `identities` in config.toml, else the default identity.txt (first found wins); `influxctl-cred doctor` shows which is in use";

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
    /// The process exit code for this kind (docs/spec.md §6).
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

    /// Another writer or rotator got there first (a check-and-set write that lost, a rotation
    /// claim held elsewhere): kind `locked`, retry later.
    #[error("{0}")]
    Conflict(String),

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

    /// Writing our own stdout failed ([`crate::ui::stdout`]); a broken pipe is a quiet exit.
    #[error("cannot write to stdout: {0}")]
    Stdout(std::io::Error),

    /// A file or folder that strict modes (docs/spec.md §2) do not trust: `kind` is `store-unavailable`
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
            Error::ApiUnreachable { .. } | Error::Stdout(_) => ErrorKind::Other,
            Error::OperationNotSupported(_) => ErrorKind::OperationNotSupported,
            Error::UnsupportedVersion(_) => ErrorKind::UnsupportedVersion,
            Error::Locked { .. } | Error::Conflict(_) => ErrorKind::Locked,
            Error::Context { source, .. } => source.kind(),
            Error::Untrusted { kind, .. } => *kind,
        }
    }

    /// Whether this is our stdout's reader having gone away (`| head`): the command then ends
    /// quietly with exit 0, as ripgrep does. Only for stdout: a broken pipe to a child is an
    /// error like any other.
    pub fn is_broken_pipe(&self) -> bool {
        match self {
            Error::Stdout(e) => e.kind() == std::io::ErrorKind::BrokenPipe,
            Error::Context { source, .. } => source.is_broken_pipe(),
            _ => false,
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
            Error::Decrypt { .. } => Some(IDENTITY_LOOKUP.to_owned()),
            Error::StoreUnavailable { hint, .. } => hint.clone(),
            Error::ClusterMismatch { profile, .. } => Some(format!(
                "if the profile was moved on purpose, review and accept the new endpoint with `influxctl-cred rebind -p {profile}` (or store a token for it: `influxctl-cred store -p {profile}`); otherwise restore influxctl's config"
            )),
            Error::Locked { .. } | Error::Conflict(_) => {
                Some("try again when the other run has finished".to_owned())
            }
            Error::InteractionRequired { what } if what.contains("passphrase") => Some(format!(
                "run `influxctl-cred unlock` once in a terminal (the agent then opens entries \
                 without asking), or {}",
                interaction_off_fix()
            )),
            Error::InteractionRequired { .. } => Some(interaction_off_fix().to_owned()),
            Error::ApiRejected { profile, status: 403, .. } => Some(format!(
                "check account_id/cluster_id of profile {profile:?} in influxctl's config, or store a token with more rights: `influxctl-cred store -p {profile}`"
            )),
            Error::ApiRejected { profile, .. } => Some(format!(
                "store a working token with `influxctl-cred store -p {profile}`, or create one with `influxctl-cred create -p {profile}`"
            )),
            Error::ApiUnreachable { .. } => Some(
                "check the network, the profile's host and port, [profile.tls] (ca, insecure), and INFLUXCTL_CRED_API_URL / api_url".to_owned(),
            ),
            Error::ProfileNotFound { name, .. } => Some(format!(
                "add a [[profile]] named {name:?} to influxctl's config, or point at a config that has it (influxctl's own `--config FILE`, or `--influxctl-config FILE`)"
            )),
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

/// What a redacted management token is shown as.
pub const REDACTED: &str = "<redacted token>";

/// Whether `c` may continue a management token (any printable ASCII but the characters that
/// end a word in our messages): being generous here only means redacting a little more.
fn token_char(c: char) -> bool {
    c.is_ascii_graphic() && !"\"'`,;()[]{}<>\\".contains(c)
}

/// Characters a terminal shows as nothing (format characters, zero-width spaces and joiners,
/// variation selectors, the byte order mark, the soft hyphen, bidi controls), which could split
/// a token so that no mask sees it: server messages lose them before any mask runs.
pub fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}'
        | '\u{FFA0}' | '\u{FFF0}'..='\u{FFF8}')
}

/// `text` with everything that looks like a management token (`M.V1.` followed by token
/// characters, in any letter case) replaced by [`REDACTED`]. Applied once, where messages
/// leave us ([`crate::ui`] for stderr, the helper protocol's error bodies), so that a token
/// pasted where a profile name or an argument belongs is never echoed back.
pub fn redact(text: &str) -> std::borrow::Cow<'_, str> {
    const PREFIX: &[u8] = b"m.v1.";
    let bytes = text.as_bytes();
    let starts = |i: usize| {
        bytes.len() > i + PREFIX.len()
            && bytes[i..i + PREFIX.len()].eq_ignore_ascii_case(PREFIX)
            && text[i + PREFIX.len()..].chars().next().is_some_and(token_char)
    };
    if !(0..bytes.len()).any(starts) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        if starts(i) {
            out.push_str(REDACTED);
            let rest = &text[i + PREFIX.len()..];
            let len = rest.find(|c: char| !token_char(c)).unwrap_or(rest.len());
            i += PREFIX.len() + len;
        } else {
            // `i` is always on a char boundary: we step by whole chars.
            let c = text[i..].chars().next().unwrap_or('\u{fffd}');
            out.push(c);
            i += c.len_utf8().max(1);
        }
    }
    std::borrow::Cow::Owned(out)
}

thread_local! {
    /// Set while [`shield`] runs a parser: a panic there is caught and reported as a typed
    /// error, so the panic hook stays quiet.
    static SHIELDED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether the current thread is inside [`shield`] (the panic hook prints nothing then).
pub fn in_shield() -> bool {
    SHIELDED.with(std::cell::Cell::get)
}

/// Runs one parser of a dependency (toml_edit, toml, serde_json, age) on data we read from
/// `path`. A panic in it becomes `invalid-request` naming the file (docs/spec.md §10.6), never exit
/// 101; the panic's message is dropped (it could quote the input).
pub fn shield<T>(path: &std::path::Path, parse: impl FnOnce() -> Result<T>) -> Result<T> {
    shield_or(parse, || Error::ParseConfig {
        path: path.to_owned(),
        message: "the parser failed on this input (it is malformed)".into(),
    })
}

/// [`shield`] with the error to answer when `parse` panics.
pub fn shield_or<T, E>(
    parse: impl FnOnce() -> std::result::Result<T, E>,
    on_panic: impl FnOnce() -> E,
) -> std::result::Result<T, E> {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            SHIELDED.with(|s| s.set(self.0));
        }
    }
    let caught = {
        let _restore = Restore(SHIELDED.with(|s| s.replace(true)));
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(parse))
    };
    caught.unwrap_or_else(|_| Err(on_panic()))
}

/// What turns asking back on, for the reason it is off: `--non-interactive` given (before
/// any `--`), `CI` set, or no terminal. Only the reason that applies is named.
fn interaction_off_fix() -> &'static str {
    let flag = std::env::args_os().take_while(|a| a != "--").any(|a| a == "--non-interactive");
    if flag {
        "drop --non-interactive"
    } else if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
        "run it in a terminal with CI unset (CI turns questions off)"
    } else {
        "run it in a terminal"
    }
}

#[cfg(test)]
mod tests;
