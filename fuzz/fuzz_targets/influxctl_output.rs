//! influxctl's output: `management create` (table or warnings, token last) and
//! `management list --format json`. Any text gives a value or a typed error whose message
//! never quotes a token-like string from the output.
#![no_main]

use influxctl_cred::influxctl::output::{parse_create, parse_list_json};
use libfuzzer_sys::fuzz_target;

/// Token-like strings in `text`: from each `M.V1.` to the next quote, comma, brace or space.
fn tokens(text: &str) -> Vec<&str> {
    text.match_indices("M.V1.")
        .map(|(at, _)| {
            let rest = &text[at..];
            let end = rest
                .find(|c: char| matches!(c, '"' | ',' | '}' | ']' | '\\') || c.is_whitespace())
                .unwrap_or(rest.len());
            &rest[..end]
        })
        .filter(|t| t.len() > "M.V1.".len())
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let secrets = tokens(text);
    match parse_create(text) {
        Ok(created) => assert!(created.token.expose().starts_with("M.V1.")),
        Err(e) => {
            let message = format!("{e} {e:?}");
            for t in &secrets {
                assert!(!message.contains(t), "a create error quotes a token");
            }
        }
    }
    if let Err(e) = parse_list_json(text) {
        let message = format!("{e} {e:?}");
        for t in &secrets {
            assert!(!message.contains(t), "a list error quotes a token");
        }
    }
});
