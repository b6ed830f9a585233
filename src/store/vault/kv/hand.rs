//! The entry of a profile from a secret's `data`: our entry JSON (docs/spec.md §4) as we write it, or
//! a secret written by hand, field by field (docs/vault.md, "A secret written by hand"). A hand
//! gets what `bao kv put … token=@token.txt` writes: every value a string, a token file that
//! ends in a newline. So, for a secret that is not exactly ours: surrounding whitespace of the
//! token is trimmed (as `store` trims stdin), an empty value is an absent field, and every
//! field is checked on its own; what is wrong is named by field with how to fix it, never as a
//! parser's line and column, and never quoting the token.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use zeroize::Zeroizing;

use crate::entry::{Cluster, Entry, Origin};
use crate::error::{Error, Result};
use crate::secret::Token;

/// The fields a secret written by hand may have (`rotating` is a rotation's claim).
const FIELDS: [&str; 9] = [
    "profile",
    "token",
    "token_id",
    "description",
    "created_at",
    "expires_at",
    "origin",
    "cluster",
    "rotating",
];

/// How the fix of a hand-made secret is said.
fn how(secret: &str) -> String {
    format!(
        "fix it with `bao kv patch {secret} FIELD=VALUE`, or write the entry again as docs/vault.md shows"
    )
}

/// The entry of `profile` from a secret's `data`; `created` is when the version was written
/// (the creation time of an entry that does not say it); `secret` is the secret's name as
/// `bao kv` takes it (`<mount>/<prefix>/<name>`), for the fix a malformed one is told.
pub fn entry_from_data(
    bytes: &[u8],
    profile: &str,
    created: Option<jiff::Timestamp>,
    secret: &str,
) -> Result<Entry> {
    if let Ok(entry) = Entry::from_secret_json(bytes, "vault", profile) {
        return Ok(entry);
    }
    let corrupt =
        |reason: String| Error::Corrupt { store: "vault", profile: profile.to_owned(), reason };
    let Ok(fields) = serde_json::from_slice::<BTreeMap<String, &RawValue>>(bytes) else {
        return Err(corrupt(format!(
            "the secret's data is not a JSON object of fields (profile, token, …); {}",
            how(secret)
        )));
    };
    let bad =
        |field: &str, what: &str| corrupt(format!("field `{field}`: {what}; {}", how(secret)));
    if let Some(name) = text(&fields, "profile", &bad)?
        && name.as_str() != profile
    {
        return Err(corrupt(format!("it holds the entry of profile {:?}", *name)));
    }
    let Some(raw) = fields.get("token") else {
        return Err(bad("token", "missing (the management token, `token=@token.txt`)"));
    };
    let token = match serde_json::from_str::<String>(raw.get()).map(Zeroizing::new) {
        Err(_) => return Err(bad("token", "not a string")),
        Ok(t) => Token::from_input(&t).map_err(|e| {
            bad("token", &format!("{e} (surrounding whitespace, such as a file's last newline, is ignored; none is allowed inside)"))
        })?,
    };
    let mut entry = Entry::new(profile, token, Origin::Stored);
    if let Some(id) = text(&fields, "token_id", &bad)? {
        crate::entry::validate_token_id(&id).map_err(|e| bad("token_id", &e.to_string()))?;
        entry.token_id = Some(id.to_string());
    }
    if let Some(d) = text(&fields, "description", &bad)? {
        crate::entry::check_description(&d).map_err(|e| bad("description", &e.to_string()))?;
        entry.description = Some(d.to_string());
    }
    let time = "not an RFC 3339 time such as 2026-12-01T00:00:00Z";
    entry.created_at = match typed(&fields, "created_at", time, &bad)? {
        Some(t) => t,
        None => created.unwrap_or(entry.created_at),
    };
    entry.expires_at = typed(&fields, "expires_at", time, &bad)?;
    let origins = "one of stored, imported, created, rotated";
    entry.origin = typed(&fields, "origin", origins, &bad)?.unwrap_or(Origin::Stored);
    let cluster = "a JSON object with product, account_id, cluster_id, host, port and tls (leave it out: the entry is bound on first use)";
    entry.cluster = typed::<Cluster>(&fields, "cluster", cluster, &bad)?.unwrap_or_default();
    if let Some(other) = fields.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(bad(
            &super::super::client::clean(other, None),
            &format!("not a field of an entry (they are {})", FIELDS[..8].join(", ")),
        ));
    }
    Ok(entry)
}

/// A field that is a string; `None` when it is absent, `null` or empty (`bao kv put` cannot
/// write `null`).
fn text(
    fields: &BTreeMap<String, &RawValue>,
    name: &str,
    bad: &dyn Fn(&str, &str) -> Error,
) -> Result<Option<Zeroizing<String>>> {
    let Some(raw) = fields.get(name).filter(|r| r.get() != "null") else { return Ok(None) };
    let value = serde_json::from_str::<String>(raw.get())
        .map(Zeroizing::new)
        .map_err(|_| bad(name, "not a string"))?;
    Ok(Some(value).filter(|v| !v.is_empty()))
}

/// A field of type `T`, from its JSON or, as `bao kv put` writes every value, from a string
/// holding it; `None` when it is absent, `null` or empty.
fn typed<T: DeserializeOwned>(
    fields: &BTreeMap<String, &RawValue>,
    name: &str,
    expected: &str,
    bad: &dyn Fn(&str, &str) -> Error,
) -> Result<Option<T>> {
    let Some(raw) = fields.get(name).filter(|r| !matches!(r.get(), "null" | "\"\"")) else {
        return Ok(None);
    };
    if let Ok(v) = serde_json::from_str::<T>(raw.get()) {
        return Ok(Some(v));
    }
    let inner = serde_json::from_str::<String>(raw.get()).ok();
    match inner.and_then(|s| serde_json::from_str::<T>(&s).ok()) {
        Some(v) => Ok(Some(v)),
        None => Err(bad(name, expected)),
    }
}
