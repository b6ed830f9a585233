//! Parsers of influxctl's output, as `&str` in, typed values out; no process is spawned here.
//!
//! `management create` prints (2.11+) a key/value table with `id`, `description`, `expires at`
//! and `revoked at`, two warnings, then the token on the last line; before 2.11 only the warnings
//! and the token. Warnings may be on stdout or stderr (logging moved to stderr in 2.0.3), so the
//! parser looks at stdout only and tolerates both. Errors never quote the output: it holds a
//! token.
//!
//! `management list --format json` prints token records with `id`, `account_id`,
//! `token_prefix`, `created_at`, `expires_at` (absent when unset), `revoked_at` (absent when not
//! revoked), `description`, `created_by`; timestamps are `{"seconds":…,"nanos":…}`.

use jiff::Timestamp;
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::secret::Token;

/// What `management create` told us.
#[derive(Debug)]
pub struct Created {
    pub token: Token,
    pub id: Option<String>,
    pub description: Option<String>,
    pub expires_at: Option<Timestamp>,
}

/// Parses the stdout of `influxctl management create` (either form).
pub fn parse_create(stdout: &str) -> Result<Created> {
    let lines: Vec<&str> = stdout.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let Some((last, before)) = lines.split_last() else {
        return Err(Error::InfluxctlFailed("`management create` printed nothing on stdout".into()));
    };
    if !last.starts_with("M.V1.") {
        return Err(Error::InfluxctlFailed(format!(
            "unexpected output from `management create` ({} lines; the last one is not a management token)",
            lines.len()
        )));
    }
    let token = Token::management((*last).to_owned()).map_err(|_| {
        Error::InfluxctlFailed(
            "the last line of `management create` is not a well-formed management token".into(),
        )
    })?;
    let mut created = Created { token, id: None, description: None, expires_at: None };
    for line in before {
        let Some((key, value)) = key_value(line) else { continue };
        match key.as_str() {
            "id" => {
                crate::entry::validate_token_id(value).map_err(|_| {
                    Error::InfluxctlFailed(
                        "`management create` printed a token id that is not a plain id (1 to 128 letters, digits and '-'); nothing was stored".into(),
                    )
                })?;
                created.id = Some(value.to_owned());
            }
            "description" => created.description = Some(value.to_owned()),
            "expires at" | "expires_at" => created.expires_at = parse_time(value),
            _ => {}
        }
    }
    Ok(created)
}

/// Splits a table row (`| id | 123 |`, `id: 123`, `id   123`) into a lower-case key and a value.
fn key_value(line: &str) -> Option<(String, &str)> {
    let line = line.trim_matches(|c: char| c == '|' || c.is_whitespace());
    if line.starts_with(['+', '-', '=']) {
        return None;
    }
    for key in ["id", "description", "expires at", "expires_at", "revoked at", "revoked_at"] {
        let Some(head) = line.get(..key.len()) else { continue };
        if !head.eq_ignore_ascii_case(key) {
            continue;
        }
        let rest = &line[key.len()..];
        let sep = rest.trim_start_matches([' ', '\t']);
        let value = if let Some(v) = sep.strip_prefix(['|', ':']) {
            v
        } else if rest.len() > sep.len() && !sep.is_empty() {
            sep
        } else {
            continue;
        };
        let value = value.trim().trim_end_matches('|').trim();
        if value.is_empty() {
            return None;
        }
        return Some((key.to_ascii_lowercase(), value));
    }
    None
}

/// An RFC 3339 time; influxctl shows "no expiry" as the Unix epoch.
fn parse_time(value: &str) -> Option<Timestamp> {
    value.parse::<Timestamp>().ok().filter(|t| *t != Timestamp::UNIX_EPOCH)
}

/// One record of `management list --format json`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Listed {
    pub id: String,
    #[serde(default)]
    pub account_id: Option<String>,
    #[serde(default)]
    pub token_prefix: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "proto_time")]
    pub created_at: Option<Timestamp>,
    #[serde(default, deserialize_with = "proto_time")]
    pub expires_at: Option<Timestamp>,
    #[serde(default, deserialize_with = "proto_time")]
    pub revoked_at: Option<Timestamp>,
    #[serde(default)]
    pub created_by: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum TimeRepr {
    Proto {
        seconds: i64,
        #[serde(default)]
        nanos: i32,
    },
    Text(String),
}

fn proto_time<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
    let repr: Option<TimeRepr> = Option::deserialize(d)?;
    let t = match repr {
        None => None,
        Some(TimeRepr::Proto { seconds, nanos }) => {
            Some(Timestamp::new(seconds, nanos).map_err(serde::de::Error::custom)?)
        }
        Some(TimeRepr::Text(s)) => Some(s.parse().map_err(serde::de::Error::custom)?),
    };
    Ok(t.filter(|t| *t != Timestamp::UNIX_EPOCH))
}

