//! The TLS options of one influxctl profile (`[profile.tls]`), as influxctl stores them, and as
//! a binding's trust stands for them.

use std::path::PathBuf;

use toml_edit::{Item, Table, TableLike};

use crate::error::{Error, Result};

/// influxctl's `[profile.tls]` table. `cert`/`key` (client certificates) are read but not
/// used: the Management API client does not present one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsOptions {
    /// Accept any server certificate (influxctl's `insecure`).
    pub insecure: bool,
    /// Plain HTTP (Clustered only).
    pub disable: bool,
    /// A PEM file of extra CA certificates, trusted besides the system's.
    pub ca: Option<PathBuf>,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
}

impl TlsOptions {
    /// Reads `[profile.tls]` (or `tls = { … }`) of one influxctl profile table. `what` names the
    /// profile in errors.
    pub fn from_profile(table: &Table, config: &std::path::Path, profile: &str) -> Result<Self> {
        let Some(item) = table.get("tls") else { return Ok(TlsOptions::default()) };
        let bad = |message: String| Error::ParseConfig { path: config.to_owned(), message };
        let tls: &dyn TableLike = item
            .as_table_like()
            .ok_or_else(|| bad(format!("profile {profile:?}: `tls` must be a table")))?;
        let flag = |key: &str| -> Result<bool> {
            match tls.get(key) {
                None => Ok(false),
                Some(v) => v.as_bool().ok_or_else(|| {
                    bad(format!("profile {profile:?}: tls.{key} must be true or false"))
                }),
            }
        };
        let path = |key: &str| -> Result<Option<PathBuf>> {
            match tls.get(key).map(Item::as_str) {
                None => Ok(None),
                Some(Some("")) => Ok(None),
                Some(Some(s)) => Ok(Some(PathBuf::from(s))),
                Some(None) => Err(bad(format!("profile {profile:?}: tls.{key} must be a string"))),
            }
        };
        Ok(TlsOptions {
            insecure: flag("insecure")?,
            disable: flag("disable")?,
            ca: path("ca")?,
            cert: path("cert")?,
            key: path("key")?,
        })
    }
}

impl TlsOptions {
    /// The options a binding's trust stands for (a profile the config no longer has is built
    /// from its binding).
    pub fn from_trust(trust: Option<&crate::entry::Trust>) -> TlsOptions {
        match trust {
            None => TlsOptions::default(),
            Some(t) => TlsOptions {
                insecure: t.insecure,
                disable: t.disable,
                ca: t.ca.as_ref().map(PathBuf::from),
                ..TlsOptions::default()
            },
        }
    }
}
