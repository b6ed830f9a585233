//! Property tests (proptest) of the name mappings and of the derived config, over generated
//! inputs rather than hand-picked ones. Case counts are kept moderate for CI.
//!
//! - The file store's profile-name encoding: every valid profile name maps to a safe file name
//!   that decodes back to it, and only canonical names decode.
//! - The env store's variable names: always a portable variable name, and two profiles share
//!   one exactly when they differ only in which non-alphanumeric characters they hold (or in
//!   case), so the refusal of shared names can rely on that.
//! - `derive`: for any generated config and profile, the derived config parses and is the input
//!   with only `mgmt_token` of that profile set (or the profile appended when it was missing).

use std::path::Path;

use influxctl_cred::entry::Cluster;
use influxctl_cred::influxctl::config::InfluxConfig;
use influxctl_cred::influxctl::derive::derive;
use influxctl_cred::secret::Token;
use influxctl_cred::store::env::{GENERIC_VAR, var_name};
use influxctl_cred::store::{decode_profile, encode_profile, validate_profile};
use proptest::prelude::*;

fn config() -> ProptestConfig {
    ProptestConfig { cases: 96, failure_persistence: None, ..ProptestConfig::default() }
}

/// Profile names as users and peers may write them: any non-control characters, weighted
/// towards the ones that need encoding (dots, slashes, `%`, spaces, non-ASCII).
fn profile_name() -> impl Strategy<Value = String> {
    let ch = prop_oneof![
        4 => proptest::char::range('a', 'z'),
        2 => proptest::char::range('A', 'Z'),
        2 => proptest::char::range('0', '9'),
        3 => proptest::sample::select(vec!['.', '-', '_', '/', '\\', '%', ' ', '"', ':', '*', '~']),
        2 => proptest::char::any().prop_filter("no control characters", |c| !c.is_control()),
    ];
    proptest::collection::vec(ch, 1..40).prop_map(|cs| cs.into_iter().collect())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn encode_profile_any_valid_name_round_trips_to_a_safe_file_name(p in profile_name()) {
        prop_assume!(validate_profile(&p).is_ok());
        let enc = encode_profile(&p);
        prop_assert!(
            enc.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-%".contains(&b)),
            "unsafe byte in {enc:?}"
        );
        prop_assert!(!enc.starts_with('.'), "hidden file name {enc:?}");
        prop_assert!(enc != "." && enc != "..");
        prop_assert_eq!(decode_profile(&enc), Some(p.clone()));
        // A file name is the same profile under any case-sensitive file system: the encoding
        // of a different name is a different file name.
        let other = format!("{p}x");
        prop_assert_ne!(encode_profile(&other), enc);
    }

    #[test]
    fn decode_profile_answers_only_names_it_would_write(name in "[A-Za-z0-9._%-]{1,24}") {
        if let Some(p) = decode_profile(&name) {
            prop_assert_eq!(encode_profile(&p), name);
        }
    }

    #[test]
    fn var_name_is_a_portable_variable_name(p in profile_name()) {
        let v = var_name(&p);
        let suffix = v.strip_prefix(&format!("{GENERIC_VAR}_"));
        prop_assert!(suffix.is_some(), "{v:?}");
        let suffix = suffix.unwrap_or_default();
        prop_assert!(suffix.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'));
        prop_assert_eq!(suffix.chars().count(), p.chars().count());
    }

    #[test]
    fn var_name_is_shared_exactly_when_names_differ_in_punctuation_or_case(
        p in profile_name(),
        q in profile_name(),
    ) {
        let same_shape = p.chars().count() == q.chars().count()
            && p.chars().zip(q.chars()).all(|(a, b)| match (a.is_ascii_alphanumeric(), b.is_ascii_alphanumeric()) {
                (true, true) => a.eq_ignore_ascii_case(&b),
                (false, false) => true,
                _ => false,
            });
        prop_assert_eq!(var_name(&p) == var_name(&q), same_shape);
        // The collision that the env store must refuse: swap punctuation.
        let swapped: String =
            p.chars().map(|c| if c.is_ascii_alphanumeric() { c } else if c == '-' { '_' } else { '-' }).collect();
        prop_assert_eq!(var_name(&swapped), var_name(&p));
    }
}

/// One `[[profile]]` table as generated: its name and its other keys (as TOML values).
#[derive(Debug, Clone)]
struct GenProfile {
    name: String,
    keys: Vec<(&'static str, toml::Value)>,
    comment: Option<String>,
}

/// A TOML basic string, escaped by hand (so this test does not trust the code under test, nor
/// depend on toml_edit's API).
fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn render_value(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => quote(s),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Boolean(b) => b.to_string(),
        toml::Value::Table(t) => {
            let fields: Vec<String> =
                t.iter().map(|(k, v)| format!("{} = {}", quote(k), render_value(v))).collect();
            format!("{{ {} }}", fields.join(", "))
        }
        other => unreachable!("not generated: {other:?}"),
    }
}

/// A text value: printable, with the characters that need escaping.
fn text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 ._:/\"\\\\#=\\[\\]{}'-]{0,16}"
}

