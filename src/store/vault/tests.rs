//! The HTTP classification of the vault client and the store's behaviour without a server
//! (the real-server tests are in tests/it).

use reqwest::Url;

use super::client::{Verdict, clean, redirect_allowed, transient};
use super::*;

fn addrs() -> Vec<Url> {
    vec![
        Url::parse("https://bao-a.example:8200/").unwrap(),
        Url::parse("https://bao-b.example:8200/").unwrap(),
    ]
}

fn url() -> Url {
    Url::parse("https://bao-a.example:8200/v1/secret/data/influxctl-cred/prod").unwrap()
}

#[test]
fn sealed_proxy_errors_and_standbys_are_retried_and_the_rest_is_the_callers() {
    let sealed = br#"{"errors":["Vault is sealed"]}"#;
    assert!(
        matches!(transient(503, sealed, None, &url(), &addrs()), Verdict::Retry(w) if w.contains("sealed"))
    );
    assert!(matches!(transient(503, b"", None, &url(), &addrs()), Verdict::Retry(_)));
    assert!(matches!(transient(502, b"", None, &url(), &addrs()), Verdict::Retry(_)));
    assert!(matches!(transient(429, b"", None, &url(), &addrs()), Verdict::Retry(_)));
    assert!(matches!(transient(412, b"", None, &url(), &addrs()), Verdict::Retry(_)));
    for status in [200, 204, 400, 403, 404, 405, 500] {
        assert_eq!(transient(status, b"{}", None, &url(), &addrs()), Verdict::Answer, "{status}");
    }
}

#[test]
fn the_upgrading_answer_is_retried_but_other_400s_are_not() {
    let upgrading = br#"{"errors":["Upgrading from non-versioned to versioned data. This backend will be unavailable for a brief period and will resume service shortly."]}"#;
    assert!(matches!(transient(400, upgrading, None, &url(), &addrs()), Verdict::Retry(_)));
    let waiting = br#"{"errors":["Waiting for the primary to upgrade from non-versioned to versioned data. This backend will be unavailable for a brief period and will resume service when the primary is finished."]}"#;
    assert!(matches!(transient(400, waiting, None, &url(), &addrs()), Verdict::Retry(_)));
    let leaderless = br#"{"errors":["local node not active but active cluster node not found"]}"#;
    assert!(
        matches!(transient(500, leaderless, None, &url(), &addrs()), Verdict::Retry(w) if w.contains("election"))
    );
    assert_eq!(
        transient(500, br#"{"errors":["internal error"]}"#, None, &url(), &addrs()),
        Verdict::Answer
    );
    let cas = br#"{"errors":["check-and-set parameter did not match the current version"]}"#;
    assert_eq!(transient(400, cas, None, &url(), &addrs()), Verdict::Answer);
}

#[test]
fn redirects_are_followed_only_to_configured_addresses_port_included() {
    let to = |loc: &str| transient(307, b"", Some(loc), &url(), &addrs());
    let same = "https://bao-b.example:8200/v1/secret/data/influxctl-cred/prod";
    assert_eq!(to(same), Verdict::Follow(Url::parse(same).unwrap()));
    assert!(matches!(to("/v1/secret/data/influxctl-cred/prod"), Verdict::Follow(_)), "relative");
    let default_port = [Url::parse("https://bao-c.example/").unwrap()];
    let explicit = Url::parse("https://BAO-C.example:443/v1/x").unwrap();
    assert!(redirect_allowed(&explicit, &default_port), "443 is https's own port");
    for evil in [
        // Another port of a configured host is another server.
        "https://bao-a.example:8300/v1/secret/data/influxctl-cred/prod",
        "https://bao-b.example/v1/secret/data/influxctl-cred/prod",
        "https://evil.example:8200/v1/secret/data/influxctl-cred/prod",
        "http://bao-a.example:8200/v1/secret/data/influxctl-cred/prod",
        "https://bao-a.example:8200/steal",
        "https://user:pw@bao-b.example:8200/v1/x",
    ] {
        assert!(matches!(to(evil), Verdict::Retry(w) if w.contains("not followed")), "{evil}");
    }
    assert!(matches!(transient(307, b"", None, &url(), &addrs()), Verdict::Retry(_)));
    // Only 307/308 keep the method and body; a 302 to a good host is not followed.
    assert!(matches!(transient(302, b"", Some(same), &url(), &addrs()), Verdict::Retry(_)));
    assert!(!redirect_allowed(&Url::parse("https://BAO-B.example:8200/v2/x").unwrap(), &addrs()));
    assert!(redirect_allowed(&Url::parse("https://BAO-B.example:8200/v1/x").unwrap(), &addrs()));
    assert!(!redirect_allowed(&Url::parse("https://BAO-B.example:1/v1/x").unwrap(), &addrs()));
}

#[test]
fn server_messages_lose_tokens_and_control_characters() {
    let t = Token::new("s.vaultsecrettoken".into()).unwrap();
    let text = clean("bad token s.vaultsecrettoken near M.V1.test-abcdef\x1b[31m\nx", Some(&t));
    assert!(!text.contains("s.vaultsecrettoken") && !text.contains("M.V1.test"), "{text}");
    assert!(!text.chars().any(char::is_control), "{text:?}");
    assert!(clean(&"x".repeat(1000), None).chars().count() <= 301);
    let hidden = clean("s.vault\u{200b}secrettoken and M.V1.\u{2060}test-abcdef", Some(&t));
    assert!(!hidden.contains("secrettoken") && !hidden.contains("test-abcdef"), "{hidden}");
}

#[test]
fn constructing_the_store_does_no_io_and_a_missing_address_is_store_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let paths = Paths::under(dir.path().to_owned());
    let settings = Settings::parse("store = \"vault\"", &dir.path().join("config.toml")).unwrap();
    let store = VaultStore::new(&paths, &settings);
    assert_eq!(store.kind(), StoreKind::Vault);
    assert!(!store.may_hold("prod"));
    assert!(store.versioned().is_some());
    assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none(), "nothing written");
    // Without BAO_ADDR / VAULT_ADDR in the test process, the first verb says what is missing.
    if std::env::var_os("BAO_ADDR").is_none() && std::env::var_os("VAULT_ADDR").is_none() {
        let err = store.get("prod").unwrap_err();
        assert_eq!(err.exit_code(), 5, "{err}");
        assert!(err.to_string().contains("no server address"), "{err}");
    }
}
