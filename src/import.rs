//! `import`: moves plaintext `mgmt_token` values out of influxctl's `config.toml` into a store.
//! Order matters, so that no token is ever lost: every token is stored and read back first;
//! only then is `config.toml` rewritten — once, atomically, with the `mgmt_token` lines gone and
//! every comment, the order and the formatting kept. A config that does not parse is refused
//! and left byte-identical; so is one that changed while we worked. A profile whose store
//! already holds a *different* token is refused before anything is written.

use std::path::{Path, PathBuf};

use serde::Serialize;
use toml_edit::Item;
use zeroize::Zeroizing;

use crate::app::Vault;
use crate::cli::ImportArgs;
use crate::entry::{Entry, Origin};
use crate::error::{Error, Result};
use crate::influxctl::config::InfluxConfig;
use crate::influxctl::derive::without_mgmt_token;
use crate::secret::Token;
use crate::settings::StoreKind;
use crate::ui;

/// One profile to move.
struct Move {
    profile: String,
    token: Token,
    store: StoreKind,
    already_stored: bool,
}

/// What `import` did with one profile (an element of its JSON answer).
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub profile: String,
    /// `moved`, `already-stored` (the store held this very token), `would-move` (`--dry-run`),
    /// `refused` (`--dry-run`: the real run would stop here; see `reason`), or `skipped`.
    pub action: &'static str,
    /// Where the token went (or would go).
    pub store: Option<StoreKind>,
    /// Why a profile was skipped.
    pub reason: Option<String>,
    /// The token's id when it is known (filled in after the import, see `token_id_lookup`).
    pub token_id: Option<String>,
    /// How the id lookup went (`found`, `known`, `no-match`, `ambiguous`, `failed`); null
    /// when it did not run (a skipped profile, `--dry-run`).
    pub token_id_lookup: Option<&'static str>,
    /// When no id was found: why, and how to set it.
    pub token_id_hint: Option<String>,
}

/// What `import` did.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// influxctl's config that was read.
    pub config: PathBuf,
    pub dry_run: bool,
    pub profiles: Vec<Outcome>,
    /// Whether `mgmt_token` lines were removed from the config.
    pub config_rewritten: bool,
    /// A dry run that refused a profile: the exit code of the first refusal (the real run
    /// would have stopped with it).
    #[serde(skip)]
    pub refused_exit: Option<i32>,
}

impl Report {
    /// The profiles whose tokens are now stored (moved, or there already).
    pub fn stored(&self) -> impl Iterator<Item = &Outcome> {
        self.profiles.iter().filter(|o| matches!(o.action, "moved" | "already-stored"))
    }
}

/// Runs `import` for `profile` (or every profile with `--all`): tokens are stored and read back,
/// then the config is rewritten without them. Messages go to stderr; the caller prints the
/// answer.
pub fn import(
    vault: &Vault,
    profile: &str,
    target: Option<StoreKind>,
    args: &ImportArgs,
) -> Result<Report> {
    let path = config_path(vault)?;
    let original = read(&path)?;
    let text = std::str::from_utf8(&original).map_err(|e| Error::ParseConfig {
        path: path.clone(),
        message: format!("not UTF-8 (at byte {})", e.valid_up_to()),
    })?;
    let config = InfluxConfig::parse(text, &path)?;
    let names = select(&config, profile, args.all)?;
    let mut report = Report {
        config: path.clone(),
        dry_run: args.dry_run,
        profiles: Vec::new(),
        config_rewritten: false,
        refused_exit: None,
    };
    let considered: Vec<String> =
        if args.all { config.profile_names() } else { vec![profile.to_owned()] };
    let skipped = considered.into_iter().filter(|n| !names.contains(n)).map(|n| Outcome {
        profile: n,
        action: "skipped",
        store: None,
        reason: Some("no plaintext mgmt_token in the config".into()),
        token_id: None,
        token_id_lookup: None,
        token_id_hint: None,
    });
    report.profiles.extend(skipped);
    if names.is_empty() {
        ui::note(format!("no profile in {} holds a plaintext mgmt_token", path.display()));
        return Ok(report);
    }
    let (moves, mut refused) = plan(vault, &config, &names, target);
    if !args.dry_run && !refused.is_empty() {
        return Err(refused.swap_remove(0).1);
    }
    let rewrite = !args.keep_plaintext;
    let outcome = |m: &Move, action| Outcome {
        profile: m.profile.clone(),
        action,
        store: Some(m.store),
        reason: None,
        token_id: None,
        token_id_lookup: None,
        token_id_hint: None,
    };
    if args.dry_run {
        // Every profile is reported, a refused one too: the dry run says all that the real
        // run would stop at, not just the first.
        report.refused_exit = refused.first().map(|(_, e)| e.exit_code());
        for (name, e) in &refused {
            ui::warn(format!("profile {name:?}: {e}"));
            report.profiles.push(Outcome {
                profile: name.clone(),
                action: "refused",
                store: None,
                reason: Some(e.to_string()),
                token_id: None,
                token_id_lookup: None,
                token_id_hint: None,
            });
        }
        for m in &moves {
            let how = if m.already_stored { "is already in" } else { "would move to" };
            ui::note(format!(
                "profile {:?}: its mgmt_token {how} the {} store",
                m.profile, m.store
            ));
            report
                .profiles
                .push(outcome(m, if m.already_stored { "already-stored" } else { "would-move" }));
        }
        if rewrite {
            ui::note(format!(
                "would remove {} mgmt_token line(s) from {}",
                moves.len(),
                path.display()
            ));
        }
        ui::note("dry run: nothing was changed");
        return Ok(report);
    }
    for m in &moves {
        store_and_verify(vault, &config, &path, m)?;
        report.profiles.push(outcome(m, if m.already_stored { "already-stored" } else { "moved" }));
    }
    if !rewrite {
        ui::note(format!("left {} as it was (--keep-plaintext)", path.display()));
        return Ok(report);
    }
    let new_text = keep_line_endings(text, &without_mgmt_token(&config, &names));
    let check = InfluxConfig::parse(&new_text, &path)?;
    if names.iter().any(|n| check.has_plaintext_token(n)) {
        return Err(Error::Other(
            "the rewritten config still holds a token; left as it was".into(),
        ));
    }
    if *read(&path)? != *original {
        return Err(Error::Other(format!(
            "{} changed while importing; the tokens are stored, run `influxctl-cred import` again to remove them from it",
            path.display()
        )));
    }
    crate::fsutil::write_atomic(&path, new_text.as_bytes())?;
    ui::note(format!("removed {} mgmt_token line(s) from {}", names.len(), path.display()));
    report.config_rewritten = true;
    Ok(report)
}