/// Parses `management list --format json`: an array of records, or an object holding one.
pub fn parse_list_json(stdout: &str) -> Result<Vec<Listed>> {
    let bad = |what: String| {
        Error::InfluxctlFailed(format!("unexpected `management list` output: {what}"))
    };
    let value: serde_json::Value = serde_json::from_str(stdout.trim())
        .map_err(|e| bad(format!("not JSON (line {})", e.line())))?;
    let array = match value {
        serde_json::Value::Array(a) => a,
        serde_json::Value::Object(o) => o
            .into_iter()
            .find_map(|(_, v)| match v {
                serde_json::Value::Array(a) => Some(a),
                _ => None,
            })
            .ok_or_else(|| bad("an object without a list of tokens".into()))?,
        serde_json::Value::Null => Vec::new(),
        _ => return Err(bad("neither a list nor an object".into())),
    };
    array
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            // serde's message quotes the offending value, which may be (part of) a token: name
            // the record only.
            let record: Listed = serde_json::from_value(v).map_err(|_| {
                bad(format!("record {}: a field is missing or has the wrong type", i + 1))
            })?;
            crate::entry::validate_token_id(&record.id)
                .map_err(|_| bad(format!("record {}: the id is not a plain id", i + 1)))?;
            Ok(record)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE_FORM: &str = "\
+-------------+--------------------------------------+
| id          | 0a1b2c3d-0000-4000-8000-00000000beef |
| description | influxctl-cred ci@runner 2026-11-28  |
| expires at  | 2027-02-26T00:00:00Z                 |
| revoked at  | 1970-01-01T00:00:00Z                 |
+-------------+--------------------------------------+
warn please copy the token and store in a safe place
warn this is the *only time* you will see the token
M.V1.test-created-abcdef
";

    #[test]
    fn parse_create_reads_the_table_form() {
        let c = parse_create(TABLE_FORM).unwrap();
        assert_eq!(c.token.expose(), "M.V1.test-created-abcdef");
        assert_eq!(c.id.as_deref(), Some("0a1b2c3d-0000-4000-8000-00000000beef"));
        assert_eq!(c.description.as_deref(), Some("influxctl-cred ci@runner 2026-11-28"));
        assert_eq!(c.expires_at, Some("2027-02-26T00:00:00Z".parse().unwrap()));
    }

    #[test]
    fn parse_create_reads_the_older_form() {
        let out = "warn please copy the token and store in a safe place\n\
                   warn this is the *only time* you will see the token\nM.V1.test-old-form-0123456\n";
        let c = parse_create(out).unwrap();
        assert_eq!(c.token.expose(), "M.V1.test-old-form-0123456");
        assert!(c.id.is_none() && c.expires_at.is_none());
        // Warnings on stderr: stdout holds only the token.
        let bare = parse_create("M.V1.test-bare-0123456789\n").unwrap();
        assert_eq!(bare.token.expose(), "M.V1.test-bare-0123456789");
    }

    #[test]
    fn parse_create_key_value_variants() {
        let out = "ID: abc\nDescription:   my token\nExpires At  2027-01-01T00:00:00Z\nM.V1.test-kv-0123456789\n";
        let c = parse_create(out).unwrap();
        assert_eq!(c.id.as_deref(), Some("abc"));
        assert_eq!(c.description.as_deref(), Some("my token"));
        assert!(c.expires_at.is_some());
    }

    #[test]
    fn parse_create_garbage_is_influxctl_failed_without_echo() {
        for out in [
            "",
            "\n\n",
            "Error: not logged in\n",
            "| id | x |\nM.V1.test-has space\n",
            "M.V1.\n",
            "M.V1.short\n",
            "M.V1.0123456789abcdef;rm\n",
            "| id | --help |\nM.V1.0123456789abcdef\n",
            "| id | -rf |\nM.V1.0123456789abcdef\n",
        ] {
            let err = parse_create(out).unwrap_err();
            assert_eq!(err.exit_code(), 8, "{out:?}");
            assert!(!err.to_string().contains("has space"));
        }
    }

    #[test]
    fn parse_list_json_reads_records() {
        let out = r#"[{"id":"t1","account_id":"a","token_prefix":"M.V1.+5Jk","created_at":{"seconds":1710273527,"nanos":0},
            "description":"one","created_by":"u"},
            {"id":"t2","created_at":{"seconds":1710273527},"expires_at":{"seconds":1893456000,"nanos":5},
            "revoked_at":{"seconds":1710280000,"nanos":0},"description":"two","unknown":1}]"#;
        let l = parse_list_json(out).unwrap();
        assert_eq!(l.len(), 2);
        assert_eq!(l[0].expires_at, None);
        assert_eq!(l[0].revoked_at, None);
        assert!(l[1].revoked_at.is_some());
        assert_eq!(l[1].expires_at.unwrap().as_second(), 1_893_456_000);
        assert_eq!(parse_list_json(r#"{"tokens":[{"id":"x"}]}"#).unwrap()[0].id, "x");
        assert!(parse_list_json("[]").unwrap().is_empty());
    }

    #[test]
    fn parse_list_json_rejects_garbage() {
        for out in [
            "nope",
            "[1]",
            "{\"a\":1}",
            "3",
            "[{\"description\":\"no id\"}]",
            "[{\"id\":\"--help\"}]",
        ] {
            assert_eq!(parse_list_json(out).unwrap_err().exit_code(), 8, "{out}");
        }
    }
}
