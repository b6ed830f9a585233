//! What the client repeats of a server's answers and of transport errors: the `errors`
//! strings, cleaned (no control characters, our token and management tokens masked, short),
//! and an error with its causes in one line.

use serde::Deserialize;

use crate::secret::Token;

/// Longest server message we repeat.
const MAX_MESSAGE: usize = 300;

#[derive(Deserialize)]
struct ErrorsBody {
    #[serde(default)]
    errors: Vec<String>,
}

pub fn errors_of(body: &[u8], token: Option<&Token>) -> Vec<String> {
    let parsed: Option<ErrorsBody> = serde_json::from_slice(body).ok();
    parsed.map(|b| b.errors).unwrap_or_default().iter().map(|e| clean(e, token)).collect()
}

pub fn first_error(body: &[u8]) -> Option<String> {
    errors_of(body, None).into_iter().find(|e| !e.is_empty())
}

/// A server message made safe to print: our token masked, management tokens redacted, no
/// control characters, at most [`MAX_MESSAGE`] characters.
pub fn clean(text: &str, token: Option<&Token>) -> String {
    // Invisible characters go first, so that none can hide a token from the masks below.
    let visible: String = text
        .chars()
        .filter(|c| !crate::error::is_invisible(*c))
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let masked = match token.filter(|t| !t.expose().is_empty()) {
        Some(t) => visible.replace(t.expose(), "<redacted vault token>"),
        None => visible,
    };
    let s = crate::error::redact(&masked);
    let mut out: String = s.chars().take(MAX_MESSAGE).collect();
    if s.chars().count() > MAX_MESSAGE {
        out.push('…');
    }
    out.trim().to_owned()
}

pub fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}
