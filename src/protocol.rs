//! The helper protocol v1 (docs/spec.md §6) as plain data: the requests a peer sends, the responses the
//! helper answers, and the rules that turn one request line into a [`Request`] or a typed
//! refusal. No I/O here; the loop that reads and writes lines is [`crate::helper`]. The JSON in
//! both directions is pinned by the tests below and described for implementers in
//! `docs/protocol.md`.
//!
//! Parse errors never quote the request: serde's own messages can repeat a value (`invalid
//! type: string "…"`), so every field is read through a wrapper that replaces them with a
//! message naming only the field.

use jiff::Timestamp;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::error::Error;
use crate::secret::Token;
use crate::settings::StoreKind;

mod response;

pub use response::{
    Cache, EraseOk, ErrorBody, GetOk, HelloOk, ListOk, OkBody, Outcome, Response, StoreOk,
    cache_for,
};

/// The protocol version this helper speaks.
pub const VERSION: u64 = 1;

/// The longest request line accepted, in bytes, not counting its `\n`.
pub const MAX_LINE: usize = 64 * 1024;

/// What a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Hello,
    Get,
    Store,
    Erase,
    List,
    /// A kind this version does not know (answered with `operation-not-supported`).
    #[serde(other)]
    Unknown,
}

impl Kind {
    /// The kinds this helper answers, as `hello` lists them.
    pub const SUPPORTED: [Kind; 5] = [Kind::Hello, Kind::Get, Kind::Store, Kind::Erase, Kind::List];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Hello => "hello",
            Kind::Get => "get",
            Kind::Store => "store",
            Kind::Erase => "erase",
            Kind::List => "list",
            Kind::Unknown => "unknown",
        }
    }
}

/// The fields every request carries. Read first, on their own, so that the id can be echoed
/// and the version checked even when the rest of the request is bad. `Some(Value::Null)` is a
/// field present as `null`; `None` is a field left out.
#[derive(Debug, Default, Deserialize)]
pub struct Envelope {
    #[serde(default, deserialize_with = "present")]
    pub v: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    pub id: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    pub kind: Option<Value>,
}

/// `get`: the token of a profile, checked for binding and expiry.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct GetRequest {
    #[serde(deserialize_with = "de::profile")]
    pub profile: String,
    #[serde(default, deserialize_with = "de::min_ttl_secs")]
    pub min_ttl_secs: Option<u64>,
    #[serde(default, deserialize_with = "de::interactive")]
    pub interactive: bool,
}

/// `store`: writes a token. The token is checked (not empty, no whitespace or control
/// characters) while it is read.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct StoreRequest {
    #[serde(deserialize_with = "de::profile")]
    pub profile: String,
    #[serde(deserialize_with = "de::token")]
    pub token: Token,
    #[serde(default, deserialize_with = "de::expires_at")]
    pub expires_at: Option<Timestamp>,
    #[serde(default, deserialize_with = "de::token_id")]
    pub token_id: Option<String>,
    #[serde(default, deserialize_with = "de::description")]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "de::store")]
    pub store: Option<StoreKind>,
}

/// `erase`: removes the entry of a profile from every writable store.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct EraseRequest {
    #[serde(deserialize_with = "de::profile")]
    pub profile: String,
}

/// One understood request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    Hello,
    Get(GetRequest),
    Store(StoreRequest),
    Erase(EraseRequest),
    List,
}

impl Request {
    pub fn kind(&self) -> Kind {
        match self {
            Request::Hello => Kind::Hello,
            Request::Get(_) => Kind::Get,
            Request::Store(_) => Kind::Store,
            Request::Erase(_) => Kind::Erase,
            Request::List => Kind::List,
        }
    }
}

/// Reads one request line (without its `\n`): the id to echo (`null` when it cannot be read)
/// and the request, or the error to answer. Checks, in order: a JSON object; `v` present and
/// 1; `id` present; `kind` present, a string, and known; the fields of that kind.
pub fn parse_request(line: &[u8]) -> (Value, Result<Request, Error>) {
    // serde also reads a struct from an array (`[1,2]` as v=1, id=2): only an object will do.
    if line.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        let message = match serde_json::from_slice::<serde::de::IgnoredAny>(line) {
            Ok(_) => "the line is not a JSON object".to_owned(),
            Err(e) => syntax_message(&e),
        };
        return (Value::Null, Err(Error::InvalidRequest(message)));
    }
    let envelope: Envelope = match serde_json::from_slice(line) {
        Ok(e) => e,
        Err(e) => return (Value::Null, Err(envelope_error(&e))),
    };
    let id = envelope.id.clone().unwrap_or(Value::Null);
    (id, request(envelope, line))
}

