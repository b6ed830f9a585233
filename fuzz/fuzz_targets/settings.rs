//! Our settings file (`config.toml`): any text parses to settings or a typed error.
#![no_main]

use std::path::Path;

use influxctl_cred::settings::Settings;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Settings::load reads the file as UTF-8 first; only text reaches the parser.
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(s) = Settings::parse(text, Path::new("/fuzz/config.toml")) {
        assert!(!s.keyring_timeout.is_zero(), "keyring_timeout is positive");
        for name in s.profiles.keys() {
            let _ = s.store_for(name);
        }
    }
});
