//! The helper's answers (docs/spec.md §6): one [`Response`] per request line, `ok` or `error`, and the
//! cache rule a peer follows for a token it was given. Pure serde; the JSON is pinned by the
//! protocol tests.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Kind, VERSION};
use crate::app::ListRow;
use crate::entry::Cluster;
use crate::error::{Error, ErrorKind};
use crate::secret::Token;
use crate::settings::StoreKind;

/// One response line: `{"v":1,"id":…,"ok":{…}}` or `{"v":1,"id":…,"error":{…}}`.
#[derive(Debug, Serialize)]
pub struct Response {
    pub v: u64,
    pub id: Value,
    #[serde(flatten)]
    pub outcome: Outcome,
}

impl Response {
    pub fn ok(id: Value, body: OkBody) -> Response {
        Response { v: VERSION, id, outcome: Outcome::Ok(body) }
    }

    pub fn error(id: Value, err: &Error) -> Response {
        Response { v: VERSION, id, outcome: Outcome::Error(ErrorBody::from(err)) }
    }
}

/// Success or failure, as the key `ok` or `error`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Ok(OkBody),
    Error(ErrorBody),
}

/// The `ok` object of each kind.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum OkBody {
    Hello(HelloOk),
    Get(GetOk),
    Store(StoreOk),
    Erase(EraseOk),
    List(ListOk),
}

#[derive(Debug, Serialize)]
pub struct HelloOk {
    pub versions: Vec<u64>,
    pub name: &'static str,
    pub version: &'static str,
    pub kinds: Vec<Kind>,
    /// The stores usable now.
    pub stores: Vec<StoreKind>,
}

impl HelloOk {
    pub fn new(stores: Vec<StoreKind>) -> HelloOk {
        HelloOk {
            versions: vec![VERSION],
            name: env!("CARGO_PKG_NAME"),
            version: env!("CARGO_PKG_VERSION"),
            kinds: Kind::SUPPORTED.to_vec(),
            stores,
        }
    }
}

/// How long a peer may keep a token it was given (the same three answers as cargo's credential
/// protocol). See [`cache_for`] for the rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Cache {
    /// Ask again every time.
    Never,
    /// Keep it for the life of the peer's process (or helper session), no longer.
    Session,
    /// Keep it until `expires_at` at the latest.
    Expires,
    #[serde(other)]
    Unknown,
}

/// The cache rule: the `env` store says `never` (the variable is the source of truth, reading
/// it again is free, and a copy elsewhere would outlive the CI job's secret); so does the
/// `vault` store (a shared token can be rotated or revoked from another machine at any time,
/// whatever its `expires_at`); an entry with an
/// `expires_at` says `expires`; any other entry says `session` (it may be rotated or erased at
/// any time, and nothing tells the peer when).
pub fn cache_for(store: StoreKind, expires_at: Option<Timestamp>) -> Cache {
    match (store, expires_at) {
        (StoreKind::Env | StoreKind::Vault, _) => Cache::Never,
        (_, Some(_)) => Cache::Expires,
        (_, None) => Cache::Session,
    }
}

#[derive(Debug, Serialize)]
pub struct GetOk {
    pub token: Token,
    pub token_id: Option<String>,
    pub expires_at: Option<Timestamp>,
    pub store: StoreKind,
    pub cluster: Cluster,
    pub cache: Cache,
}

#[derive(Debug, Serialize)]
pub struct StoreOk {
    pub store: StoreKind,
    pub replaced: bool,
}

#[derive(Debug, Serialize)]
pub struct EraseOk {
    pub existed: bool,
}

/// The same rows as `list --format json`; never a token.
#[derive(Debug, Serialize)]
pub struct ListOk {
    pub entries: Vec<ListRow>,
}

/// The `error` object: kind, message, and a hint when the user can act.
#[derive(Debug, Serialize)]
pub struct ErrorBody {
    pub kind: ErrorKind,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl From<&Error> for ErrorBody {
    fn from(err: &Error) -> ErrorBody {
        // A token pasted where a profile name belongs is never echoed back.
        let redact = |s: String| crate::error::redact(&s).into_owned();
        ErrorBody {
            kind: err.kind(),
            message: redact(err.to_string()),
            hint: err.hint().map(redact),
        }
    }
}
