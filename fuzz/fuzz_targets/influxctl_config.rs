//! influxctl's config.toml: parse, then derive the config `exec` writes for every profile in it
//! and for one that is not (built from a cluster binding). Checks that each derived config
//! parses again, has the same profiles (plus the appended one), holds the token as that
//! profile's `mgmt_token`, and leaves every other profile as it was. Also the config `import`
//! leaves behind: it parses and the named profiles hold no `mgmt_token`.
#![no_main]

use std::path::Path;

use influxctl_cred::entry::Cluster;
use influxctl_cred::influxctl::config::InfluxConfig;
use influxctl_cred::influxctl::derive::{derive, without_mgmt_token};
use influxctl_cred::secret::Token;
use libfuzzer_sys::fuzz_target;

const TOKEN: &str = "M.V1.test-0123456789abcdefTOKEN";

/// A profile table's entries, rendered, to compare profiles across documents.
fn render(config: &InfluxConfig, name: &str) -> Vec<(String, String)> {
    let Some(table) = config.profile(name) else { return Vec::new() };
    table.iter().map(|(k, v)| (k.to_owned(), v.to_string().trim().to_owned())).collect()
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let path = Path::new("/fuzz/influxctl/config.toml");
    let Ok(config) = InfluxConfig::parse(text, path) else { return };
    let token = Token::new(TOKEN.to_owned()).expect("a valid token");
    let names = config.profile_names();
    let cluster = Cluster { cluster_id: Some("c-1".into()), ..Cluster::default() };
    let mut targets = names.clone();
    targets.push("fuzz-new-profile".to_owned());
    for target in &targets {
        let Ok(derived) = derive(Some(&config), path, target, &cluster, &[("mgmt_token", &token)])
        else {
            continue;
        };
        let again = InfluxConfig::parse(&derived, path).expect("a derived config parses");
        let mut want = names.clone();
        if !names.contains(target) {
            want.push(target.clone());
        }
        assert_eq!(again.profile_names(), want, "derive keeps the profiles");
        let set = again.profile(target).and_then(|t| t.get("mgmt_token")).and_then(|i| i.as_str());
        assert_eq!(set, Some(TOKEN), "derive sets the token");
        for other in names.iter().filter(|n| *n != target) {
            // Only the first profile of a name is the one influxctl (and derive) uses.
            assert_eq!(render(&again, other), render(&config, other), "derive changed {other}");
        }
    }
    let stripped = without_mgmt_token(&config, &names);
    let again = InfluxConfig::parse(&stripped, path).expect("the imported config parses");
    for name in &names {
        assert!(!again.has_plaintext_token(name), "import left a token in {name}");
    }
});
