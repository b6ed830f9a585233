//! One function per command: turns parsed arguments into calls on [`Vault`] and prints the
//! result. Output for programs goes to stdout; everything for people goes to stderr.

use std::io::{IsTerminal, Read};

use clap::CommandFactory;
use zeroize::Zeroizing;

use crate::app::{Options, Vault};
use crate::cli::{Cli, Command, GetArgs, GetFormat, ListFormat};
use crate::error::{Error, Result};
use crate::paths::Paths;
use crate::settings::StoreKind;
use crate::ui;

mod agent;
mod annotate;
mod import;
mod list;
mod lock;
mod setup;
mod store;
pub use list::table;

/// Runs one parsed command line; the `Ok` value is the exit code.
pub fn run(cli: Cli) -> Result<i32> {
    ui::set_verbose(cli.global.verbose);
    crate::harden::report();
    let g = &cli.global;
    match &cli.command {
        Command::Completions { shell } => {
            // Generated into memory: clap_complete panics when its writer fails.
            let mut script = Vec::new();
            clap_complete::generate(*shell, &mut Cli::command(), "influxctl-cred", &mut script);
            ui::stdout(&script)?;
            return Ok(0);
        }
        Command::Man => {
            let mut page = Vec::new();
            clap_mangen::Man::new(Cli::command())
                .render(&mut page)
                .map_err(|e| Error::Other(format!("cannot render the man page: {e}")))?;
            ui::stdout(&page)?;
            return Ok(0);
        }
        Command::ShellInit { shell } => return crate::shell_init::run(*shell),
        Command::Audit(args) => {
            let filter = crate::audit::Filter { since: args.since, profile: g.profile.clone() };
            return crate::audit::command(&filter, args.format == ListFormat::Json);
        }
        _ => {}
    }
    let interactive =
        !g.non_interactive && std::env::var_os("CI").is_none_or(|v| v.is_empty()) && has_terminal();
    if let Command::Exec(args) = &cli.command {
        let opts = crate::exec::ExecOptions::from_cli(g, args, !interactive);
        return Ok(crate::exec::command(&opts));
    }
    let opts =
        Options { non_interactive: !interactive, influxctl_config: g.influxctl_config.clone() };
    let vault = Vault::open(Paths::from_env()?, opts)?.reading_only_from(g.store);
    let profile = profile_name(g.profile.as_deref());
    match &cli.command {
        Command::Store(args) => store::store(&vault, &profile, g.store, args, interactive),
        Command::Get(args) => get(&vault, &profile, args),
        Command::Erase(args) if args.revoke => {
            crate::lifecycle::erase_revoke(&vault, &profile, g.store, args.answer)
        }
        Command::Erase(args) => store::erase(&vault, &profile, g.store, args.answer),
        Command::List(args) => list::list(&vault, args),
        Command::Rekey => vault.rekey(),
        Command::Doctor(args) => {
            crate::doctor::run(&vault, args.format.format == ListFormat::Json, args.online)
        }
        Command::Create(args) => crate::lifecycle::create_command(&vault, &profile, g.store, args),
        Command::Rotate(args) => crate::lifecycle::rotate_command(&vault, &profile, args),
        Command::Verify(args) => {
            crate::verify::run(&vault, &profile, args.format == crate::cli::VerifyFormat::Json)
        }
        Command::Helper => {
            let stdin = std::io::stdin();
            crate::helper::serve(&vault, stdin.lock(), std::io::stdout().lock())?;
            Ok(0)
        }
        Command::Import(args) => import::run(&vault, &profile, g.store, args, interactive),
        Command::Setup(args) => setup::run(&vault, g.store, args, interactive),
        Command::Annotate(args) => annotate::run(&vault, &profile, args, interactive),
        Command::Rebind(args) => rebind(&vault, &profile, args, interactive),
        Command::Agent(args) => agent::agent(&vault, args),
        Command::Unlock(args) => agent::unlock(&vault, args, interactive),
        Command::Lock => agent::lock(&vault),
        Command::Completions { .. }
        | Command::Man
        | Command::Exec(_)
        | Command::ShellInit { .. }
        | Command::Audit(_) => unreachable!("handled above"),
    }
}

