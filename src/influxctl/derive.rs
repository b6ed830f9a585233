//! The two rewrites of influxctl's config that we make, both with `toml_edit`: the *derived*
//! config of `exec` (one profile's `mgmt_token` set, nothing else changed, no key influxctl
//! does not know) and the config without plaintext tokens that `import` leaves behind (every
//! comment kept).

use std::path::Path;

use toml_edit::{ArrayOfTables, DocumentMut, Item, Table, Value};
use zeroize::Zeroizing;

use super::config::InfluxConfig;
use crate::entry::Cluster;
use crate::error::{Error, Result};
use crate::secret::Token;

/// The keys influxctl knows in a `[[profile]]` table; it rejects any other (INFLUXCTL.md).
pub const PROFILE_KEYS: [&str; 11] = [
    "name",
    "product",
    "account_id",
    "cluster_id",
    "host",
    "port",
    "database",
    "token",
    "mgmt_token",
    "tls",
    "auth",
];

/// Stands in for a secret while the document is rendered; replaced in the rendered text so
/// that the only copies of the secret are in zeroized buffers.
const PLACEHOLDER: &str = "__influxctl_cred_secret_";

/// The derived config of `exec`: `base` (the user's config, or nothing when there is none) with
/// the string keys in `set` (`mgmt_token`, later `token`) set in profile `profile`, and nothing
/// else changed. A profile that `base` lacks is built from `cluster` (the stored entry's
/// binding) and appended; with no config and no binding there is nothing to build it from.
/// `path` names the config in errors.
pub fn derive(
    base: Option<&InfluxConfig>,
    path: &Path,
    profile: &str,
    cluster: &Cluster,
    set: &[(&'static str, &Token)],
) -> Result<Zeroizing<String>> {
    if let Some((key, _)) = set.iter().find(|(k, _)| !matches!(*k, "mgmt_token" | "token")) {
        return Err(Error::Other(format!(
            "refusing to write key {key:?} into an influxctl profile"
        )));
    }
    let mut doc = base.map(|c| c.doc.clone()).unwrap_or_default();
    let table = match profile_table_mut(&mut doc, profile) {
        Some(t) => t,
        None => {
            if cluster.is_empty() {
                let missing = Error::ProfileNotFound {
                    name: profile.to_owned(),
                    path: path.to_owned(),
                    available: base.map(InfluxConfig::profile_names).unwrap_or_default(),
                };
                return Err(missing.context(
                    "the token names no cluster to build the profile from (it was stored without one, or comes from the environment)",
                ));
            }
            append_profile(&mut doc, profile, cluster)
        }
    };
    // The only management token in a derived profile is the one we set: a plaintext one left
    // in the user's profile is dropped (an OAuth run, or a database-token child, gets none).
    if !set.iter().any(|(k, _)| *k == "mgmt_token") {
        table.remove("mgmt_token");
    }
    for (i, (key, _)) in set.iter().enumerate() {
        let placeholder = Value::from(format!("{PLACEHOLDER}{i}__"));
        match table.get_mut(key).and_then(Item::as_value_mut) {
            Some(old) => {
                let decor = old.decor().clone();
                *old = placeholder;
                *old.decor_mut() = decor;
            }
            None => {
                table.insert(key, Item::Value(placeholder));
            }
        }
    }
    let mut text = Zeroizing::new(doc.to_string());
    for (i, (_, token)) in set.iter().enumerate() {
        let quoted = format!("\"{PLACEHOLDER}{i}__\"");
        let (Some(at), 1) = (text.find(&quoted), text.matches(&quoted).count()) else {
            return Err(Error::ParseConfig {
                path: path.to_owned(),
                message: format!("it contains the reserved text {quoted}"),
            });
        };
        // Sized up front so that no reallocation leaves a copy of the token behind.
        let mut out = Zeroizing::new(String::with_capacity(text.len() + 2 * token.expose().len()));
        out.push_str(&text[..at]);
        out.push('"');
        for c in token.expose().chars() {
            // A token has no whitespace or control characters (secret.rs), so a TOML basic
            // string needs only these two escapes.
            if matches!(c, '"' | '\\') {
                out.push('\\');
            }
            out.push(c);
        }
        out.push('"');
        out.push_str(&text[at + quoted.len()..]);
        text = out;
    }
    Ok(text)
}

fn profile_table_mut<'a>(doc: &'a mut DocumentMut, name: &str) -> Option<&'a mut Table> {
    doc.get_mut("profile")
        .and_then(Item::as_array_of_tables_mut)?
        .iter_mut()
        .find(|t| t.get("name").and_then(Item::as_str) == Some(name))
}

