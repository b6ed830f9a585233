use std::collections::BTreeMap;

use super::*;
use crate::entry::{Cluster, EntryMeta, Origin, Trust};

fn layout() -> Layout {
    Layout::new(&VaultSettings::default())
}

fn meta(profile: &str) -> EntryMeta {
    EntryMeta {
        profile: profile.to_owned(),
        token_id: Some("0e4a-1".into()),
        description: Some("ci runner".into()),
        created_at: "2026-01-02T03:04:05Z".parse().unwrap(),
        expires_at: Some("2026-04-02T03:04:05Z".parse().unwrap()),
        origin: Origin::Rotated,
        cluster: Cluster {
            product: Some("dedicated".into()),
            account_id: Some("acc".into()),
            cluster_id: Some("clu".into()),
            tls: Some(Trust::default()),
            ..Cluster::default()
        },
    }
}

#[test]
fn entries_live_under_the_prefix_and_no_name_climbs_out() {
    let l = layout();
    assert_eq!(l.data_path("prod"), "secret/data/influxctl-cred/prod");
    assert_eq!(l.metadata_path("prod"), "secret/metadata/influxctl-cred/prod");
    assert_eq!(l.list_path(), "secret/metadata/influxctl-cred");
    for evil in ["..", "../../sys/raw", "a/b", ".", "x/../../y", "%2E%2E", "?list=true", "#f"] {
        let p = l.data_path(evil);
        let name = p.strip_prefix("secret/data/influxctl-cred/").unwrap();
        assert!(!name.contains('/') && !name.starts_with('.'), "{evil} -> {p}");
        assert!(!name.contains('?') && !name.contains('#'), "{evil} -> {p}");
        assert_eq!(crate::store::decode_profile(name).as_deref(), Some(evil));
        // In the URL the `%` of the name is escaped, so the server sees the name itself.
        let url = reqwest::Url::parse("https://bao:8200/v1/").unwrap().join(&url_path(&p)).unwrap();
        assert!(url.path().starts_with("/v1/secret/data/influxctl-cred/"), "{url}");
        assert_eq!(url.path().matches('/').count(), 5, "{url}");
        assert!(url.query().is_none() && url.fragment().is_none(), "{url}");
    }
}

