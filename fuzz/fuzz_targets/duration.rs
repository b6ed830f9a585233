//! Durations (`--ttl 30d`, `renew_before` in settings) and RFC 3339 times (`--expires-at`).
//! A parsed duration is positive-or-zero, under 100 years, and what it prints (rounded to the
//! nearest unit, docs/commands.md) is a number and a unit within half that unit of it.
#![no_main]

use influxctl_cred::duration::{humanize, parse, parse_time_arg};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(d) = parse(text) {
        assert!(!d.is_negative() && d.as_secs() < 100 * 365 * 86_400, "duration in range");
        let shown = humanize(d);
        let (number, unit) = shown.split_at(shown.len() - 1);
        let per: i64 = match unit {
            "d" => 86_400,
            "h" => 3600,
            "m" => 60,
            "s" => 1,
            other => panic!("unknown unit {other:?} in {shown:?}"),
        };
        let number: i64 = number.parse().expect("a printed duration is a number and a unit");
        let off = (number * per - d.as_secs()).abs();
        assert!(2 * off <= per, "{shown:?} is more than half a unit from {}s", d.as_secs());
    }
    if let Ok(t) = parse_time_arg(text) {
        let shown = t.to_string();
        assert_eq!(parse_time_arg(&shown).ok(), Some(t), "a printed time parses to itself");
    }
});