/// Appends `[[profile]]` for `name` with the cluster's fields (only keys influxctl knows).
fn append_profile<'a>(doc: &'a mut DocumentMut, name: &str, cluster: &Cluster) -> &'a mut Table {
    let mut table = Table::new();
    table.insert("name", toml_edit::value(name));
    for (key, value) in cluster.fields() {
        if let Some(v) = value {
            table.insert(key, toml_edit::value(v));
        }
    }
    // The binding's TLS trust, so that the built profile talks to its endpoint as before.
    if let Some(trust) = cluster.tls.as_ref().filter(|t| **t != crate::entry::Trust::default()) {
        let mut tls = Table::new();
        if trust.disable {
            tls.insert("disable", toml_edit::value(true));
        }
        if trust.insecure {
            tls.insert("insecure", toml_edit::value(true));
        }
        if let Some(ca) = &trust.ca {
            tls.insert("ca", toml_edit::value(ca.as_str()));
        }
        table.insert("tls", Item::Table(tls));
    }
    let item = doc.entry("profile").or_insert_with(|| Item::ArrayOfTables(ArrayOfTables::new()));
    // The parsed shape was checked (`profile` is an array of tables); a fresh document has none.
    let array = item.as_array_of_tables_mut().expect("profile is an array of tables");
    array.push(table);
    let last = array.len() - 1;
    array.get_mut(last).expect("just pushed")
}

/// The config text with `mgmt_token` removed from each profile in `profiles`, every comment
/// kept: comments above the removed line and a comment at its end move to the next line of the
/// table (or after the previous one when it was the last).
pub fn without_mgmt_token(config: &InfluxConfig, profiles: &[String]) -> String {
    let mut doc = config.doc.clone();
    for name in profiles {
        if let Some(table) = profile_table_mut(&mut doc, name) {
            remove_keeping_comments(table, "mgmt_token");
        }
    }
    doc.to_string()
}

