//! The Management API's answer to a failed request (`api::client::status_error`): any status and
//! any body give a typed `api-error` (401/403 name the profile), whose message is one line and
//! never holds the token we sent, nor a prefix of it of 17 or more characters, however the
//! server wrapped it (JSON escapes, control or zero-width characters inside it). The token is
//! built from the input too (`M.V1.` and 16 to 64 token characters), so the masking is tried on
//! tokens that overlap themselves. Also `mask_token` on the raw body.
#![no_main]

use influxctl_cred::api::client::{mask_token, status_error};
use influxctl_cred::secret::Token;
use libfuzzer_sys::fuzz_target;

const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=_.-";
const DEFAULT: &str = "M.V1.test-0123456789abcdefTOKEN";

/// Characters a terminal shows as nothing: dropping them must not reveal the token.
fn shows_nothing(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}'
            | '\u{17B5}' | '\u{180B}'..='\u{180E}' | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{206F}' | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}' | '\u{FFA0}' | '\u{FFF0}'..='\u{FFF8}')
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 3 {
        return;
    }
    let status = u16::from_be_bytes([data[0], data[1]]);
    // Byte 2: 0 is the default token, else the length of a token taken from the next bytes.
    let (token_text, body) = match data[2] as usize {
        0 => (DEFAULT.to_owned(), &data[3..]),
        n => {
            let len = 16 + n % 49;
            let Some(raw) = data.get(3..3 + len) else { return };
            let tail: String =
                raw.iter().map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char).collect();
            (format!("M.V1.{tail}"), &data[3 + len..])
        }
    };
    let token = Token::new(token_text.clone()).expect("a well-formed token");
    let secret: Vec<char> = token_text.chars().collect();
    let prefix: String = secret[..17].iter().collect();

    let e = status_error(status, body, "prod", &token);
    assert_eq!(e.exit_code(), 9, "api-error for status {status}: {e}");
    let shown = e.to_string();
    assert!(!shown.contains('\n') && !shown.contains('\r'), "one line: {shown:?}");
    for message in [shown, format!("{e:?}")] {
        let visible: String = message.chars().filter(|c| !shows_nothing(*c)).collect();
        assert!(!visible.contains(&prefix), "the token is echoed: {message:?}");
    }

    if let Ok(text) = std::str::from_utf8(body) {
        let masked = mask_token(text, &token_text);
        let visible: String = masked.chars().filter(|c| !shows_nothing(*c)).collect();
        assert!(!visible.contains(&prefix), "mask_token left the token: {masked:?}");
    }
});
