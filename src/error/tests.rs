use super::*;

#[test]
fn exit_codes_match_the_spec_table() {
    let table = [
        (ErrorKind::Other, 1),
        (ErrorKind::InvalidRequest, 2),
        (ErrorKind::NotFound, 3),
        (ErrorKind::Expired, 4),
        (ErrorKind::StoreUnavailable, 5),
        (ErrorKind::InteractionRequired, 6),
        (ErrorKind::ClusterMismatch, 7),
        (ErrorKind::InfluxctlFailed, 8),
        (ErrorKind::ApiError, 9),
        (ErrorKind::OperationNotSupported, 2),
        (ErrorKind::UnsupportedVersion, 2),
        (ErrorKind::Locked, 75),
    ];
    for (kind, code) in table {
        assert_eq!(kind.exit_code(), code, "{kind:?}");
        let json = serde_json::to_string(&kind).unwrap();
        assert_eq!(json, format!("\"{}\"", kind.as_str()));
    }
}

#[test]
fn unknown_kind_deserializes() {
    let k: ErrorKind = serde_json::from_str("\"from-the-future\"").unwrap();
    assert_eq!(k, ErrorKind::Unknown);
}

#[test]
fn shield_turns_a_parser_panic_into_invalid_request() {
    let err = shield(std::path::Path::new("/x/config.toml"), || -> Result<()> {
        panic!("M.V1.test-0123456789abcdefTOKEN")
    })
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert!(err.to_string().contains("/x/config.toml"), "{err}");
    assert!(!err.to_string().contains("M.V1."), "{err}");
    assert!(!in_shield());
}

#[test]
fn redact_masks_every_token_and_keeps_the_rest() {
    let t = "M.V1.test-0123456789abcdefTOKEN";
    let msg = format!("profile {t:?} not found; run `store -p {t}` or -p={t}, m.v1.x+/=y");
    let shown = redact(&msg);
    assert!(!shown.contains("0123456789") && !shown.contains("x+/=y"), "{shown}");
    assert_eq!(shown.matches(REDACTED).count(), 4, "{shown}");
    assert!(shown.starts_with("profile \"<redacted token>\" not found; run `store -p "));
    for keep in ["M.V1.… prefix", "plain text, ünïcode", "M.V1.", "M.V1. x"] {
        assert_eq!(redact(keep), keep);
    }
}

#[test]
fn context_keeps_kind_and_hint() {
    let e = Error::NotFound { profile: "prod".into() }.context("reading token");
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert!(e.hint().unwrap().contains("store -p prod"));
    assert_eq!(e.to_string(), "reading token: no token stored for profile \"prod\"");
}