fn gen_profile() -> impl Strategy<Value = GenProfile> {
    let string_key = |k: &'static str| {
        proptest::option::of(text().prop_map(move |s| (k, toml::Value::String(s))))
    };
    (
        profile_name(),
        (
            string_key("product"),
            string_key("account_id"),
            string_key("cluster_id"),
            string_key("host"),
            proptest::option::of(prop_oneof![
                (1i64..65536).prop_map(toml::Value::Integer),
                "[0-9]{1,5}".prop_map(toml::Value::String),
            ])
            .prop_map(|v| v.map(|v| ("port", v))),
            string_key("database"),
            string_key("token"),
            string_key("mgmt_token"),
            proptest::option::of(any::<bool>().prop_map(|b| ("tls", toml::Value::Boolean(b)))),
            proptest::option::of(text().prop_map(|id| {
                let mut oauth = toml::Table::new();
                oauth.insert("client_id".into(), toml::Value::String(id));
                let mut auth = toml::Table::new();
                auth.insert("oauth2".into(), toml::Value::Table(oauth));
                ("auth", toml::Value::Table(auth))
            })),
        ),
        proptest::option::of("[ a-z#=\"]{0,12}"),
    )
        .prop_map(|(name, (a, b, c, d, e, f, g, h, i, j), comment)| GenProfile {
            name,
            keys: [a, b, c, d, e, f, g, h, i, j].into_iter().flatten().collect(),
            comment,
        })
}

fn render_config(profiles: &[GenProfile], crlf: bool) -> String {
    let mut out = String::from("# influxctl config (generated)\n\n");
    for p in profiles {
        out.push_str("[[profile]]\n");
        if let Some(c) = &p.comment {
            out.push_str(&format!("  # {c}\n"));
        }
        out.push_str(&format!("  name = {}\n", quote(&p.name)));
        for (k, v) in &p.keys {
            out.push_str(&format!("  {k} = {}\n", render_value(v)));
        }
        out.push('\n');
    }
    if crlf { out.replace('\n', "\r\n") } else { out }
}

fn cluster() -> impl Strategy<Value = Cluster> {
    let field = || proptest::option::of(text());
    (field(), field(), field(), field(), proptest::option::of("[0-9]{1,5}")).prop_map(
        |(product, account_id, cluster_id, host, port)| Cluster {
            product,
            account_id,
            cluster_id,
            host,
            port,
            tls: None,
        },
    )
}

/// Tokens with the two characters a TOML basic string must escape.
fn token() -> impl Strategy<Value = String> {
    "M\\.V1\\.test-[A-Za-z0-9_\"\\\\.=-]{1,40}"
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn derive_any_config_sets_only_mgmt_token_of_that_profile(
        profiles in proptest::collection::vec(gen_profile(), 0..5),
        pick in any::<prop::sample::Index>(),
        new_profile in profile_name(),
        missing in any::<bool>(),
        binding in cluster(),
        token in token(),
        crlf in any::<bool>(),
    ) {
        let text = render_config(&profiles, crlf);
        let path = Path::new("/config/influxctl/config.toml");
        let base = InfluxConfig::parse(&text, path)
            .map_err(|e| TestCaseError::fail(format!("generated config does not parse: {e}\n{text}")))?;
        let target = if missing || profiles.is_empty() {
            new_profile
        } else {
            profiles[pick.index(profiles.len())].name.clone()
        };
        let exists = profiles.iter().any(|p| p.name == target);
        let secret = Token::new(token.clone()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let derived = derive(Some(&base), path, &target, &binding, &[("mgmt_token", &secret)]);
        if !exists && binding.is_empty() {
            prop_assert!(derived.is_err(), "a missing profile without a binding is refused");
            return Ok(());
        }
        let derived = derived.map_err(|e| TestCaseError::fail(format!("derive failed: {e}")))?;

        // It parses, as influxctl will read it and as we read configs.
        let got: toml::Table = toml::from_str(&derived)
            .map_err(|e| TestCaseError::fail(format!("derived config is not TOML: {e}")))?;
        prop_assert!(InfluxConfig::parse(&derived, path).is_ok());

        // It is the input with only that profile's `mgmt_token` set (the first table of that
        // name, the one influxctl uses), or with the profile appended from the binding.
        let mut want: toml::Table = toml::from_str(&text)
            .map_err(|e| TestCaseError::fail(format!("input is not TOML: {e}")))?;
        let array = want
            .entry("profile")
            .or_insert_with(|| toml::Value::Array(Vec::new()))
            .as_array_mut()
            .ok_or_else(|| TestCaseError::fail("profile is not an array"))?;
        let first = array.iter_mut().find(|t| t.get("name").and_then(toml::Value::as_str) == Some(&target));
        match first {
            Some(toml::Value::Table(t)) => {
                t.insert("mgmt_token".into(), toml::Value::String(token.clone()));
            }
            _ => {
                prop_assert!(!exists);
                let mut t = toml::Table::new();
                t.insert("name".into(), toml::Value::String(target.clone()));
                for (k, v) in binding.fields() {
                    if let Some(v) = v {
                        t.insert(k.into(), toml::Value::String(v.to_owned()));
                    }
                }
                t.insert("mgmt_token".into(), toml::Value::String(token.clone()));
                array.push(toml::Value::Table(t));
            }
        }
        prop_assert_eq!(got, want);
    }
}
