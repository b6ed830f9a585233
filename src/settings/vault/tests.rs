use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use super::*;
use crate::settings::{Settings, StoreKind};

fn parse(text: &str) -> Result<Settings> {
    Settings::parse(text, Path::new("/x/config.toml"))
}

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> =
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    move |name: &str| map.get(name).cloned()
}

#[test]
fn full_vault_table_parses_with_defaults_filled_in() {
    let s = parse(
        r#"
        [vault]
        addrs = ["https://a.example:8200", "https://b.example:8200"]
        namespace = "team-a"
        ca = "ca.pem"
        auth = "approle"
        role_id = "r-1"
        secret_id_file = "~/sid"
        vault_timeout = "3s"
        "#,
    )
    .unwrap();
    let v = s.vault.as_ref().unwrap();
    assert_eq!(v.addrs.len(), 2);
    assert_eq!((v.mount.as_str(), v.prefix.as_str()), ("secret", "influxctl-cred"));
    assert_eq!(v.ca.as_deref(), Some(Path::new("/x/ca.pem")));
    assert_eq!(v.auth, VaultAuth::Approle);
    assert_eq!(v.login_mount(), "approle");
    assert_eq!(v.timeout, Duration::from_secs(3));
    assert!(s.vault_enabled());
}

#[test]
fn vault_is_enabled_by_the_table_or_a_store_setting_only() {
    assert!(!parse("").unwrap().vault_enabled());
    assert!(parse("store = \"vault\"").unwrap().vault_enabled());
    let s = parse("[profiles.prod]\nstore = \"vault\"").unwrap();
    assert!(s.vault_enabled());
    assert_eq!(s.store_for("prod"), Some(StoreKind::Vault));
    assert_eq!("vault".parse::<StoreKind>().unwrap(), StoreKind::Vault);
}

#[test]
fn bad_vault_tables_are_usage_errors() {
    for text in [
        "[vault]\ncolour = 1",
        "[vault]\naddr = \"https://a:1\"\naddrs = [\"https://b:1\"]",
        "[vault]\naddrs = []",
        "[vault]\naddr = \"ftp://a\"",
        "[vault]\naddr = \"http://bao.example.com:8200\"",
        "[vault]\naddr = \"https://a:8200/v1/secret\"",
        "[vault]\naddr = \"https://user:pw@a:8200\"",
        "[vault]\nmount = \"../sys\"",
        "[vault]\nmount = \"/secret\"",
        "[vault]\nprefix = \"a//b\"",
        "[vault]\nprefix = \"a/../b\"",
        "[vault]\nprefix = \"a?b\"",
        "[vault]\nauth = \"kerberos\"",
        "[vault]\nvault_timeout = \"0s\"",
        "[vault]\nvault_timeout = \"soon\"",
        "[vault]\njwt_env = \"A B\"",
        "[vault]\njwt_env = \"A\"\njwt_file = \"f\"",
    ] {
        let err = parse(text).unwrap_err();
        assert_eq!(err.exit_code(), 2, "{text}: {err}");
    }
}

#[test]
fn nested_mount_and_prefix_are_allowed() {
    let s = parse("[vault]\nmount = \"teams/kv\"\nprefix = \"influx/prod-eu\"").unwrap();
    let v = s.vault.unwrap();
    assert_eq!((v.mount.as_str(), v.prefix.as_str()), ("teams/kv", "influx/prod-eu"));
}

#[test]
fn bao_variables_win_over_vault_ones_and_over_settings() {
    let v = VaultSettings {
        addrs: vec!["https://settings.example:8200".into()],
        namespace: Some("from-settings".into()),
        ..VaultSettings::default()
    };
    let t = v
        .resolve(&env(&[
            ("BAO_ADDR", "http://127.0.0.1:8201"),
            ("VAULT_ADDR", "https://vault.example:8200"),
            ("VAULT_NAMESPACE", "from-vault"),
            ("BAO_CACERT", ""),
            ("VAULT_CACERT", "/etc/ca.pem"),
        ]))
        .unwrap();
    assert_eq!(t.addrs.len(), 1);
    assert_eq!(t.addrs[0].as_str(), "http://127.0.0.1:8201/");
    assert_eq!(t.addrs_from, "BAO_ADDR");
    assert_eq!(t.namespace.as_deref(), Some("from-vault"));
    assert_eq!(t.ca.as_deref(), Some(Path::new("/etc/ca.pem")), "an empty BAO_CACERT is unset");

    let t = v.resolve(&env(&[("VAULT_ADDR", "https://vault.example:8200")])).unwrap();
    assert_eq!((t.addrs[0].host_str(), t.addrs_from), (Some("vault.example"), "VAULT_ADDR"));
    assert_eq!(t.namespace.as_deref(), Some("from-settings"));

    let t = v.resolve(&env(&[])).unwrap();
    assert_eq!((t.addrs[0].host_str(), t.addrs_from), (Some("settings.example"), "[vault] addr"));
}

#[test]
fn no_address_anywhere_is_store_unavailable_and_a_remote_plain_http_env_is_refused() {
    let v = VaultSettings::default();
    assert_eq!(v.resolve(&env(&[])).unwrap_err().exit_code(), 5);
    let err = v.resolve(&env(&[("BAO_ADDR", "http://bao.example.com:8200")])).unwrap_err();
    assert_eq!(err.exit_code(), 2);
    assert!(err.to_string().contains("BAO_ADDR"), "{err}");
    for ok in ["http://localhost:8200", "http://[::1]:8200", "https://bao.example.com"] {
        assert!(v.resolve(&env(&[("BAO_ADDR", ok)])).is_ok(), "{ok}");
    }
    // A name that goes to DNS is not loopback, however it looks.
    for remote in
        ["http://localhost.:8200", "http://localhost.example:8200", "http://127.0.0.1.nip.io"]
    {
        let err = v.resolve(&env(&[("BAO_ADDR", remote)])).unwrap_err();
        assert_eq!(err.exit_code(), 2, "{remote}: {err}");
    }
}
