//! Age identities: the text of an identity file (age's format, OpenSSH keys, passphrase-encrypted
//! age files, left locked) and recipient strings from our settings, one per line.
#![no_main]

use influxctl_cred::identity::{Recipient, parse_identity_file};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(n) = parse_identity_file(data) {
        assert!(n > 0, "a parsed identity file holds a key");
    }
    if let Ok(text) = std::str::from_utf8(data) {
        for line in text.lines().take(16) {
            let _ = Recipient::parse(line);
        }
    }
});
