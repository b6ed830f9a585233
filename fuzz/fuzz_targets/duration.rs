//! Durations (`--ttl 30d`, `renew_before` in settings) and RFC 3339 times (`--expires-at`).
//! A parsed duration is positive-or-zero, under 100 years, and what it prints parses again.
#![no_main]

use influxctl_cred::duration::{humanize, parse, parse_time_arg};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(d) = parse(text) {
        assert!(!d.is_negative() && d.as_secs() < 100 * 365 * 86_400, "duration in range");
        let shown = humanize(d);
        let again = parse(&shown).expect("a printed duration parses");
        assert!(again <= d, "humanize rounds down");
    }
    if let Ok(t) = parse_time_arg(text) {
        let shown = t.to_string();
        assert_eq!(parse_time_arg(&shown).ok(), Some(t), "a printed time parses to itself");
    }
});