fn request(envelope: Envelope, line: &[u8]) -> Result<Request, Error> {
    let missing = |field: &str| Error::InvalidRequest(format!("missing field `{field}`"));
    let v = envelope.v.ok_or_else(|| missing("v"))?;
    if v.as_u64() != Some(VERSION) {
        return Err(Error::UnsupportedVersion(excerpt(&v)));
    }
    envelope.id.ok_or_else(|| missing("id"))?;
    let kind_value = envelope.kind.ok_or_else(|| missing("kind"))?;
    let kind = Kind::deserialize(&kind_value)
        .map_err(|_| Error::InvalidRequest("`kind` must be a string".into()))?;
    let body = |e: serde_json::Error| body_error(&e);
    Ok(match kind {
        Kind::Hello => Request::Hello,
        Kind::List => Request::List,
        Kind::Get => Request::Get(serde_json::from_slice(line).map_err(body)?),
        Kind::Store => Request::Store(serde_json::from_slice(line).map_err(body)?),
        Kind::Erase => Request::Erase(serde_json::from_slice(line).map_err(body)?),
        Kind::Unknown => {
            return Err(Error::OperationNotSupported(format!(
                "request kind {}",
                excerpt(&kind_value)
            )));
        }
    })
}

/// Why a line is not a request object, by serde's category only: its message could quote the
/// line.
fn envelope_error(e: &serde_json::Error) -> Error {
    let message = match safe_message(e) {
        Some(m) => m,
        None if e.is_data() => "the line is not a JSON object".to_owned(),
        None => syntax_message(e),
    };
    Error::InvalidRequest(message)
}

fn syntax_message(e: &serde_json::Error) -> String {
    format!("the line is not valid JSON (line {}, column {})", e.line(), e.column())
}

/// Why the fields of a request are bad. Every field wrapper below gives a message that starts
/// with the field's name in backticks; serde adds only "missing field" and "duplicate field".
fn body_error(e: &serde_json::Error) -> Error {
    Error::InvalidRequest(safe_message(e).unwrap_or_else(|| {
        format!("a field has a wrong type or value (line {}, column {})", e.line(), e.column())
    }))
}

/// serde's message without its position, when it is one of those known not to quote input.
fn safe_message(e: &serde_json::Error) -> Option<String> {
    let text = e.to_string();
    let text = text.rfind(" at line ").map_or(text.as_str(), |at| &text[..at]);
    let safe = text.starts_with('`')
        || text.starts_with("missing field `")
        || text.starts_with("duplicate field `");
    safe.then(|| text.to_owned())
}

/// A short rendering of a peer's value for a message (`v`, `kind`), never more than 40
/// characters.
fn excerpt(v: &Value) -> String {
    let text = v.to_string();
    if text.chars().count() <= 40 {
        return text;
    }
    let mut short: String = text.chars().take(39).collect();
    short.push('…');
    short
}

/// Deserializes a field that is present (even as `null`) into `Some`.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// Field readers whose errors name the field and never its value.
mod de {
    use super::*;

    fn field<'de, D, T>(d: D, message: &'static str) -> Result<Option<T>, D::Error>
    where
        D: Deserializer<'de>,
        T: Deserialize<'de>,
    {
        Option::<T>::deserialize(d).map_err(|_| D::Error::custom(message))
    }

    pub fn profile<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        field(d, "`profile` must be a string")?
            .ok_or_else(|| D::Error::custom("`profile` must be a string"))
    }

    pub fn min_ttl_secs<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        field(d, "`min_ttl_secs` must be a whole number of seconds (0 or more)")
    }

    pub fn interactive<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
        Ok(field(d, "`interactive` must be true or false")?.unwrap_or(false))
    }

    /// The token moves from serde's `String` into a [`Token`] without a copy; a bad token is
    /// refused with the reason only.
    pub fn token<'de, D: Deserializer<'de>>(d: D) -> Result<Token, D::Error> {
        let raw: String = field(d, "`token` must be a string")?
            .ok_or_else(|| D::Error::custom("`token` must be a string"))?;
        Token::new(raw).map_err(|e| D::Error::custom(format!("`token`: {e}")))
    }

    pub fn expires_at<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
        field(d, "`expires_at` must be an RFC 3339 time")
    }

    pub fn token_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        field(d, "`token_id` must be a string")
    }

    pub fn description<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        field(d, "`description` must be a string")
    }

    /// A store a peer may name. `memory` exists only in tests and is not one.
    #[derive(Deserialize)]
    #[serde(rename_all = "lowercase")]
    enum StoreName {
        Keyring,
        File,
        Env,
        Vault,
        #[serde(other)]
        Unknown,
    }

    pub fn store<'de, D: Deserializer<'de>>(d: D) -> Result<Option<StoreKind>, D::Error> {
        const MESSAGE: &str = "`store` must be \"keyring\", \"file\", \"env\" or \"vault\"";
        Ok(match field(d, MESSAGE)? {
            None => None,
            Some(StoreName::Keyring) => Some(StoreKind::Keyring),
            Some(StoreName::File) => Some(StoreKind::File),
            Some(StoreName::Env) => Some(StoreKind::Env),
            Some(StoreName::Vault) => Some(StoreKind::Vault),
            Some(StoreName::Unknown) => return Err(D::Error::custom(MESSAGE)),
        })
    }
}

#[cfg(test)]
mod tests;
