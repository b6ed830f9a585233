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

/// The largest whole unit: `3d`, `5h`, `12m`, `40s`.
pub fn humanize(d: SignedDuration) -> String {
    let s = d.as_secs().abs();
    if s >= 86_400 {
        format!("{}d", s / 86_400)
    } else if s >= 3600 {
        format!("{}h", s / 3600)
    } else if s >= 60 {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
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
}
