use super::*;
use crate::error::ErrorKind;

const A: &str = "11111111-1111-4111-8111-111111111111";
const C: &str = "33333333-3333-4333-8333-333333333333";

fn dedicated() -> Cluster {
    Cluster {
        product: Some("dedicated".into()),
        account_id: Some(A.into()),
        cluster_id: Some(C.into()),
        ..Cluster::default()
    }
}

fn clustered(host: &str, port: Option<&str>) -> Cluster {
    Cluster {
        product: Some("clustered".into()),
        host: Some(host.into()),
        port: port.map(str::to_owned),
        ..Cluster::default()
    }
}

fn tls_disabled() -> TlsOptions {
    TlsOptions { disable: true, ..TlsOptions::default() }
}

#[test]
fn resolve_dedicated_uses_console_and_ids() {
    let e = Endpoint::resolve("p", &dedicated(), TlsOptions::default(), None).unwrap();
    assert_eq!(
        e.url("/databases"),
        format!("https://console.influxdata.com/api/v0/accounts/{A}/clusters/{C}/databases")
    );
}

#[test]
fn resolve_clustered_builds_host_port_and_honours_disable() {
    let c = clustered("influx.example.com", Some("8443"));
    let e = Endpoint::resolve("p", &c, TlsOptions::default(), None).unwrap();
    assert_eq!(e.url("/tokens"), "https://influx.example.com:8443/api/v0/tokens");
    let e = Endpoint::resolve("p", &c, tls_disabled(), None).unwrap();
    assert_eq!(e.url("/tokens"), "http://influx.example.com:8443/api/v0/tokens");
    let e = Endpoint::resolve("p", &clustered("::1", None), TlsOptions::default(), None);
    assert_eq!(e.unwrap().url("/databases"), "https://[::1]/api/v0/databases");
}

/// The fuzzer's find: `[:::]` looked like IPv6 (hex digits and colons) but is no address,
/// so the URL built from it did not parse.
#[test]
fn resolve_clustered_refuses_colon_hosts_that_are_not_ipv6() {
    for host in ["[:::]", ":::", "1:2:3:4:5:6:7:8:9", "fe80::1::2"] {
        let e = Endpoint::resolve("p", &clustered(host, None), TlsOptions::default(), None);
        assert_eq!(e.unwrap_err().kind(), ErrorKind::InvalidRequest, "{host}");
    }
    // Its second find: NULs inside the override became %00 path segments.
    let e = Endpoint::resolve("p", &dedicated(), TlsOptions::default(), Some("http://a//\0"));
    assert_eq!(e.unwrap_err().kind(), ErrorKind::InvalidRequest);
}

#[test]
fn resolve_override_replaces_base_and_keeps_resource() {
    let e =
        Endpoint::resolve("p", &dedicated(), TlsOptions::default(), Some("http://127.0.0.1:4010/"))
            .unwrap();
    assert_eq!(e.url("/tokens"), format!("http://127.0.0.1:4010/accounts/{A}/clusters/{C}/tokens"));
    // Clustered needs no host when the base is given; `disable` does not rewrite it.
    let c = Cluster { product: Some("clustered".into()), ..Cluster::default() };
    let e = Endpoint::resolve("p", &c, tls_disabled(), Some("https://mock:1/api/v0")).unwrap();
    assert_eq!(e.url("/databases"), "https://mock:1/api/v0/databases");
    // The fuzzer's find: what the URL parser ignores (trailing spaces before a slash) must
    // not stay in the base, or the URLs built on it do not parse.
    let e = Endpoint::resolve("p", &c, tls_disabled(), Some("http://mock:1/v0  /")).unwrap();
    let url = e.url("/databases");
    assert!(reqwest::Url::parse(&url).is_ok(), "{url}");
    assert!(!url.contains(' '), "{url}");
}

#[test]
fn resolve_guesses_product_from_fields() {
    let mut c = dedicated();
    c.product = None;
    assert_eq!(
        Endpoint::resolve("p", &c, TlsOptions::default(), None).unwrap().product,
        Product::Dedicated
    );
    let mut c = clustered("h", None);
    c.product = None;
    assert_eq!(
        Endpoint::resolve("p", &c, TlsOptions::default(), None).unwrap().product,
        Product::Clustered
    );
}

#[test]
fn resolve_bad_profiles_are_usage_errors() {
    let mut no_cluster = dedicated();
    no_cluster.cluster_id = None;
    let mut traversal = dedicated();
    traversal.account_id = Some("../admin".into());
    let cases = [
        (no_cluster, None),
        (traversal, None),
        (clustered("h/x", None), None),
        (clustered("https://h", None), None),
        (clustered("h:8443", None), None),
        (clustered("h", Some("99999")), None),
        (Cluster { product: Some("serverless".into()), ..Cluster::default() }, None),
        (Cluster { product: Some("clustered".into()), ..Cluster::default() }, None),
        (dedicated(), Some("ftp://x")),
        (dedicated(), Some("https://user:pw@x")),
        (dedicated(), Some("not a url")),
    ];
    for (cluster, url) in cases {
        let err = Endpoint::resolve("p", &cluster, TlsOptions::default(), url).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{cluster:?} {url:?}");
        assert!(!err.to_string().contains("pw@"), "{err}");
    }
}

#[test]
fn tls_options_read_the_profile_table() {
    let text = "[[profile]]\nname = \"p\"\n[profile.tls]\ninsecure = true\nca = \"/etc/ca.pem\"\ncert = \"\"\n";
    let doc: toml_edit::DocumentMut = text.parse().unwrap();
    let table = &doc["profile"].as_array_of_tables().unwrap().get(0).unwrap().clone();
    let tls = TlsOptions::from_profile(table, std::path::Path::new("c.toml"), "p").unwrap();
    assert_eq!(
        tls,
        TlsOptions { insecure: true, ca: Some("/etc/ca.pem".into()), ..TlsOptions::default() }
    );
    let bad: toml_edit::DocumentMut =
        "[[profile]]\nname = \"p\"\ntls = { insecure = \"yes\" }\n".parse().unwrap();
    let table = bad["profile"].as_array_of_tables().unwrap().get(0).unwrap().clone();
    let err = TlsOptions::from_profile(&table, std::path::Path::new("c.toml"), "p").unwrap_err();
    assert_eq!(err.exit_code(), 2);
}
