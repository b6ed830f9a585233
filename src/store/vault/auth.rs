//! The vault token a request is sent with. `auth = "token"` (the default) takes it where the
//! `bao` CLI does: `BAO_TOKEN`, else `VAULT_TOKEN`, else `~/.vault-token` (what `bao login`
//! writes), the file checked as strictly as our own secret files (docs/spec.md §2: a regular file of
//! yours, not readable by group or others, in folders nobody else can write; a too-open file
//! is refused with the `chmod` that fixes it). `approle` and `jwt` log in
//! ([`super::login::Login`]).

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::secret::Token;

/// Where a token came from, for `doctor` and `-v`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Env(&'static str),
    File(PathBuf),
    Login(&'static str),
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Env(var) => write!(f, "token from ${var}"),
            Source::File(p) => write!(f, "token from {}", p.display()),
            Source::Login(method) => f.write_str(method),
        }
    }
}

/// The token of `auth = "token"`: `BAO_TOKEN`, `VAULT_TOKEN`, then `<home>/.vault-token`.
/// `env` reads one variable; an empty value counts as unset.
pub fn static_token(
    env: &dyn Fn(&str) -> Option<String>,
    home: Option<&Path>,
) -> Result<(Token, Source)> {
    for var in ["BAO_TOKEN", "VAULT_TOKEN"] {
        if let Some(v) = env(var).filter(|v| !v.trim().is_empty()) {
            let token = Token::new(v.trim().to_owned()).map_err(|e| Error::InvalidValue {
                what: "vault token",
                message: format!("${var}: {e}"),
            })?;
            return Ok((token, Source::Env(var)));
        }
    }
    let missing = || {
        Error::StoreUnavailable {
        store: "vault",
        reason: "no vault token: BAO_TOKEN and VAULT_TOKEN are not set, and there is no ~/.vault-token".into(),
        hint: Some("log in with `bao login` (it writes ~/.vault-token), export BAO_TOKEN, or set [vault] auth = \"approle\" or \"jwt\"".into()),
    }
    };
    let Some(home) = home else { return Err(missing()) };
    let path = home.join(".vault-token");
    let Some(bytes) = crate::fsutil::read(&path, crate::fsutil::FileKind::UserSecret)? else {
        return Err(missing());
    };
    let text = std::str::from_utf8(&bytes).map_err(|_| Error::InvalidValue {
        what: "vault token",
        message: format!("{} is not UTF-8 text", path.display()),
    })?;
    let token = Token::new(text.trim().to_owned()).map_err(|e| Error::InvalidValue {
        what: "vault token",
        message: format!("{}: {e}", path.display()),
    })?;
    Ok((token, Source::File(path)))
}

#[cfg(test)]
mod tests;
