//! influxctl's `config.toml`: finding it, reading its profiles (`[[profile]]`), and the cluster
//! each profile points at. Parsed with `toml_edit` so that a document can be rewritten keeping
//! every comment and all formatting ([`super::derive`]). Parse errors name a line, never its
//! text (the line may hold a token).

use std::path::{Path, PathBuf};

use toml_edit::{DocumentMut, Item, Table, Value};

use crate::entry::{Cluster, Trust};
use crate::error::{Error, Result};
use crate::fsutil::{self, FileKind, Fingerprint};

/// A parsed influxctl config.
#[derive(Debug, Clone)]
pub struct InfluxConfig {
    pub path: PathBuf,
    pub doc: DocumentMut,
}

impl InfluxConfig {
    /// Reads `path`; `Ok(None)` when it does not exist.
    pub fn load(path: &Path) -> Result<Option<InfluxConfig>> {
        Ok(InfluxConfig::load_seen(path)?.map(|(config, _)| config))
    }

    /// [`InfluxConfig::load`], with the file's fingerprint as read ([`fsutil::read_seen`]).
    pub fn load_seen(path: &Path) -> Result<Option<(InfluxConfig, Option<Fingerprint>)>> {
        // Strict modes, no FIFO, 1 MiB (docs/spec.md §2); the text may hold a plaintext token.
        let Some((bytes, print)) = fsutil::read_seen(path, FileKind::InfluxctlConfig)? else {
            return Ok(None);
        };
        let text = std::str::from_utf8(&bytes).map_err(|_| Error::ParseConfig {
            path: path.to_owned(),
            message: "it is not UTF-8 text".into(),
        })?;
        InfluxConfig::parse(text, path).map(|config| Some((config, print)))
    }

    /// Parses config text. The error carries a line number and toml's short message only.
    pub fn parse(text: &str, path: &Path) -> Result<InfluxConfig> {
        let parsed = crate::error::shield(path, || Ok(text.parse::<DocumentMut>()))?;
        let doc: DocumentMut = parsed.map_err(|e: toml_edit::TomlError| {
            let line = e.span().map(|s| text[..s.start.min(text.len())].lines().count().max(1));
            let first = e.message().lines().next().unwrap_or("invalid TOML").to_owned();
            Error::ParseConfig {
                path: path.to_owned(),
                message: match line {
                    Some(n) => format!("line {n}: {first}"),
                    None => first,
                },
            }
        })?;
        let config = InfluxConfig { path: path.to_owned(), doc };
        config.check_shape()?;
        config.refuse_duplicates(text)?;
        Ok(config)
    }

    fn check_shape(&self) -> Result<()> {
        match self.doc.get("profile") {
            None => Ok(()),
            Some(item) if item.is_array_of_tables() => {
                for (i, t) in self.profile_tables().enumerate() {
                    if !matches!(t.get("name").and_then(Item::as_str), Some(n) if !n.is_empty()) {
                        return Err(self.bad(format!("profile #{} has no name", i + 1)));
                    }
                }
                Ok(())
            }
            Some(_) => Err(self.bad("`profile` must be an array of tables ([[profile]])".into())),
        }
    }

    /// Refuses two `[[profile]]` tables of the same name, naming the profile and both lines:
    /// which one influxctl uses is not defined, so a token or a binding of "the" profile could
    /// belong to the other table (docs/influxctl.md). Every reader of the config goes through
    /// here (`store`, `get`, `exec`, the helper, `import`), so none of them picks one.
    fn refuse_duplicates(&self, text: &str) -> Result<()> {
        let names = self.profile_names();
        let mut sorted: Vec<&str> = names.iter().map(String::as_str).collect();
        sorted.sort_unstable();
        let Some(name) = sorted.windows(2).find(|w| w[0] == w[1]).map(|w| w[0]) else {
            return Ok(());
        };
        let lines = profile_lines(text, &self.path, name);
        let show = |l: Option<&usize>| l.map_or_else(|| "?".to_owned(), usize::to_string);
        Err(self.bad(format!(
            "profile {name:?} is defined twice (lines {} and {}); which one influxctl uses is not defined, so influxctl-cred uses neither: nothing was read, stored or changed. Rename or remove one of them",
            show(lines.first()),
            show(lines.get(1))
        )))
    }

    fn bad(&self, message: String) -> Error {
        Error::ParseConfig { path: self.path.clone(), message }
    }

    fn profile_tables(&self) -> impl Iterator<Item = &Table> {
        self.doc
            .get("profile")
            .and_then(Item::as_array_of_tables)
            .into_iter()
            .flat_map(|a| a.iter())
    }

