//! `setup` (docs/spec.md §5): the first run, in one command. It finds influxctl's config and lists its
//! profiles (and which still hold a plaintext `mgmt_token`), picks the store new tokens go to
//! and says why (the keyring's probe is bounded), creates the default age identity when the
//! file store will be used and none exists, offers `import`, and prints the `shell-init` line
//! for the user's shell. What it may change on its own is only what is safe: creating the
//! identity. Moving tokens takes a "y" on the terminal or `--import`. A second run finds
//! everything done and changes nothing (docs/commands.md).

use std::path::Path;

use serde_json::{Value, json};

use crate::app::Vault;
use crate::cli::{AnswerArgs, ImportArgs, SetupArgs};
use crate::error::{Error, Result};
use crate::identity::{Identities, Source};
use crate::settings::StoreKind;
use crate::ui;

pub fn run(
    vault: &Vault,
    target: Option<StoreKind>,
    args: &SetupArgs,
    interactive: bool,
) -> Result<i32> {
    let mut changed: Vec<&str> = Vec::new();
    let (config, plaintext) = influxctl_config(vault)?;
    let (store, why, keyring) = pick_store(vault, target);
    ui::note(format!("setup: new tokens go to the {store} store: {why}"));
    let identity = if store == StoreKind::File {
        let (value, created) = identity(vault)?;
        if created {
            changed.push("identity");
        }
        value
    } else {
        Value::Null
    };
    let import = offer_import(vault, target, &plaintext, args, interactive, &mut changed)?;
    let shell = shell_line();
    if changed.is_empty() {
        ui::note("setup: nothing to change; everything was already set up");
    }
    if args.answer.json() {
        ui::answer(&json!({
            "influxctl_config": config,
            "store": {"name": store, "reason": why, "keyring": keyring},
            "identity": identity,
            "import": import,
            "shell": shell,
            "changed": changed,
        }))?;
    }
    Ok(0)
}

/// influxctl's config: where, its profiles, which hold a plaintext token (said on stderr).
fn influxctl_config(vault: &Vault) -> Result<(Value, Vec<String>)> {
    let snap = vault.snapshot()?;
    let path = snap.path_or_default();
    let Some(config) = &snap.config else {
        ui::note(format!(
            "setup: there is no influxctl config at {} yet; set up a profile with influxctl first (or pass --influxctl-config PATH). Tokens stored before that are bound on first use",
            path.display()
        ));
        return Ok((json!({"path": path, "exists": false, "profiles": []}), Vec::new()));
    };
    ui::note(format!(
        "setup: influxctl's config is {} ({} profile{})",
        path.display(),
        config.profile_names().len(),
        if config.profile_names().len() == 1 { "" } else { "s" }
    ));
    let (rows, _) = vault.list();
    let mut profiles = Vec::new();
    let mut plaintext = Vec::new();
    for name in config.profile_names() {
        let plain = config.has_plaintext_token(&name);
        let stored = rows.iter().any(|r| r.meta.profile == name && r.store != StoreKind::Env);
        ui::note(format!(
            "setup: profile {name:?}: {}",
            match (plain, stored) {
                (true, _) => "holds a plaintext mgmt_token",
                (false, true) => "its token is stored",
                (false, false) => "no token (influxctl uses your OAuth login)",
            }
        ));
        if plain {
            plaintext.push(name.clone());
        }
        profiles.push(json!({"name": name, "plaintext_token": plain, "stored": stored}));
    }
    Ok((json!({"path": path, "exists": true, "profiles": profiles}), plaintext))
}

/// The store a new token goes to (as `store` would choose it) and why; and the keyring's
/// answer to its (bounded) probe.
fn pick_store(vault: &Vault, target: Option<StoreKind>) -> (StoreKind, String, Value) {
    let probe = vault.store(StoreKind::Keyring).and_then(|k| k.probe());
    let keyring = match &probe {
        Ok(()) => json!({"usable": true, "reason": null}),
        Err(e) => json!({"usable": false, "reason": e.to_string()}),
    };
    if let Some(kind) = target {
        return (kind, "named with --store".into(), keyring);
    }
    if let Some(kind) = vault.settings.store {
        let why = format!("`store = \"{kind}\"` in {}", vault.paths.settings().display());
        return (kind, why, keyring);
    }
    match probe {
        Ok(()) => (StoreKind::Keyring, "the OS keyring answers".into(), keyring),
        Err(e) => (
            StoreKind::File,
            format!(
                "the OS keyring does not answer: {}. The file store, of age-encrypted files, works without it; pin the choice with `store = \"file\"` in {}",
                why_unavailable(&e),
                vault.paths.settings().display()
            ),
            keyring,
        ),
    }
}

