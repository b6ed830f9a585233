//! Where the Management API of an influxctl profile is (`TlsOptions::from_profile`, then
//! `Endpoint::resolve`). The input is influxctl's config.toml, optionally followed by a NUL and
//! an API base override (`api_url`). For every profile: a typed error or an endpoint whose URL
//! parses, with the scheme `[profile.tls] disable` asks for, whose host is the configured host
//! (Clustered) or console.influxdata.com (Dedicated), and whose path is exactly the base path,
//! the account/cluster segments and the resource (no `..` or encoded separator lets an id
//! move the request elsewhere). A host we treat as loopback really is loopback. An error never
//! echoes the override (it could carry a password).
#![no_main]

use std::path::Path;

use influxctl_cred::api::endpoint::{DEDICATED_API_BASE, is_loopback};
use influxctl_cred::api::{Endpoint, Product};
use influxctl_cred::influxctl::config::InfluxConfig;
use influxctl_cred::influxctl::tls::TlsOptions;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (config_bytes, api_url) = match data.iter().position(|b| *b == 0) {
        Some(at) => (&data[..at], std::str::from_utf8(&data[at + 1..]).ok()),
        None => (data, None),
    };
    let Ok(text) = std::str::from_utf8(config_bytes) else { return };
    let path = Path::new("/fuzz/influxctl/config.toml");
    let Ok(config) = InfluxConfig::parse(text, path) else { return };
    for name in config.profile_names() {
        let Some(table) = config.profile(&name) else { continue };
        let Ok(Some(cluster)) = config.cluster(&name) else { continue };
        let tls = match TlsOptions::from_profile(table, path, &name) {
            Ok(tls) => tls,
            Err(e) => {
                assert_eq!(e.exit_code(), 2, "a bad tls table is a config error: {e}");
                continue;
            }
        };
        let endpoint = match Endpoint::resolve(&name, &cluster, tls.clone(), api_url) {
            Ok(endpoint) => endpoint,
            Err(e) => {
                if let Some(u) = api_url.filter(|u| u.len() >= 16 && !text.contains(*u)) {
                    let message = format!("{e} {e:?}");
                    assert!(!message.contains(u), "an error echoes the API URL: {message}");
                }
                continue;
            }
        };
        let url = endpoint.url("/databases");
        let parsed = url::Url::parse(&url).expect("the endpoint URL parses");
        assert!(matches!(parsed.scheme(), "http" | "https"), "scheme of {url}");
        assert!(parsed.username().is_empty() && parsed.password().is_none(), "userinfo in {url}");
        assert!(parsed.query().is_none() && parsed.fragment().is_none(), "query in {url}");
        assert!(!endpoint.base.ends_with('/'), "base ends with a slash: {}", endpoint.base);
        match endpoint.product {
            Product::Dedicated => {
                let a = cluster.account_id.as_deref().expect("dedicated has an account");
                let c = cluster.cluster_id.as_deref().expect("dedicated has a cluster");
                assert_eq!(endpoint.resource, format!("/accounts/{a}/clusters/{c}"));
                if api_url.is_none() {
                    assert_eq!(endpoint.base, DEDICATED_API_BASE);
                }
            }
            Product::Clustered => assert_eq!(endpoint.resource, "", "clustered has no prefix"),
        }
        // The ids land in the path as written: no dot segment or escape moved the request.
        let base_path = url::Url::parse(&endpoint.base).expect("the base parses").path().to_owned();
        let want = format!("{}{}/databases", base_path.trim_end_matches('/'), endpoint.resource);
        assert_eq!(parsed.path(), want, "path of {url}");
        if api_url.is_some() || endpoint.product == Product::Dedicated {
            continue;
        }
        let host = cluster.host.as_deref().expect("clustered has a host").trim();
        assert_eq!(parsed.scheme(), if tls.disable { "http" } else { "https" }, "{url}");
        let got = parsed.host_str().expect("a host");
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        if bare.contains(':') {
            // IPv6: the same address, however it was written.
            let want: std::net::Ipv6Addr = bare.parse().expect("an IPv6 host parses");
            let got: std::net::Ipv6Addr =
                got.trim_start_matches('[').trim_end_matches(']').parse().expect("IPv6 in URL");
            assert_eq!(got, want, "{url}");
        } else {
            assert!(
                got.eq_ignore_ascii_case(bare) || looks_numeric(bare),
                "host {bare:?} became {got:?}"
            );
        }
        if is_loopback(host) {
            let loopback = match parsed.host() {
                Some(url::Host::Domain(d)) => {
                    d.eq_ignore_ascii_case("localhost") || d.eq_ignore_ascii_case("localhost.")
                }
                Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                None => false,
            };
            assert!(loopback, "{host:?} counts as loopback but the URL goes to {got:?}");
        }
    }
});

/// Hosts the URL standard rewrites as IPv4 numbers (`127.1`, `0x7f.0.0.1`).
fn looks_numeric(host: &str) -> bool {
    host.split('.')
        .all(|p| p.is_empty() || p.chars().all(|c| c.is_ascii_hexdigit() || c == 'x' || c == 'X'))
}