/// Whether a person can be asked: stdin is a terminal, or a controlling terminal can be opened
/// (prompts go to `/dev/tty`, so `helper` and `exec`, whose stdin is a pipe, can still ask).
fn has_terminal() -> bool {
    if std::io::stdin().is_terminal() {
        return true;
    }
    #[cfg(unix)]
    {
        std::fs::OpenOptions::new().read(true).write(true).open("/dev/tty").is_ok()
    }
    #[cfg(not(unix))]
    false
}

/// `-p`, else `$INFLUXCTL_PROFILE`, else `default`.
pub fn profile_name(flag: Option<&str>) -> String {
    flag.map(str::to_owned)
        .or_else(|| std::env::var("INFLUXCTL_PROFILE").ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "default".to_owned())
}

fn get(vault: &Vault, profile: &str, args: &GetArgs) -> Result<i32> {
    let snap = vault.snapshot()?;
    crate::lifecycle::auto_rotate(vault, &snap, profile, args.min_ttl)?;
    let found = vault
        .get_in(&snap, profile, args.min_ttl)
        .inspect_err(|e| crate::audit::refused("get", profile, e))?;
    crate::audit::record(&crate::audit::released("get", &found.entry, found.store));
    if let Some(w) = vault.expiry_warning(&found.entry.meta()) {
        ui::warn(w);
    }
    match args.format {
        GetFormat::Token => {
            let mut line =
                Zeroizing::new(String::with_capacity(found.entry.token.expose().len() + 1));
            line.push_str(found.entry.token.expose());
            line.push('\n');
            ui::stdout(line.as_bytes())?;
        }
        GetFormat::Json => {
            let mut value =
                serde_json::to_value(&found.entry).map_err(|e| Error::Other(e.to_string()))?;
            value["store"] = serde_json::Value::String(found.store.to_string());
            let mut text = Zeroizing::new(value.to_string());
            if let Some(t) = value.get_mut("token") {
                zeroize_json_string(t);
            }
            text.push('\n');
            ui::stdout(text.as_bytes())?;
        }
    }
    Ok(0)
}

/// `rebind` (docs/spec.md §4): binds the stored token of `profile` to the profile's endpoint in
/// influxctl's config as it is now, after showing both and asking (`--yes` skips the question;
/// without a terminal it is required). The token itself is not touched.
fn rebind(
    vault: &Vault,
    profile: &str,
    args: &crate::cli::RebindArgs,
    interactive: bool,
) -> Result<i32> {
    let answer = |store: StoreKind, changed: bool, now: &crate::entry::Cluster, old| {
        if !args.answer.json() {
            return Ok(());
        }
        ui::answer(&serde_json::json!({
            "profile": profile,
            "store": store,
            "changed": changed,
            "cluster": now,
            "previous": old,
        }))
    };
    let snap = vault.snapshot()?;
    let found = vault.find(profile)?;
    if found.store == StoreKind::Env {
        return Err(Error::OperationNotSupported(format!(
            "rebinding the token of profile {profile:?}, which comes from the env store (it is not bound and cannot be written)"
        )));
    }
    let now = snap.required_cluster(
        profile,
        "`rebind` binds the token to that profile of influxctl's config",
    )?;
    let old = found.entry.cluster.clone();
    if matches!(old.check(profile, &now), Ok(crate::entry::Binding::Matches)) {
        ui::note(format!("profile {profile:?} is already bound to {}", now.describe()));
        answer(found.store, false, &now, None)?;
        return Ok(0);
    }
    ui::note(format!("the token of profile {profile:?} in the {} store", found.store));
    ui::note(format!("  is bound to: {}", old.describe()));
    ui::note(format!("  the profile: {}", now.describe()));
    if !args.yes {
        if !interactive {
            return Err(Error::InteractionRequired {
                what: "confirming the new binding (pass --yes to accept it without asking)".into(),
            });
        }
        if !confirm("bind the token to the profile's endpoint? [y/N] ")? {
            return Err(Error::Other("rebind declined; nothing was changed".into()));
        }
    }
    let mut entry = found.entry;
    entry.cluster = now;
    let lock = vault.lock()?;
    vault.rewrite_binding_locked(found.store, &entry, &old, &lock).map_err(|e| {
        e.context(format!("profile {profile:?} was not rebound (nothing was changed)"))
    })?;
    ui::note(format!("profile {profile:?} is now bound to {}", entry.cluster.describe()));
    answer(found.store, true, &entry.cluster, Some(&old))?;
    Ok(0)
}

