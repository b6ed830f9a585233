//! Durations as users write them (`90s`, `15m`, `12h`, `30d`) and as we print them.

use jiff::SignedDuration;

use crate::error::{Error, Result};

/// Parses `<n>s`, `<n>m`, `<n>h` or `<n>d` (a positive whole number and one unit).
pub fn parse(text: &str) -> Result<SignedDuration> {
    let bad = |message: &str| Error::InvalidValue {
        what: "duration",
        message: format!("{text:?}: {message} (use e.g. 90s, 15m, 12h, 30d)"),
    };
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).ok_or_else(|| bad("missing unit"))?;
    let (digits, unit) = text.split_at(split);
    let n: i64 = digits.parse().map_err(|_| bad("missing number"))?;
    let secs_per = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(bad("unknown unit")),
    };
    let secs = n
        .checked_mul(secs_per)
        .filter(|s| *s < 100 * 365 * 86_400)
        .ok_or_else(|| bad("too long"))?;
    Ok(SignedDuration::from_secs(secs))
}

/// clap value parser for durations.
pub fn parse_arg(text: &str) -> std::result::Result<SignedDuration, String> {
    parse(text).map_err(|e| e.to_string())
}

/// clap value parser for RFC 3339 times.
pub fn parse_time_arg(text: &str) -> std::result::Result<jiff::Timestamp, String> {
    text.parse().map_err(|e| format!("{text:?} is not an RFC 3339 time: {e}"))
}

/// In the largest unit that fits, rounded to the nearest one: `3d`, `5h`, `12m`, `40s`. A token
/// created a moment ago with a 30-day lifetime "expires in 30d", not 29d; a value that rounds
/// up to a whole larger unit is shown in it (59m40s is `1h`).
pub fn humanize(d: SignedDuration) -> String {
    const UNITS: [(i64, &str); 4] = [(86_400, "d"), (3600, "h"), (60, "m"), (1, "s")];
    let s = d.as_secs().saturating_abs();
    let nearest = |per: i64| s / per + i64::from(s % per >= per - per / 2);
    let at = UNITS.iter().position(|(per, _)| s >= *per).unwrap_or(UNITS.len() - 1);
    let (per, unit) = match at {
        0 => UNITS[0],
        _ if nearest(UNITS[at].0) * UNITS[at].0 >= UNITS[at - 1].0 => UNITS[at - 1],
        _ => UNITS[at],
    };
    format!("{}{unit}", nearest(per))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_accepts_the_four_units() {
        assert_eq!(parse("90s").unwrap().as_secs(), 90);
        assert_eq!(parse("15m").unwrap().as_secs(), 900);
        assert_eq!(parse("12h").unwrap().as_secs(), 43_200);
        assert_eq!(parse("30d").unwrap().as_secs(), 2_592_000);
    }

    #[test]
    fn parse_rejects_garbage() {
        for bad in ["", "d", "10", "10w", "-5m", "1.5h", "99999999999999d"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn humanize_picks_largest_unit() {
        assert_eq!(humanize(SignedDuration::from_secs(3 * 86_400 + 5)), "3d");
        assert_eq!(humanize(SignedDuration::from_secs(59)), "59s");
    }

    #[test]
    fn humanize_rounds_to_the_nearest_unit() {
        let at = |secs: i64| humanize(SignedDuration::from_secs(secs));
        // A 30-day token seconds after it was made.
        assert_eq!(at(30 * 86_400 - 5), "30d");
        assert_eq!(at(29 * 86_400 + 12 * 3600), "30d");
        assert_eq!(at(29 * 86_400 + 12 * 3600 - 1), "29d");
        assert_eq!(at(90 * 60 - 1), "1h");
        assert_eq!(at(90 * 60), "2h");
        // Rounding up into the next unit shows that unit.
        assert_eq!(at(3600 - 20), "1h");
        assert_eq!(at(86_400 - 1800), "1d");
        assert_eq!(at(60 * 60 - 31), "59m");
        assert_eq!(at(0), "0s");
        assert_eq!(at(-(7 * 86_400 - 3)), "7d");
    }
}