/// Why a store cannot be used, as one plain clause: the reason of a store-unavailable error
/// without the "the keyring store is unavailable:" lead-in the sentence already says, and
/// without the raw error of the layer below (a D-Bus error in parentheses), which `-v` shows
/// and the JSON answer keeps in `store.keyring.reason`.
fn why_unavailable(e: &Error) -> String {
    let reason = match e {
        Error::StoreUnavailable { reason, .. } => reason.clone(),
        e => e.to_string(),
    };
    match reason.split_once(" (") {
        Some((plain, _)) => {
            ui::verbose(format!("setup: the keyring's answer: {reason}"));
            plain.trim_end_matches('.').to_owned()
        }
        None => reason.trim_end_matches('.').to_owned(),
    }
}

/// The identity of the file store: the one in use, or the default one, created now (0600)
/// when there is none. The second value: whether it was created.
fn identity(vault: &Vault) -> Result<(Value, bool)> {
    let default = vault.paths.default_identity();
    let found = crate::error::shield(&default, || {
        Identities::find(&default, &vault.settings.identities, None)
    })?;
    if let Some(ids) = found {
        let (keys, locked) = ids.known_public_keys();
        ui::note(format!(
            "setup: the file store's identity is {} (public key {})",
            ids.source.describe(),
            if keys.is_empty() { "locked by a passphrase".to_owned() } else { keys.join(", ") }
        ));
        let path = ids.source.files().first().cloned();
        let source = match ids.source {
            Source::Env => "env",
            Source::EnvFile(_) => "env-file",
            Source::Settings(_) => "settings",
            Source::Default(_) => "default",
        };
        let value = json!({"source": source, "description": ids.source.describe(), "path": path,
                           "public_keys": keys, "locked_files": locked, "created": false});
        return Ok((value, false));
    }
    let public = match crate::identity::generate_default(&default)? {
        Some(public) => public,
        // Another process made it a moment ago: read its public key.
        None => return identity(vault),
    };
    ui::note(format!(
        "setup: created the age identity {} (public key {public}); back it up: without it the file store cannot be opened",
        default.display()
    ));
    if crate::identity::in_ci() {
        ui::note(format!("setup: {}", crate::identity::CI_IDENTITY_HINT));
    }
    let description = Source::Default(default.clone()).describe();
    let value = json!({"source": "default", "description": description, "path": default,
                       "public_keys": [public], "locked_files": 0, "created": true});
    Ok((value, true))
}

/// Moves the plaintext tokens when the user says so (a "y", or `--import`); otherwise says
/// how to.
fn offer_import(
    vault: &Vault,
    target: Option<StoreKind>,
    plaintext: &[String],
    args: &SetupArgs,
    interactive: bool,
    changed: &mut Vec<&str>,
) -> Result<Value> {
    if plaintext.is_empty() {
        ui::note("setup: no profile holds a plaintext mgmt_token");
        return Ok(json!({"pending": [], "moved": false, "report": null}));
    }
    let list = plaintext.join(", ");
    let go = if args.import {
        true
    } else if interactive {
        super::confirm(&format!(
            "move the plaintext mgmt_token of {list} into the store and remove it from influxctl's config? [y/N] "
        ))?
    } else {
        false
    };
    if !go {
        ui::note(format!(
            "setup: left the plaintext mgmt_token of {list} where it is; move it with `influxctl-cred setup --import` (or `influxctl-cred import --all`)"
        ));
        return Ok(json!({"pending": plaintext, "moved": false, "report": null}));
    }
    let import =
        ImportArgs { all: true, dry_run: false, keep_plaintext: false, answer: AnswerArgs::TEXT };
    let mut report = crate::import::import(vault, "default", target, &import)?;
    super::import::fill_ids(vault, &mut report, interactive);
    changed.push("import");
    let report = serde_json::to_value(&report).map_err(|e| Error::Other(e.to_string()))?;
    Ok(json!({"pending": [], "moved": true, "report": report}))
}

/// The `shell-init` line for `$SHELL` (bash, zsh or fish), said on stderr.
fn shell_line() -> Value {
    let shell = std::env::var_os("SHELL").unwrap_or_default();
    let name = Path::new(&shell).file_name().and_then(|n| n.to_str()).unwrap_or("").to_owned();
    let line = match name.as_str() {
        "bash" => Some(("eval \"$(influxctl-cred shell-init bash)\"", "~/.bashrc")),
        "zsh" => Some(("eval \"$(influxctl-cred shell-init zsh)\"", "~/.zshrc")),
        "fish" => Some(("influxctl-cred shell-init fish | source", "~/.config/fish/config.fish")),
        _ => None,
    };
    match line {
        Some((line, rc)) => {
            ui::note(format!(
                "setup: so that every `influxctl` gets the stored token, add to {rc}:  {line}"
            ));
            json!({"name": name, "line": line, "rc": rc})
        }
        None => {
            ui::note(
                "setup: so that every `influxctl` gets the stored token, add `eval \"$(influxctl-cred shell-init bash)\"` to ~/.bashrc (zsh: `shell-init zsh`; fish: `influxctl-cred shell-init fish | source`)",
            );
            json!({"name": if name.is_empty() { Value::Null } else { Value::from(name) },
                   "line": null, "rc": null})
        }
    }
}