fn remove_keeping_comments(table: &mut Table, key: &str) {
    let keys: Vec<String> =
        table.iter().filter(|(_, item)| item.is_value()).map(|(k, _)| k.to_owned()).collect();
    let Some(at) = keys.iter().position(|k| k == key) else { return };
    let Some((removed_key, removed)) = table.remove_entry(key) else { return };
    let prefix = removed_key.leaf_decor().prefix().and_then(|r| r.as_str()).unwrap_or("");
    let (above, indent) = match prefix.rfind('\n') {
        Some(n) => (&prefix[..=n], &prefix[n + 1..]),
        None => ("", prefix),
    };
    let mut carry = above.to_owned();
    let inline = removed.as_value().and_then(|v| v.decor().suffix()).and_then(|r| r.as_str());
    if let Some(comment) = inline.map(str::trim).filter(|c| c.starts_with('#')) {
        carry.push_str(&format!("{indent}{comment}\n"));
    }
    if carry.is_empty() {
        return;
    }
    if let Some(next) = keys.get(at + 1)
        && let Some(mut k) = table.key_mut(next)
    {
        let old = k.leaf_decor().prefix().and_then(|r| r.as_str()).unwrap_or("").to_owned();
        k.leaf_decor_mut().set_prefix(format!("{carry}{old}"));
    } else if carry.contains('#')
        && let Some(prev) = at.checked_sub(1).and_then(|p| keys.get(p))
        && let Some(value) = table.get_mut(prev).and_then(Item::as_value_mut)
    {
        let old = value.decor().suffix().and_then(|r| r.as_str()).unwrap_or("").to_owned();
        let moved = carry.trim_end_matches('\n');
        value.decor_mut().set_suffix(format!("{old}\n{moved}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::influxctl::config::tests::SAMPLE;

    fn token(s: &str) -> Token {
        Token::new(s.into()).unwrap()
    }

    fn profile_keys(text: &str, name: &str) -> Vec<String> {
        let c = InfluxConfig::parse(text, Path::new("d")).unwrap();
        c.profile(name).unwrap().iter().map(|(k, _)| k.to_owned()).collect()
    }

    #[test]
    fn derive_sets_only_mgmt_token_of_one_profile() {
        let c = InfluxConfig::parse(SAMPLE, Path::new("c.toml")).unwrap();
        let t = token("M.V1.test-derived");
        let text = derive(Some(&c), &c.path, "default", &Cluster::default(), &[("mgmt_token", &t)])
            .unwrap();
        let expected = SAMPLE.replace(
            "  cluster_id = \"clu-1\"\n",
            "  cluster_id = \"clu-1\"\nmgmt_token = \"M.V1.test-derived\"\n",
        );
        assert_eq!(*text, expected);
        // Replacing an existing plaintext token keeps its line and comment.
        let text = derive(Some(&c), &c.path, "onprem", &Cluster::default(), &[("mgmt_token", &t)])
            .unwrap();
        assert_eq!(*text, SAMPLE.replace("M.V1.test-plain", "M.V1.test-derived"));
    }

    #[test]
    fn derive_without_mgmt_token_drops_the_plaintext_one() {
        let c = InfluxConfig::parse(SAMPLE, Path::new("c.toml")).unwrap();
        let t = token("M.V1.test-database-token");
        let text =
            derive(Some(&c), &c.path, "onprem", &Cluster::default(), &[("token", &t)]).unwrap();
        assert!(!text.contains("M.V1.test-plain"), "{}", *text);
        assert!(profile_keys(&text, "onprem").iter().all(|k| k != "mgmt_token"));
        assert!(text.contains("M.V1.test-database-token"));
    }

    #[test]
    fn derive_escapes_quotes_and_backslashes() {
        let t = token(r#"M.V1.test-"quote"\back"#);
        let cluster = Cluster { product: Some("dedicated".into()), ..Cluster::default() };
        let text = derive(None, Path::new("c"), "p", &cluster, &[("mgmt_token", &t)]).unwrap();
        let back = InfluxConfig::parse(&text, Path::new("c")).unwrap();
        let got = back.profile("p").unwrap().get("mgmt_token").and_then(Item::as_str);
        assert_eq!(got, Some(t.expose()));
    }

    #[test]
    fn derive_builds_missing_profile_from_cluster_with_known_keys_only() {
        let cluster = Cluster {
            product: Some("clustered".into()),
            host: Some("h.example.com".into()),
            port: Some("8443".into()),
            ..Cluster::default()
        };
        let c = InfluxConfig::parse(SAMPLE, Path::new("c.toml")).unwrap();
        let t = token("M.V1.test-new");
        let text = derive(Some(&c), &c.path, "fresh", &cluster, &[("mgmt_token", &t)]).unwrap();
        assert!(text.starts_with(SAMPLE), "the user's profiles are kept as they were");
        let keys = profile_keys(&text, "fresh");
        assert_eq!(keys, ["name", "product", "host", "port", "mgmt_token"]);
        assert!(keys.iter().all(|k| PROFILE_KEYS.contains(&k.as_str())));
        let text = derive(None, Path::new("c"), "fresh", &cluster, &[("mgmt_token", &t)]).unwrap();
        assert_eq!(profile_keys(&text, "fresh").len(), 5);
    }

    #[test]
    fn derive_without_profile_or_cluster_is_profile_not_found() {
        let t = token("M.V1.test-x");
        let err = derive(None, Path::new("c"), "p", &Cluster::default(), &[("mgmt_token", &t)])
            .unwrap_err();
        assert_eq!(err.exit_code(), 2);
        let err = derive(None, Path::new("c"), "p", &Cluster::default(), &[("bogus", &t)]);
        assert!(err.is_err());
    }

    #[test]
    fn without_mgmt_token_keeps_comments_and_inline_tables() {
        let text = r#"# clusters
[[profile]]
  name = "a"   # the name
  # my token
  mgmt_token = "M.V1.test-a" # made in May
  product = "dedicated"
  tls = { insecure = false, ca = "" }

[[profile]]
  name = "b"
  # last
  mgmt_token = 'M.V1.test-b'

  [profile.auth.oauth2]
    client_id = "x"
"#;
        let c = InfluxConfig::parse(text, Path::new("c")).unwrap();
        let out = without_mgmt_token(&c, &["a".into(), "b".into()]);
        assert_eq!(
            out,
            r#"# clusters
[[profile]]
  name = "a"   # the name
  # my token
  # made in May
  product = "dedicated"
  tls = { insecure = false, ca = "" }

[[profile]]
  name = "b"
  # last

  [profile.auth.oauth2]
    client_id = "x"
"#
        );
        assert!(!out.contains("M.V1."));
    }
}
