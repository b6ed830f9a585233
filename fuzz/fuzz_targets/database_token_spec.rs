//! `exec --database-token read=DB,write=DB2` (`DatabaseTokenSpec::parse`). A parsed spec holds
//! at least one permission, each `read` or `write` on a name of 1 to 64 characters without
//! spaces, control characters, `=` or `,` (or `*`); it prints as text that parses to the same
//! spec; merging it with itself changes nothing. An error never quotes the input.
#![no_main]

use influxctl_cred::api::DatabaseTokenSpec;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match DatabaseTokenSpec::parse(text) {
        Ok(spec) => {
            assert!(!spec.permissions().is_empty(), "at least one permission");
            for p in spec.permissions() {
                assert!(matches!(p.action.as_str(), "read" | "write"), "action {:?}", p.action);
                let n = p.resource.chars().count();
                assert!((1..=64).contains(&n), "resource length {n}");
                assert!(
                    !p.resource
                        .chars()
                        .any(|c| c.is_whitespace() || c.is_control() || c == '=' || c == ','),
                    "resource {:?}",
                    p.resource
                );
            }
            assert!(spec.permissions().windows(2).all(|w| w[0] < w[1]), "sorted, no repeats");
            let shown = spec.to_string();
            let again = DatabaseTokenSpec::parse(&shown).expect("a printed spec parses");
            assert_eq!(again, spec, "print then parse is the identity");
            let mut merged = spec.clone();
            merged.merge(spec.clone());
            assert_eq!(merged, spec, "merge with itself changes nothing");
        }
        Err(e) => {
            let message = format!("{e} {e:?}");
            // The messages are fixed text and item numbers: a token pasted by mistake (or any
            // input longer than a word) never comes back.
            if text.len() >= 12
                && !text.bytes().all(|b| b.is_ascii_lowercase() || b == b' ')
                && message.contains(text)
            {
                // An input that is a piece of the fixed text ("…database-token: item …") is no
                // echo: the same input with every letter shifted gets the same message. An echo
                // would shift with it.
                let shift = |c: char| match c {
                    'a'..='y' | 'A'..='Y' => char::from(c as u8 + 1),
                    'z' => 'a',
                    'Z' => 'A',
                    c => c,
                };
                let shadow: String = text.chars().map(shift).collect();
                let again = DatabaseTokenSpec::parse(&shadow).err().map(|e| format!("{e} {e:?}"));
                assert_eq!(again.as_deref(), Some(message.as_str()), "the error quotes the input");
            }
            assert!(!message.contains("M.V1."), "the error quotes a token");
        }
    }
});