/// Asks a yes/no question on the terminal; `true` for "y" or "yes".
fn confirm(question: &str) -> Result<bool> {
    use std::io::{BufRead, Write};
    let failed = |e: std::io::Error| Error::Other(format!("cannot ask on the terminal: {e}"));
    #[cfg(unix)]
    let (mut input, mut output): (Box<dyn BufRead>, Box<dyn Write>) = {
        let tty = std::fs::OpenOptions::new().read(true).write(true).open("/dev/tty");
        match tty {
            Ok(t) => {
                let out = t.try_clone().map_err(failed)?;
                (Box::new(std::io::BufReader::new(t)), Box::new(out))
            }
            Err(_) => (Box::new(std::io::stdin().lock()), Box::new(std::io::stderr())),
        }
    };
    #[cfg(not(unix))]
    let (mut input, mut output): (Box<dyn BufRead>, Box<dyn Write>) =
        (Box::new(std::io::stdin().lock()), Box::new(std::io::stderr()));
    output.write_all(question.as_bytes()).and_then(|()| output.flush()).map_err(failed)?;
    let mut answer = String::new();
    input.by_ref().take(64).read_line(&mut answer).map_err(failed)?;
    Ok(matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes"))
}

/// Overwrites the bytes of a JSON string value that held a secret.
fn zeroize_json_string(v: &mut serde_json::Value) {
    if let serde_json::Value::String(s) = v {
        zeroize::Zeroize::zeroize(s);
    }
}

/// Prints a clap error (usage, `--help`, `--version`) and gives its exit code. Anything in the
/// message that looks like a management token is masked, so that a token typed as an argument
/// by mistake is not echoed back. `--help` into a closed pipe ends quietly (0); into a full
/// disk, exit 1 with a message.
pub fn report_usage(err: clap::Error) -> u8 {
    let mut text = err.render().to_string();
    for arg in std::env::args_os().skip(1) {
        let arg = arg.to_string_lossy();
        for piece in arg.split('=') {
            if piece.contains("M.V1.") || (piece.len() >= 32 && !piece.contains(['/', ' '])) {
                text = text.replace(piece, "<redacted>");
            }
        }
    }
    if err.use_stderr() {
        ui::stderr_line(text.trim_end_matches('\n'));
        // exec's own failures before the program runs are 125 (docs/influxctl.md).
        if crate::exec::usage::is_exec(std::env::args_os().skip(1)) {
            return 125;
        }
        return 2;
    }
    match ui::stdout(text.as_bytes()) {
        Ok(()) => 0,
        Err(e) if e.is_broken_pipe() => 0,
        Err(e) => {
            ui::report(&e);
            u8::try_from(e.exit_code()).unwrap_or(1)
        }
    }
}

/// A panic prints where it happened, never its message (which could quote data).
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        // A parser's panic that crate::error::shield catches becomes a typed error instead.
        if crate::error::in_shield() {
            return;
        }
        let at =
            info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        ui::stderr_line(&format!(
            "influxctl-cred: internal error{at}; please report it (the message is withheld: it could hold a secret)"
        ));
    }));
}