    /// Names of the profiles, in file order.
    pub fn profile_names(&self) -> Vec<String> {
        self.profile_tables()
            .filter_map(|t| t.get("name").and_then(Item::as_str).map(str::to_owned))
            .collect()
    }

    /// The table of profile `name`.
    pub fn profile(&self, name: &str) -> Option<&Table> {
        self.profile_tables().find(|t| t.get("name").and_then(Item::as_str) == Some(name))
    }

    /// The table of profile `name`, for editing.
    pub fn profile_mut(&mut self, name: &str) -> Option<&mut Table> {
        self.doc
            .get_mut("profile")
            .and_then(Item::as_array_of_tables_mut)?
            .iter_mut()
            .find(|t| t.get("name").and_then(Item::as_str) == Some(name))
    }

    /// Where profile `name` points, with its TLS trust (`None` when there is no such
    /// profile). A `[profile.tls]` of the wrong shape is a config error.
    pub fn cluster(&self, name: &str) -> Result<Option<Cluster>> {
        self.profile(name).map(|t| binding_of(t, &self.path, name)).transpose()
    }

    /// Whether profile `name` holds a plaintext `mgmt_token`.
    pub fn has_plaintext_token(&self, name: &str) -> bool {
        self.profile(name)
            .and_then(|t| t.get("mgmt_token"))
            .and_then(Item::as_str)
            .is_some_and(|s| !s.trim().is_empty())
    }

    /// The error for a profile that is not in this config.
    pub fn profile_not_found(&self, name: &str) -> Error {
        Error::ProfileNotFound {
            name: name.to_owned(),
            path: self.path.clone(),
            available: self.profile_names(),
        }
    }
}

/// The lines of the `[[profile]]` tables named `name` in `text` (parsed again with spans, only
/// when a duplicate was found: the editable document has none).
fn profile_lines(text: &str, path: &Path, name: &str) -> Vec<usize> {
    let parsed = crate::error::shield(path, || Ok(toml_edit::Document::parse(text)));
    let Ok(Ok(doc)) = parsed else { return Vec::new() };
    let line_of = |at: Option<std::ops::Range<usize>>| {
        at.map(|r| text[..r.start.min(text.len())].matches('\n').count() + 1)
    };
    doc.get("profile")
        .and_then(Item::as_array_of_tables)
        .into_iter()
        .flatten()
        .filter(|t| t.get("name").and_then(Item::as_str) == Some(name))
        .filter_map(|t| line_of(t.span()).or_else(|| line_of(t.get("name")?.span())))
        .collect()
}

/// The cluster fields of one profile table (no TLS trust). `port` may be written as a number
/// or a string; an empty string is no value.
pub fn cluster_of(table: &Table) -> Cluster {
    let text = |key: &str| -> Option<String> {
        match table.get(key)?.as_value()? {
            Value::String(s) => Some(s.value().clone()).filter(|s| !s.is_empty()),
            Value::Integer(i) => Some(i.value().to_string()),
            _ => None,
        }
    };
    Cluster {
        product: text("product"),
        account_id: text("account_id"),
        cluster_id: text("cluster_id"),
        host: text("host"),
        port: text("port"),
        tls: None,
    }
}

/// The whole binding of one profile table (docs/spec.md §4): its cluster fields and its TLS trust.
/// `path` and `profile` name it in errors.
pub fn binding_of(table: &Table, path: &Path, profile: &str) -> Result<Cluster> {
    let tls = super::tls::TlsOptions::from_profile(table, path, profile)?;
    let mut cluster = cluster_of(table);
    cluster.tls = Some(Trust {
        disable: tls.disable,
        insecure: tls.insecure,
        ca: tls.ca.map(|p| p.to_string_lossy().into_owned()),
    });
    Ok(cluster)
}

/// influxctl's config as read **once** for one command (docs/spec.md §4: the profile that was checked
/// is the one that is derived and handed to influxctl). Every step of a command that checks a
/// binding, derives a config or picks an API endpoint takes this value instead of reading the
/// file again, so that a config swapped meanwhile cannot redirect the token.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Where the config is (or would be); `None` when no config folder is known.
    pub path: Option<PathBuf>,
    /// The parsed config; `None` when the file does not exist. Shared, so that a session's kept
    /// snapshot is handed out again without copying the document.
    pub config: Option<std::sync::Arc<InfluxConfig>>,
}

impl Snapshot {
    /// Reads `path` once (a missing file is an empty snapshot).
    pub fn read(path: Option<PathBuf>) -> Result<Snapshot> {
        Ok(Snapshot::read_seen(path)?.0)
    }

