use super::*;
use crate::error::ErrorKind;

fn token() -> Token {
    Token::new("M.V1.test-client-secret".into()).unwrap()
}

#[test]
fn status_401_and_403_name_the_token_problem() {
    let e = status_error(401, br#"{"code":401,"message":"unauthorized"}"#, "prod", &token());
    assert_eq!((e.kind(), e.exit_code()), (ErrorKind::ApiError, 9));
    let msg = e.to_string();
    assert!(msg.contains("invalid") && msg.contains("prod") && msg.contains("401"), "{msg}");
    assert!(e.hint().unwrap().contains("store -p prod"));
    let e = status_error(403, br#"{"code":403,"message":"forbidden"}"#, "prod", &token());
    assert!(e.to_string().contains("under-privileged"), "{e}");
}

#[test]
fn status_error_carries_code_and_message() {
    let e = status_error(409, br#"{"code":409,"message":"conflict"}"#, "p", &token());
    match &e {
        Error::Api { status, code, message } => {
            assert_eq!(
                (*status, code.as_deref(), message.as_str()),
                (Some(409), Some("409"), "conflict")
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(e.exit_code(), 9);
    assert!(e.to_string().contains("HTTP 409") && e.to_string().contains("conflict"));
}

#[test]
fn status_error_without_json_uses_the_reason_phrase() {
    let e = status_error(502, b"<html>bad gateway</html>", "p", &token());
    assert!(e.to_string().contains("bad gateway") && e.to_string().contains("502"), "{e}");
    assert_eq!(e.exit_code(), 9);
}

#[test]
fn status_error_masks_our_token_and_control_characters() {
    let body = br#"{"code":400,"message":"bad token M.V1.test-client-secret\u001b[31m here"}"#;
    let e = status_error(400, body, "p", &token());
    let msg = e.to_string();
    assert!(!msg.contains("test-client-secret") && !msg.contains('\u{1b}'), "{msg}");
    let long = format!(r#"{{"code":500,"message":"{}"}}"#, "x".repeat(5000));
    assert!(status_error(500, long.as_bytes(), "p", &token()).to_string().len() < 500);
}

#[test]
fn status_error_masks_a_split_or_truncated_echo_of_our_token() {
    let t = Token::new("M.V1.test-0123456789abcdefTOKEN".into()).unwrap();
    let bodies = [
        "token M.V1.test-\u{200b}0123456789abcdefTOKEN is bad",
        "token M.V1.te\u{0007}st-0123\u{feff}456789abcdefTOKEN is bad",
        "token M.V1.test-0123456 (truncated) is bad",
        "token M.V1.test-0123456789ab… is bad",
    ];
    for b in bodies {
        let body = serde_json::json!({"code": 400, "message": b}).to_string();
        let msg = status_error(400, body.as_bytes(), "p", &t).to_string();
        assert!(!msg.contains("0123456"), "{b:?} -> {msg}");
        assert!(msg.contains("<redacted>") && msg.contains("is bad"), "{msg}");
    }
    // A short shared prefix is not the token.
    assert_eq!(mask_token("M.V1.test-x", t.expose()), "M.V1.test-x");
}

#[test]
fn check_id_refuses_path_tricks() {
    assert!(check_id("55555555-5555-4555-8555-555555555555").is_ok());
    for bad in ["", "../x", "a/b", "a?b", "a b"] {
        assert!(check_id(bad).is_err(), "{bad}");
    }
}

#[test]
fn timeouts_default_is_bounded() {
    let t = Timeouts::default();
    assert!(t.connect <= t.total && t.total <= Duration::from_secs(60));
}
