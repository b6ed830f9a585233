//! Pins the protocol's JSON in both directions: requests parse from literal lines, responses
//! serialize to literal lines.

use super::*;
use crate::app::ListRow;
use crate::entry::{Cluster, EntryMeta, Origin};
use crate::error::ErrorKind;

fn parse(line: &str) -> (Value, Result<Request, Error>) {
    parse_request(line.as_bytes())
}

fn ok(line: &str) -> Request {
    let (_, r) = parse(line);
    r.unwrap_or_else(|e| panic!("{line}: {e}"))
}

/// The id echoed, the kind and the message of a refused line.
fn refused(line: &str) -> (Value, ErrorKind, String) {
    let (id, r) = parse(line);
    let err = r.expect_err(line);
    (id, err.kind(), err.to_string())
}

fn json(r: &Response) -> String {
    serde_json::to_string(r).unwrap()
}

#[test]
fn parse_hello_and_list_need_only_the_envelope() {
    let (id, r) = parse(r#"{"v":1,"id":1,"kind":"hello"}"#);
    assert_eq!((id, r.unwrap()), (Value::from(1), Request::Hello));
    assert_eq!(ok(r#"{"v":1,"id":"x","kind":"list"}"#), Request::List);
}

#[test]
fn parse_get_reads_every_field() {
    let r = ok(
        r#"{"v":1,"id":2,"kind":"get","profile":"prod","min_ttl_secs":3600,"interactive":true}"#,
    );
    let want = GetRequest { profile: "prod".into(), min_ttl_secs: Some(3600), interactive: true };
    assert_eq!(r, Request::Get(want));
}

#[test]
fn parse_get_defaults_interactive_false_and_null_is_absent() {
    let want = GetRequest { profile: "prod".into(), min_ttl_secs: None, interactive: false };
    assert_eq!(ok(r#"{"v":1,"id":2,"kind":"get","profile":"prod"}"#), Request::Get(want.clone()));
    let nulls =
        r#"{"v":1,"id":2,"kind":"get","profile":"prod","min_ttl_secs":null,"interactive":null}"#;
    assert_eq!(ok(nulls), Request::Get(want));
}

#[test]
fn parse_store_reads_every_field() {
    let line = r#"{"v":1,"id":3,"kind":"store","profile":"prod","token":"M.V1.test-store","expires_at":"2026-03-01T00:00:00Z","token_id":"t-1","description":"ci","store":"file"}"#;
    let Request::Store(s) = ok(line) else { panic!("not a store request") };
    assert_eq!(s.profile, "prod");
    assert_eq!(s.token.expose(), "M.V1.test-store");
    assert_eq!(s.expires_at, Some("2026-03-01T00:00:00Z".parse().unwrap()));
    assert_eq!(s.token_id.as_deref(), Some("t-1"));
    assert_eq!(s.description.as_deref(), Some("ci"));
    assert_eq!(s.store, Some(StoreKind::File));
    let Request::Store(s) =
        ok(r#"{"v":1,"id":3,"kind":"store","profile":"p","token":"M.V1.test-x"}"#)
    else {
        panic!("not a store request")
    };
    assert_eq!((s.expires_at, s.token_id, s.description, s.store), (None, None, None, None));
}

#[test]
fn parse_erase_reads_profile() {
    let r = ok(r#"{"v":1,"id":4,"kind":"erase","profile":"prod"}"#);
    assert_eq!(r, Request::Erase(EraseRequest { profile: "prod".into() }));
}

#[test]
fn parse_unknown_fields_are_ignored() {
    let r =
        ok(r#"{"v":1,"id":5,"kind":"erase","profile":"prod","color":"blue","extra":{"a":[1]}}"#);
    assert_eq!(r.kind(), Kind::Erase);
}

#[test]
fn parse_ids_of_any_json_type_are_echoed() {
    for id in ["null", "7", "-1.5", "\"abc\"", "true", "[1,\"a\"]", "{\"n\":{\"m\":null}}"] {
        let line = format!(r#"{{"v":1,"id":{id},"kind":"hello"}}"#);
        let (got, r) = parse(&line);
        assert_eq!(got, serde_json::from_str::<Value>(id).unwrap(), "{id}");
        assert!(r.is_ok(), "{id}");
    }
}

#[test]
fn parse_not_an_object_is_invalid_request_with_null_id() {
    for line in ["not json", "[1,2]", "\"hello\"", "42", "{\"v\":1,", "\u{feff}{}"] {
        let (id, kind, _) = refused(line);
        assert_eq!((id, kind), (Value::Null, ErrorKind::InvalidRequest), "{line}");
    }
    assert_eq!(refused("[1,2]").2, "invalid request: the line is not a JSON object");
    assert!(refused("nope").2.starts_with("invalid request: the line is not valid JSON"));
}

#[test]
fn parse_missing_envelope_fields_are_invalid_request_and_echo_id() {
    assert_eq!(
        refused(r#"{"id":9,"kind":"hello"}"#),
        (Value::from(9), ErrorKind::InvalidRequest, "invalid request: missing field `v`".into())
    );
    assert_eq!(refused(r#"{"v":1,"kind":"hello"}"#).2, "invalid request: missing field `id`");
    assert_eq!(refused(r#"{"v":1,"id":9}"#).0, Value::from(9));
    assert_eq!(refused(r#"{"v":1,"id":9}"#).2, "invalid request: missing field `kind`");
    assert_eq!(refused(r#"{"v":1,"id":9,"kind":3}"#).1, ErrorKind::InvalidRequest);
}

#[test]
fn parse_other_version_is_unsupported_even_with_unknown_kind() {
    for v in ["2", "0", "1.0", "\"1\"", "null"] {
        let line = format!(r#"{{"v":{v},"id":"a","kind":"from-v2"}}"#);
        let (id, kind, _) = refused(&line);
        assert_eq!((id, kind), (Value::from("a"), ErrorKind::UnsupportedVersion), "{v}");
    }
    assert_eq!(
        refused(r#"{"v":2,"id":1,"kind":"hello"}"#).2,
        "unsupported protocol version 2; this helper speaks version 1"
    );
}

#[test]
fn parse_unknown_kind_is_operation_not_supported() {
    let (id, kind, msg) = refused(r#"{"v":1,"id":1,"kind":"frobnicate"}"#);
    assert_eq!((id, kind), (Value::from(1), ErrorKind::OperationNotSupported));
    assert_eq!(msg, "request kind \"frobnicate\" is not supported");
}

#[test]
fn parse_missing_required_field_names_it() {
    let cases = [
        (r#"{"v":1,"id":1,"kind":"get"}"#, "invalid request: missing field `profile`"),
        (r#"{"v":1,"id":1,"kind":"erase"}"#, "invalid request: missing field `profile`"),
        (
            r#"{"v":1,"id":1,"kind":"store","profile":"p"}"#,
            "invalid request: missing field `token`",
        ),
        (
            r#"{"v":1,"id":1,"kind":"get","profile":null}"#,
            "invalid request: `profile` must be a string",
        ),
    ];
    for (line, want) in cases {
        assert_eq!(refused(line), (Value::from(1), ErrorKind::InvalidRequest, want.into()));
    }
}

#[test]
fn parse_wrong_types_name_the_field_not_the_value() {
    let cases = [
        (
            r#""profile":"p","min_ttl_secs":"SECRET1""#,
            "`min_ttl_secs` must be a whole number of seconds (0 or more)",
        ),
        (
            r#""profile":"p","min_ttl_secs":-5"#,
            "`min_ttl_secs` must be a whole number of seconds (0 or more)",
        ),
        (r#""profile":"p","interactive":"SECRET1""#, "`interactive` must be true or false"),
        (r#""profile":["SECRET1"]"#, "`profile` must be a string"),
    ];
    for (fields, want) in cases {
        let (_, kind, msg) = refused(&format!(r#"{{"v":1,"id":1,"kind":"get",{fields}}}"#));
        assert_eq!((kind, msg), (ErrorKind::InvalidRequest, format!("invalid request: {want}")));
    }
    let store = |extra: &str| {
        format!(r#"{{"v":1,"id":1,"kind":"store","profile":"p","token":"M.V1.test-x",{extra}}}"#)
    };
    for (extra, want) in [
        (r#""expires_at":"SECRET1""#, "`expires_at` must be an RFC 3339 time"),
        (r#""store":"memory""#, "`store` must be \"keyring\", \"file\", \"env\" or \"vault\""),
        (r#""store":"SECRET1""#, "`store` must be \"keyring\", \"file\", \"env\" or \"vault\""),
        (r#""token_id":5"#, "`token_id` must be a string"),
        (r#""description":false"#, "`description` must be a string"),
    ] {
        let (_, kind, msg) = refused(&store(extra));
        assert_eq!((kind, msg), (ErrorKind::InvalidRequest, format!("invalid request: {want}")));
    }
}

#[test]
fn parse_bad_token_is_refused_without_echo() {
    for token in [r#""M.V1.test SECRET""#, r#""M.V1.test\tSECRET""#, r#""""#, "12345678"] {
        let line = format!(r#"{{"v":1,"id":1,"kind":"store","profile":"p","token":{token}}}"#);
        let (id, kind, msg) = refused(&line);
        assert_eq!((id, kind), (Value::from(1), ErrorKind::InvalidRequest), "{token}");
        assert!(!msg.contains("SECRET") && !msg.contains("12345678"), "{msg}");
        assert!(msg.contains("`token`"), "{msg}");
    }
    let line = r#"{"v":1,"id":1,"kind":"store","profile":"p","token":"M.V1.test SECRET"}"#;
    assert_eq!(
        refused(line).2,
        "invalid request: `token`: invalid token: the token contains whitespace"
    );
}

#[test]
fn parse_duplicate_field_is_invalid_request() {
    let (_, kind, msg) = refused(r#"{"v":1,"id":1,"id":2,"kind":"hello"}"#);
    assert_eq!(
        (kind, msg.as_str()),
        (ErrorKind::InvalidRequest, "invalid request: duplicate field `id`")
    );
}

#[test]
fn serialize_hello_ok() {
    let r = Response::ok(
        Value::from(1),
        OkBody::Hello(HelloOk::new(vec![StoreKind::Env, StoreKind::File])),
    );
    let want = format!(
        r#"{{"v":1,"id":1,"ok":{{"versions":[1],"name":"influxctl-cred","version":"{}","kinds":["hello","get","store","erase","list"],"stores":["env","file"]}}}}"#,
        env!("CARGO_PKG_VERSION")
    );
    assert_eq!(json(&r), want);
}

#[test]
fn serialize_get_ok_with_and_without_expiry() {
    let body = GetOk {
        token: Token::new("M.V1.test-get".into()).unwrap(),
        token_id: Some("t-1".into()),
        expires_at: Some("2026-03-01T00:00:00Z".parse().unwrap()),
        store: StoreKind::Keyring,
        cluster: Cluster { product: Some("dedicated".into()), ..Cluster::default() },
        cache: Cache::Expires,
    };
    assert_eq!(
        json(&Response::ok(Value::from("a"), OkBody::Get(body))),
        r#"{"v":1,"id":"a","ok":{"token":"M.V1.test-get","token_id":"t-1","expires_at":"2026-03-01T00:00:00Z","store":"keyring","cluster":{"product":"dedicated","account_id":null,"cluster_id":null,"host":null,"port":null},"cache":"expires"}}"#
    );
    let body = GetOk {
        token: Token::new("M.V1.test-env".into()).unwrap(),
        token_id: None,
        expires_at: None,
        store: StoreKind::Env,
        cluster: Cluster::default(),
        cache: Cache::Never,
    };
    assert_eq!(
        json(&Response::ok(Value::Null, OkBody::Get(body))),
        r#"{"v":1,"id":null,"ok":{"token":"M.V1.test-env","token_id":null,"expires_at":null,"store":"env","cluster":{"product":null,"account_id":null,"cluster_id":null,"host":null,"port":null},"cache":"never"}}"#
    );
}

#[test]
fn serialize_store_erase_list_ok() {
    let r = Response::ok(
        Value::from(3),
        OkBody::Store(StoreOk { store: StoreKind::File, replaced: true }),
    );
    assert_eq!(json(&r), r#"{"v":1,"id":3,"ok":{"store":"file","replaced":true}}"#);
    let r = Response::ok(Value::from(4), OkBody::Erase(EraseOk { existed: false }));
    assert_eq!(json(&r), r#"{"v":1,"id":4,"ok":{"existed":false}}"#);
    let meta = EntryMeta {
        profile: "prod".into(),
        token_id: None,
        description: Some("ci".into()),
        created_at: "2026-01-02T03:04:05Z".parse().unwrap(),
        expires_at: None,
        origin: Origin::Stored,
        cluster: Cluster::default(),
    };
    let row =
        ListRow { store: StoreKind::File, meta, expiry: "never expires".into(), active: true };
    let r = Response::ok(Value::from(5), OkBody::List(ListOk { entries: vec![row] }));
    assert_eq!(
        json(&r),
        r#"{"v":1,"id":5,"ok":{"entries":[{"store":"file","profile":"prod","token_id":null,"description":"ci","created_at":"2026-01-02T03:04:05Z","expires_at":null,"origin":"stored","cluster":{"product":null,"account_id":null,"cluster_id":null,"host":null,"port":null},"expiry":"never expires","active":true}]}}"#
    );
}

#[test]
fn serialize_error_with_and_without_hint() {
    let r = Response::error(Value::from(6), &Error::NotFound { profile: "prod".into() });
    assert_eq!(
        json(&r),
        r#"{"v":1,"id":6,"error":{"kind":"not-found","message":"no token stored for profile \"prod\"","hint":"run `influxctl-cred store -p prod` (token on stdin), `influxctl-cred import`, or `influxctl-cred create -p prod`"}}"#
    );
    let r = Response::error(
        Value::Null,
        &Error::InvalidRequest("the line is not a JSON object".into()),
    );
    assert_eq!(
        json(&r),
        r#"{"v":1,"id":null,"error":{"kind":"invalid-request","message":"invalid request: the line is not a JSON object"}}"#
    );
}

#[test]
fn cache_rule_env_and_vault_never_expiry_expires_else_session() {
    let t: Timestamp = "2026-03-01T00:00:00Z".parse().unwrap();
    assert_eq!(cache_for(StoreKind::Env, None), Cache::Never);
    assert_eq!(cache_for(StoreKind::Env, Some(t)), Cache::Never);
    assert_eq!(cache_for(StoreKind::Vault, None), Cache::Never);
    assert_eq!(cache_for(StoreKind::Vault, Some(t)), Cache::Never);
    assert_eq!(cache_for(StoreKind::File, Some(t)), Cache::Expires);
    assert_eq!(cache_for(StoreKind::Keyring, None), Cache::Session);
    assert_eq!(serde_json::from_str::<Cache>("\"forever\"").unwrap(), Cache::Unknown);
    assert_eq!(serde_json::from_str::<Kind>("\"forever\"").unwrap(), Kind::Unknown);
}
