//! `store` and `erase` (without `--revoke`): a token in from stdin or the terminal, never
//! from argv; an entry out of every store that holds it.

use std::io::{IsTerminal, Read};

use zeroize::Zeroizing;

use crate::app::Vault;
use crate::cli::StoreArgs;
use crate::entry::{Entry, Origin};
use crate::error::{Error, Result};
use crate::secret::Token;
use crate::settings::StoreKind;
use crate::ui;

pub fn store(
    vault: &Vault,
    profile: &str,
    target: Option<StoreKind>,
    args: &StoreArgs,
    interactive: bool,
) -> Result<i32> {
    if !args.stray.is_empty() {
        return Err(Error::Usage(
            "`store` never takes a token as an argument (argv is visible to every process and kept in shell history); pipe it on stdin: `influxctl-cred store -p PROFILE < token.txt`".into(),
        ));
    }
    if let Some(id) = &args.token_id {
        crate::entry::validate_token_id(id)?;
    }
    if let Some(d) = &args.description {
        crate::entry::check_description(d)?;
    }
    if let Some(t) = args.expires_at.filter(|t| *t <= jiff::Timestamp::now()) {
        return Err(Error::Usage(format!(
            "--expires-at {t} is in the past: the token would count as expired at once; nothing was stored (leave --expires-at out when the expiry is not known)"
        )));
    }
    let token = read_token(interactive)?;
    if !token.starts_with(crate::secret::MANAGEMENT_PREFIX) {
        ui::warn(format!(
            "the token does not begin with {}, as InfluxDB 3 management tokens do; storing it anyway (influxctl will reject it if it is not one)",
            crate::secret::MANAGEMENT_PREFIX
        ));
    }
    let mut entry = Entry::new(profile, token, Origin::Stored);
    entry.expires_at = args.expires_at;
    entry.token_id = args.token_id.clone();
    entry.description = args.description.clone();
    let meta = entry.meta();
    let w = vault.put(entry, target)?;
    ui::note(format!(
        "{} the token of profile {profile:?} in the {} store",
        if w.replaced { "replaced" } else { "stored" },
        w.store
    ));
    if args.answer.json() {
        ui::answer(&serde_json::json!({
            "profile": profile,
            "store": w.store,
            "replaced": w.replaced,
            "token_id": meta.token_id,
            "description": meta.description,
            "expires_at": meta.expires_at,
        }))?;
    }
    Ok(0)
}

/// The token from stdin (one line, trimmed), or typed without echo when stdin is a terminal.
fn read_token(interactive: bool) -> Result<Token> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        if !interactive {
            return Err(Error::InteractionRequired { what: "typing the token".into() });
        }
        let typed = Zeroizing::new(
            rpassword::prompt_password("management token (input hidden): ").map_err(|e| {
                Error::Other(format!("cannot read the token from the terminal: {e}"))
            })?,
        );
        return Token::from_input(&typed);
    }
    let mut buf = Zeroizing::new(Vec::with_capacity(256));
    stdin
        .lock()
        .take(crate::secret::MAX_TOKEN_LEN as u64 + 2)
        .read_to_end(&mut buf)
        .map_err(|e| Error::Other(format!("cannot read the token from stdin: {e}")))?;
    if buf.len() > crate::secret::MAX_TOKEN_LEN + 1 {
        return Err(Error::InvalidToken { reason: "the input is longer than 4096 bytes" });
    }
    let text = std::str::from_utf8(&buf)
        .map_err(|_| Error::InvalidToken { reason: "the input is not UTF-8" })?;
    Token::from_input(text)
}

pub fn erase(
    vault: &Vault,
    profile: &str,
    target: Option<StoreKind>,
    answer: crate::cli::AnswerArgs,
) -> Result<i32> {
    let stores = vault.erase_from(profile, target)?;
    if stores.is_empty() {
        ui::note(format!("no token was stored for profile {profile:?} (existed: false)"));
    } else {
        let names: Vec<&str> = stores.iter().map(|k| k.as_str()).collect();
        ui::note(format!(
            "erased the token of profile {profile:?} from the {} store",
            names.join(" and ")
        ));
        ui::note(
            "the token itself still works on the server until it expires or is revoked (`erase --revoke` revokes it first; `influxctl management revoke` does it by id)",
        );
    }
    if answer.json() {
        ui::answer(&crate::lifecycle::erased_answer(profile, &stores, None))?;
    }
    Ok(0)
}