/// `new` (as toml_edit writes it: no byte-order mark, `\n` line ends) in the conventions of
/// `original`: its byte-order mark, and CRLF line ends when every line of it ended so.
fn keep_line_endings(original: &str, new: &str) -> String {
    const BOM: char = '\u{feff}';
    let mut out = String::with_capacity(new.len() + new.len() / 16 + 3);
    if original.starts_with(BOM) && !new.starts_with(BOM) {
        out.push(BOM);
    }
    let newlines = original.matches('\n').count();
    if newlines > 0 && original.matches("\r\n").count() == newlines {
        out.push_str(&new.replace("\r\n", "\n").replace('\n', "\r\n"));
    } else {
        out.push_str(new);
    }
    out
}

/// The config to import from; a symlink is followed, so that the file it points at is
/// rewritten rather than the link replaced.
fn config_path(vault: &Vault) -> Result<PathBuf> {
    let path = vault.influxctl_config_path().ok_or_else(|| {
        Error::Usage("cannot find influxctl's config folder; pass --influxctl-config".into())
    })?;
    match std::fs::canonicalize(&path) {
        Ok(real) => Ok(real),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(Error::Usage(format!("there is no influxctl config at {}", path.display())))
        }
        Err(e) => Err(Error::io("cannot read", &path, e)),
    }
}

fn read(path: &Path) -> Result<Zeroizing<Vec<u8>>> {
    std::fs::read(path).map(Zeroizing::new).map_err(|e| Error::io("cannot read", path, e))
}

/// The profiles to move: every one with a plaintext token, or just `profile`.
fn select(config: &InfluxConfig, profile: &str, all: bool) -> Result<Vec<String>> {
    if all {
        let names = config.profile_names().into_iter();
        return Ok(names.filter(|n| config.has_plaintext_token(n)).collect());
    }
    if config.profile(profile).is_none() {
        return Err(config.profile_not_found(profile));
    }
    Ok(if config.has_plaintext_token(profile) { vec![profile.to_owned()] } else { Vec::new() })
}

/// Reads each token and where it goes. A profile whose store holds another token, or whose
/// token is not valid, is refused: the second list, with why, in the order of `names`.
fn plan(
    vault: &Vault,
    config: &InfluxConfig,
    names: &[String],
    target: Option<StoreKind>,
) -> (Vec<Move>, Vec<(String, Error)>) {
    let mut moves = Vec::with_capacity(names.len());
    let mut refused = Vec::new();
    for name in names {
        match plan_one(vault, config, name, target) {
            Ok(m) => moves.push(m),
            Err(e) => refused.push((name.clone(), e)),
        }
    }
    (moves, refused)
}

fn plan_one(
    vault: &Vault,
    config: &InfluxConfig,
    name: &str,
    target: Option<StoreKind>,
) -> Result<Move> {
    let raw = config.profile(name).and_then(|t| t.get("mgmt_token")).and_then(Item::as_str);
    let token = Token::from_input(raw.unwrap_or_default()).map_err(|e| {
        e.context(format!("the mgmt_token of profile {name:?} in {}", config.path.display()))
    })?;
    let store = vault.write_target(name, target)?;
    let already_stored = match store.get(name)? {
        None => false,
        Some(e) if e.token == token => true,
        Some(_) => {
            return Err(Error::Usage(format!(
                "profile {name:?} already has a different token in the {} store; nothing was changed. Erase it first (`influxctl-cred erase -p {name} --store {}`) if the one in config.toml is the one to keep",
                store.kind(),
                store.kind()
            )));
        }
    };
    Ok(Move { profile: name.to_owned(), token, store: store.kind(), already_stored })
}

/// Stores one token (bound to its profile's cluster) and reads it back.
fn store_and_verify(vault: &Vault, config: &InfluxConfig, path: &Path, m: &Move) -> Result<()> {
    if !m.already_stored {
        let mut entry = Entry::new(&m.profile, m.token.clone(), Origin::Imported);
        entry.cluster = config.cluster(&m.profile)?.unwrap_or_default();
        let from = format!("imported from {}", path.display());
        // A path too long (or odd) for a description still imports, described shortly.
        entry.description = Some(match crate::entry::check_description(&from) {
            Ok(()) => from,
            Err(_) => "imported from influxctl's config".to_owned(),
        });
        vault.put(entry, Some(m.store))?;
    }
    let back = vault.store(m.store)?.get(&m.profile)?;
    if back.is_none_or(|e| e.token != m.token) {
        return Err(Error::Other(format!(
            "the token of profile {:?} did not read back from the {} store; {} was left as it was",
            m.profile,
            m.store,
            path.display()
        )));
    }
    let verb = if m.already_stored { "was already in" } else { "moved to" };
    ui::note(format!("profile {:?}: its mgmt_token {verb} the {} store", m.profile, m.store));
    Ok(())
}
