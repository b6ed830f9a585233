use super::*;

fn sample() -> Entry {
    let mut e = Entry::new("prod", Token::new("M.V1.test-entry".into()).unwrap(), Origin::Stored);
    e.created_at = "2026-01-02T03:04:05Z".parse().unwrap();
    e.cluster.product = Some("dedicated".into());
    e.cluster.account_id = Some("acc".into());
    e
}

#[test]
fn json_is_pinned() {
    let json = String::from_utf8(sample().to_secret_json().to_vec()).unwrap();
    assert_eq!(
        json,
        r#"{"profile":"prod","token":"M.V1.test-entry","token_id":null,"description":null,"created_at":"2026-01-02T03:04:05Z","expires_at":null,"origin":"stored","cluster":{"product":"dedicated","account_id":"acc","cluster_id":null,"host":null,"port":null}}"#
    );
    let back = Entry::from_secret_json(json.as_bytes(), "file", "prod").unwrap();
    assert_eq!(back, sample());
}

#[test]
fn corrupt_json_error_hides_content() {
    let err = Entry::from_secret_json(b"{\"token\":\"M.V1.test-leak", "file", "prod").unwrap_err();
    assert!(!err.to_string().contains("leak"));
    assert_eq!(err.kind(), crate::error::ErrorKind::Other);
}

#[test]
fn entry_of_another_profile_is_corrupt() {
    let json = sample().to_secret_json();
    assert!(Entry::from_secret_json(&json, "file", "staging").is_err());
}

fn bound() -> Cluster {
    Cluster {
        product: Some("clustered".into()),
        host: Some("Influx.Example.com.".into()),
        port: Some("443".into()),
        tls: Some(Trust::default()),
        ..Cluster::default()
    }
}

#[test]
fn check_field_gained_or_lost_is_mismatch() {
    let stored = bound();
    assert_eq!(stored.check("p", &bound()).unwrap(), Binding::Matches);
    let mut now = bound();
    now.host = Some("influx.example.com".into());
    assert_eq!(stored.check("p", &now).unwrap(), Binding::Matches, "case and trailing dot");
    type Change = Box<dyn Fn(&mut Cluster)>;
    let variants: Vec<Change> = vec![
        Box::new(|c| c.account_id = Some("a".into())),
        Box::new(|c| c.host = None),
        Box::new(|c| c.host = Some("other.example.com".into())),
        Box::new(|c| c.port = Some("8443".into())),
        Box::new(|c| c.port = None),
        Box::new(|c| c.product = None),
        Box::new(|c| c.tls = Some(Trust { disable: true, ..Trust::default() })),
        Box::new(|c| c.tls = Some(Trust { insecure: true, ..Trust::default() })),
        Box::new(|c| c.tls = Some(Trust { ca: Some("/ca.pem".into()), ..Trust::default() })),
    ];
    for change in variants {
        let mut now = bound();
        change(&mut now);
        let err = stored.check("p", &now).unwrap_err();
        assert_eq!(err.kind(), crate::error::ErrorKind::ClusterMismatch, "{now:?}");
    }
    // A stored ca that the profile no longer has, or has changed, is a mismatch too.
    let mut with_ca = bound();
    with_ca.tls = Some(Trust { ca: Some("/ca.pem".into()), ..Trust::default() });
    assert!(with_ca.check("p", &bound()).is_err());
    let mut other_ca = with_ca.clone();
    other_ca.tls = Some(Trust { ca: Some("/other.pem".into()), ..Trust::default() });
    assert!(with_ca.check("p", &other_ca).is_err());
}

#[test]
fn check_legacy_binding_matches_only_a_profile_without_tls() {
    let mut legacy = bound();
    legacy.tls = None;
    assert!(legacy.is_legacy());
    assert_eq!(legacy.check("p", &bound()).unwrap(), Binding::MatchesLegacy);
    let mut now = bound();
    now.tls = Some(Trust { disable: true, ..Trust::default() });
    assert!(legacy.check("p", &now).is_err());
    assert_eq!(Cluster::default().check("p", &now).unwrap(), Binding::Unbound);
}

#[test]
fn legacy_json_reads_as_legacy_and_full_binding_round_trips() {
    let old =
        r#"{"product":"dedicated","account_id":"a","cluster_id":"c","host":null,"port":null}"#;
    let c: Cluster = serde_json::from_str(old).unwrap();
    assert!(c.is_legacy());
    let mut full = c.clone();
    full.tls = Some(Trust::default());
    let json = serde_json::to_string(&full).unwrap();
    assert!(json.contains(r#""tls":{"disable":false,"insecure":false,"ca":null}"#), "{json}");
    assert_eq!(serde_json::from_str::<Cluster>(&json).unwrap(), full);
}

#[test]
fn validate_token_id_refuses_flags_and_paths() {
    assert!(validate_token_id("0a1b2c3d-0000-4000-8000-00000000beef").is_ok());
    for bad in ["", "--help", "-rf", "a b", "../x", "a/b", "x;y", &"a".repeat(129)] {
        assert!(validate_token_id(bad).is_err(), "{bad}");
    }
}

#[test]
fn check_description_refuses_long_and_control_characters() {
    assert!(check_description(&"ü".repeat(MAX_DESCRIPTION)).is_ok());
    for bad in ["x".repeat(MAX_DESCRIPTION + 1), "two\nlines".into(), "esc\u{1b}[2J".into()] {
        let err = check_description(&bad).unwrap_err();
        assert_eq!(err.kind(), crate::error::ErrorKind::InvalidRequest, "{bad:?}");
    }
}

#[test]
fn expiry_state_reads_well() {
    let mut m = sample().meta();
    let now: Timestamp = "2026-01-10T00:00:00Z".parse().unwrap();
    assert_eq!(m.expiry_state(now), "never expires");
    m.expires_at = Some("2026-01-13T01:00:00Z".parse().unwrap());
    assert_eq!(m.expiry_state(now), "expires in 3d");
    m.expires_at = Some("2026-01-09T00:00:00Z".parse().unwrap());
    assert_eq!(m.expiry_state(now), "expired");
}