    /// [`Snapshot::read`], with the fingerprint of the file read (`None` when there was none,
    /// or when it cannot stand for the bytes: [`fsutil::read_seen`]).
    pub fn read_seen(path: Option<PathBuf>) -> Result<(Snapshot, Option<Fingerprint>)> {
        let (config, print) = match &path {
            Some(p) => match InfluxConfig::load_seen(p)? {
                Some((config, print)) => (Some(std::sync::Arc::new(config)), print),
                None => (None, None),
            },
            None => (None, None),
        };
        Ok((Snapshot { path, config }, print))
    }

    /// Whether the file this snapshot was read from (with fingerprint `print`) is still that
    /// file, and still trusted ([`fsutil::still_seen`]).
    pub fn still(&self, print: &Fingerprint) -> Result<bool> {
        match (&self.path, &self.config) {
            (Some(p), Some(_)) => fsutil::still_seen(p, FileKind::InfluxctlConfig, print),
            _ => Ok(false),
        }
    }

    /// The binding of profile `name` in this snapshot (`None` without such a profile).
    pub fn cluster(&self, name: &str) -> Result<Option<Cluster>> {
        match &self.config {
            Some(c) => c.cluster(name),
            None => Ok(None),
        }
    }

    /// The table of profile `name`.
    pub fn profile(&self, name: &str) -> Option<&Table> {
        self.config.as_ref().and_then(|c| c.profile(name))
    }

    /// The path for messages (empty when unknown).
    pub fn path_or_default(&self) -> PathBuf {
        self.path.clone().unwrap_or_default()
    }

    /// The endpoint of `profile` in this snapshot; `profile-not-found` (with `why` as its
    /// context when there is no config at all) otherwise.
    pub fn required_cluster(&self, profile: &str, why: &str) -> Result<Cluster> {
        match &self.config {
            Some(config) => {
                config.cluster(profile)?.ok_or_else(|| config.profile_not_found(profile))
            }
            None => Err(Error::ProfileNotFound {
                name: profile.to_owned(),
                path: self.path_or_default(),
                available: Vec::new(),
            }
            .context(why)),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A config with one Dedicated and one Clustered profile (the latter with a plaintext token).
    pub(crate) const SAMPLE: &str = r#"
# my clusters
[[profile]]
  name = "default"
  product = "dedicated"
  account_id = "acc-1"
  cluster_id = "clu-1"

[[profile]]
  name = "onprem"
  product = "clustered"
  host = "influx.example.com"
  port = 8443
  mgmt_token = "M.V1.test-plain"
"#;

    #[test]
    fn profiles_and_clusters_are_read() {
        let c = InfluxConfig::parse(SAMPLE, Path::new("c.toml")).unwrap();
        assert_eq!(c.profile_names(), ["default", "onprem"]);
        let onprem = c.cluster("onprem").unwrap().unwrap();
        assert_eq!(onprem.port.as_deref(), Some("8443"));
        assert_eq!(onprem.product.as_deref(), Some("clustered"));
        assert!(c.has_plaintext_token("onprem"));
        assert!(!c.has_plaintext_token("default"));
        assert!(c.cluster("nope").unwrap().is_none());
        assert_eq!(onprem.tls, Some(Trust::default()));
    }

    #[test]
    fn parse_error_names_the_line_not_its_text() {
        let text = "[[profile]]\nname = \"p\"\nmgmt_token = \"M.V1.test-secret\n";
        let err = InfluxConfig::parse(text, Path::new("c.toml")).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        let msg = err.to_string();
        assert!(msg.contains("line 3"), "{msg}");
        assert!(!msg.contains("test-secret"), "{msg}");
    }

    #[test]
    fn duplicate_profile_names_are_refused_with_both_lines() {
        let text = "[[profile]]\nname = \"a\"\n[[profile]]\nname = \"prod\"\n\n[[profile]]\nname = \"prod\"\n";
        let err = InfluxConfig::parse(text, Path::new("c.toml")).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        let msg = err.to_string();
        assert!(msg.contains("\"prod\" is defined twice (lines 3 and 6)"), "{msg}");
        assert!(msg.contains("c.toml"), "{msg}");
        assert!(
            InfluxConfig::parse(
                "[[profile]]\nname = \"a\"\n[[profile]]\nname = \"b\"\n",
                Path::new("c")
            )
            .is_ok()
        );
    }

    #[test]
    fn profile_without_name_or_wrong_shape_is_refused() {
        assert!(InfluxConfig::parse("[[profile]]\nhost = \"h\"\n", Path::new("c")).is_err());
        assert!(InfluxConfig::parse("profile = 3\n", Path::new("c")).is_err());
    }
}