#[test]
fn a_read_gives_the_data_and_its_version_and_deleted_versions_are_absent() {
    let body = br#"{"data":{"data":{"profile":"p","token":"M.V1.test-kv"},"metadata":{"version":4,"deletion_time":"","destroyed":false}}}"#;
    match parse_read(200, body).unwrap() {
        Read::Present(bytes, v, _) => {
            assert_eq!(v, 4);
            assert_eq!(&bytes[..], br#"{"profile":"p","token":"M.V1.test-kv"}"#);
        }
        Read::Absent(_) => panic!("present"),
    }
    let deleted = br#"{"data":{"data":null,"metadata":{"version":5,"deletion_time":"2026-01-01T00:00:00Z","destroyed":false}}}"#;
    assert!(matches!(parse_read(404, deleted).unwrap(), Read::Absent(5)));
    assert!(matches!(parse_read(200, deleted).unwrap(), Read::Absent(5)));
    let destroyed = br#"{"data":{"data":{"a":1},"metadata":{"version":2,"destroyed":true}}}"#;
    assert!(matches!(parse_read(200, destroyed).unwrap(), Read::Absent(2)));
    assert!(matches!(parse_read(404, br#"{"errors":[]}"#).unwrap(), Read::Absent(0)));
    assert!(matches!(parse_read(404, b"").unwrap(), Read::Absent(0)));
    assert_eq!(parse_read(200, b"<html>").err().unwrap().exit_code(), 5);
}

#[test]
fn writes_carry_cas_and_refuse_data_that_is_not_an_object() {
    let body = write_body(br#"{"profile":"p"}"#, 7).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["options"]["cas"], 7);
    assert_eq!(v["data"]["profile"], "p");
    assert_eq!(
        write_body(br#"{"profile":"p"}"#, 0).map(|b| b.to_vec()).unwrap()[..19],
        *br#"{"options":{"cas":0"#
    );
    for bad in [&b"[1]"[..], b"\"x\"", b"{", b"{} {}", b""] {
        assert_eq!(write_body(bad, 1).unwrap_err().exit_code(), 2);
    }
    assert_eq!(parse_written(br#"{"data":{"version":3,"created_time":"x"}}"#).unwrap(), 3);
    assert!(parse_written(b"{}").is_err());
}

#[test]
fn custom_metadata_round_trips_without_the_token_and_splits_long_values() {
    let m = meta("prod");
    let custom = to_custom(&m);
    assert!(custom.values().all(|v| v.len() <= 512));
    assert!(!custom.values().any(|v| v.contains("M.V1")));
    assert_eq!(custom["profile"], "prod");
    assert_eq!(custom["origin"], "rotated");
    assert_eq!(from_custom(&custom), Some(m.clone()));

    let mut long = meta("long");
    long.description = Some("é".repeat(1000));
    long.cluster.tls =
        Some(Trust { ca: Some(format!("/{}", "c".repeat(1500))), ..Trust::default() });
    let custom = to_custom(&long);
    assert!(custom.values().all(|v| v.len() <= 512), "{custom:?}");
    assert!(custom.len() <= 64);
    assert!(custom.contains_key("description~4"));
    assert_eq!(from_custom(&custom), Some(long));

    let mut bare = meta("bare");
    bare.token_id = None;
    bare.expires_at = None;
    bare.cluster = Cluster::default();
    assert_eq!(from_custom(&to_custom(&bare)), Some(bare));
}

#[test]
fn metadata_that_is_not_ours_is_not_read_as_ours() {
    let mut custom: BTreeMap<String, String> = BTreeMap::new();
    assert_eq!(from_custom(&custom), None);
    custom.insert("owner".into(), "team-a".into());
    assert_eq!(from_custom(&custom), None);
    let mut ours = to_custom(&meta("p"));
    ours.insert("influxctl-cred".into(), "2".into());
    assert_eq!(from_custom(&ours), None, "a newer format");
    let mut broken = to_custom(&meta("p"));
    broken.insert("created_at".into(), "yesterday".into());
    assert_eq!(from_custom(&broken), None);
}

#[test]
fn list_answers_only_secrets_and_metadata_knows_whether_the_latest_version_lives() {
    let keys = parse_list(br#"{"data":{"keys":["prod","team/","a%2Fb"]}}"#).unwrap();
    assert_eq!(keys, vec!["prod".to_owned(), "a%2Fb".to_owned()]);
    let live = parse_metadata(br#"{"data":{"current_version":2,"versions":{"1":{"deletion_time":"x"},"2":{"deletion_time":""}}}}"#).unwrap();
    assert!(live.live());
    let gone = parse_metadata(br#"{"data":{"current_version":2,"versions":{"2":{"deletion_time":"2026-01-01T00:00:00Z"}}}}"#).unwrap();
    assert!(!gone.live());
    let none = parse_metadata(br#"{"data":{"current_version":0,"versions":{}}}"#).unwrap();
    assert!(!none.live());
}

#[test]
fn refusals_name_path_and_capability_and_a_lost_cas_is_a_conflict() {
    let p = "secret/data/influxctl-cred/prod";
    let e =
        refusal(403, &["1 error occurred:\n\t* permission denied\n\n".into()], Op::Read, p, None);
    assert_eq!(e.exit_code(), 5);
    let text = format!("{e} {}", e.hint().unwrap());
    assert!(text.contains("\"read\" on secret/data/influxctl-cred/prod"), "{text}");
    let e = refusal(403, &[], Op::Write { new: true }, p, Some("team-a"));
    assert!(e.to_string().contains("\"create\"") && e.to_string().contains("team-a"), "{e}");
    assert!(
        refusal(403, &[], Op::Write { new: false }, p, None).to_string().contains("\"update\"")
    );
    assert!(
        refusal(403, &[], Op::List, "secret/metadata/influxctl-cred", None)
            .to_string()
            .contains("\"list\" on secret/metadata/influxctl-cred")
    );
    assert!(refusal(403, &[], Op::Delete, p, None).to_string().contains("\"delete\""));
    let e = refusal(
        400,
        &["check-and-set parameter did not match the current version".into()],
        Op::Write { new: false },
        p,
        None,
    );
    assert_eq!(e.exit_code(), 75);
    assert!(e.to_string().contains("another writer"), "{e}");
    let e = refusal(403, &["permission denied".into(), "invalid token".into()], Op::Read, p, None);
    assert!(e.to_string().contains("invalid or expired"), "{e}");
    assert_eq!(refusal(500, &["internal error".into()], Op::Read, p, None).exit_code(), 5);
}

#[test]
fn a_secret_written_by_hand_with_a_token_reads_as_an_entry() {
    let created = Some("2026-02-03T04:05:06Z".parse().unwrap());
    let e = entry_from_data(
        br#"{"token":"M.V1.test-byhand","token_id":"abc-1"}"#,
        "prod",
        created,
        "secret/influxctl-cred/prod",
    )
    .unwrap();
    assert_eq!((e.profile.as_str(), e.token.expose()), ("prod", "M.V1.test-byhand"));
    assert_eq!(e.token_id.as_deref(), Some("abc-1"));
    assert_eq!(Some(e.created_at), created);
    assert!(e.cluster.is_empty(), "unbound: bound on first use");
    for bad in [
        &br#"{"tok":"M.V1.test-x"}"#[..],
        br#"{"token":"M.V1.test-x","token_id":"--flag"}"#,
        br#"{"token":"has space"}"#,
        br#"{"profile":"other","token":"M.V1.test-x","created_at":"2026-01-01T00:00:00Z","origin":"stored"}"#,
        b"[]",
    ] {
        let err = entry_from_data(bad, "prod", None, "secret/influxctl-cred/prod").unwrap_err();
        assert_eq!(err.exit_code(), 1, "{err}");
        assert!(!err.to_string().contains("M.V1.test-x"), "{err}");
    }
}

#[test]
fn the_documented_bao_kv_put_recipe_reads_and_a_bad_field_is_named_with_the_fix() {
    // What `bao kv put … profile=prod token=@token.txt origin=stored created_at=…` writes when
    // token.txt ends in a newline: every value a string.
    let recipe = br#"{"created_at":"2026-12-01T00:00:00Z","origin":"stored","profile":"prod","token":"M.V1.test-recipe-0123456789\n"}"#;
    let e = entry_from_data(recipe, "prod", None, "secret/influxctl-cred/prod").unwrap();
    assert_eq!(e.token.expose(), "M.V1.test-recipe-0123456789");
    assert_eq!(e.created_at, "2026-12-01T00:00:00Z".parse().unwrap());
    assert_eq!((e.origin, e.expires_at), (Origin::Stored, None));
    let strings = br#"{"token":"M.V1.test-x","token_id":"","expires_at":"2030-01-01T00:00:00Z","cluster":"{\"product\":\"dedicated\",\"cluster_id\":\"c1\"}"}"#;
    let e = entry_from_data(strings, "prod", None, "secret/influxctl-cred/prod").unwrap();
    assert_eq!((e.token_id, e.expires_at), (None, Some("2030-01-01T00:00:00Z".parse().unwrap())));
    assert_eq!(e.cluster.cluster_id.as_deref(), Some("c1"));
    for (bad, field, what) in [
        (&br#"{"profile":"prod","token":"M.V1.test-x yz\n"}"#[..], "token", "whitespace"),
        (br#"{"token":"M.V1.test-x\u001b[2J"}"#, "token", "control"),
        (br#"{"token":7}"#, "token", "not a string"),
        (br#"{"profile":"prod"}"#, "token", "missing"),
        (br#"{"token":"M.V1.test-x","expires_at":"tomorrow"}"#, "expires_at", "RFC 3339"),
        (br#"{"token":"M.V1.test-x","created_at":"2026-13-01"}"#, "created_at", "RFC 3339"),
        (br#"{"token":"M.V1.test-x","cluster":"dedicated"}"#, "cluster", "JSON object"),
        (br#"{"token":"M.V1.test-x","expires":"2030-01-01T00:00:00Z"}"#, "expires", "not a field"),
        (br#"{"token":"M.V1.test-x","description":"two\nlines"}"#, "description", "one line"),
    ] {
        let err = entry_from_data(bad, "prod", None, "secret/influxctl-cred/prod").unwrap_err();
        let text = err.to_string();
        assert_eq!(err.exit_code(), 1, "{text}");
        assert!(text.contains(&format!("field `{field}`: ")) && text.contains(what), "{text}");
        assert!(text.contains("bao kv patch"), "says how to fix it: {text}");
        assert!(!text.contains("line 1") && !text.contains("column"), "{text}");
        assert!(!text.contains("M.V1.test-x"), "{text}");
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

    /// No profile name, however strange, gives a URL outside `<mount>/data/<prefix>/`: one path
    /// segment, which the server decodes back to the name `decode_profile` reverses.
    #[test]
    fn any_profile_stays_one_segment_under_the_prefix(profile in "\\PC{1,40}") {
        let l = layout();
        let base = reqwest::Url::parse("https://bao:8200/v1/").unwrap();
        let url = base.join(&url_path(&l.data_path(&profile))).unwrap();
        let rest = url.path().strip_prefix("/v1/secret/data/influxctl-cred/");
        proptest::prop_assert!(rest.is_some(), "{url}");
        let rest = rest.unwrap_or_default();
        proptest::prop_assert!(!rest.contains('/'), "{url}");
        proptest::prop_assert!(url.query().is_none() && url.fragment().is_none(), "{url}");
        let decoded = percent_decode(rest);
        proptest::prop_assert_eq!(crate::store::decode_profile(&decoded), Some(profile));
    }
}

/// What the server does with a path segment: `%XX` → the byte.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let hex = s.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok());
        if let (b'%', Some(v)) = (b[i], hex) {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

#[test]
fn a_missing_mount_is_not_a_missing_secret() {
    let p = "nomount/data/influxctl-cred/prod";
    let route = vec![
        "no handler for route \"nomount/data/influxctl-cred/prod\". route entry not found."
            .to_owned(),
    ];
    let e = no_such_mount(404, &route, p).unwrap();
    assert_eq!(e.exit_code(), 5);
    assert!(e.to_string().contains(p), "{e}");
    assert!(no_such_mount(404, &[], p).is_none(), "an absent secret");
    assert!(no_such_mount(403, &route, p).is_none());
}
