//! `management create|list|revoke` of the stand-in influxctl, as INFLUXCTL.md describes them,
//! with the server's state in a JSON file (`$FAKE_INFLUXCTL_STATE`) changed only under an
//! exclusive lock on `<state>.lock`, so that parallel runs count right. Each run is also
//! appended to the state's `calls` (how it authenticated, the derived config's modes; never a
//! token). The state holds the issued tokens themselves, so that a test can look for each of
//! them in everything we printed.
//!
//! Knobs (environment):
//! - `FAKE_INFLUXCTL_STATE=PATH`    the state file (required)
//! - `FAKE_INFLUXCTL_OAUTH=1`       logged in with OAuth (also `"oauth": true` in the state);
//!   `=device` also prints a device-login prompt on stdout first
//! - `FAKE_INFLUXCTL_FORM=old`      `create` prints the pre-2.11 form (warnings, token)
//! - `FAKE_INFLUXCTL_WARN_STDERR=1` `create` prints its two warnings on stderr
//! - `FAKE_INFLUXCTL_FAIL=SUB[:N],…`    `management SUB` fails with exit N (1), state unchanged
//! - `FAKE_INFLUXCTL_GARBAGE=SUB[:N],…` `management SUB` prints garbage and exits N (0),
//!   state unchanged
//! - `FAKE_INFLUXCTL_INACTIVE=1`    `create` issues a token that never becomes active: every
//!   other command given it (`database list`, …) fails, as a server that rejects it would
//! - `FAKE_INFLUXCTL_ID=ID`         `create` prints (and records) this id instead of a fresh one
//!
//! Authentication: a `mgmt_token` in the profile must be a token of the state that is neither
//! revoked nor expired; without one, the OAuth switch must be on. Tokens are
//! `M.V1.test-<random>`; `created_by` is `oauth:fake-user` or `token:<id>`.

use std::fs::{File, OpenOptions};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::{Globals, read_profile};

#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    #[serde(default)]
    oauth: bool,
    #[serde(default)]
    tokens: Vec<Record>,
    #[serde(default)]
    calls: Vec<serde_json::Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Record {
    id: String,
    account_id: String,
    token: String,
    description: String,
    created_at: i64,
    expires_at: Option<i64>,
    revoked_at: Option<i64>,
    created_by: String,
    /// Issued under `FAKE_INFLUXCTL_INACTIVE=1`: never accepted.
    #[serde(default)]
    inactive: bool,
}

/// `influxctl [globals] management SUB ARGS…`; the exit code.
pub fn run(g: &Globals, args: &[String]) -> i32 {
    match run_inner(g, args) {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("Error: {msg}");
            1
        }
    }
}

fn run_inner(g: &Globals, args: &[String]) -> Result<i32, String> {
    let Some((sub, rest)) = args.split_first() else {
        println!("USAGE: influxctl management create|list|revoke");
        return Ok(0);
    };
    let sub = sub.as_str();
    if !matches!(sub, "create" | "list" | "revoke") {
        return Err(format!("no such command: management {sub}"));
    }
    let flags = Flags::parse(rest)?;
    let mut scratch = json!({});
    let profile = read_profile(g, &mut scratch)?;
    if let Some(code) = injected("FAKE_INFLUXCTL_FAIL", sub, 1) {
        eprintln!("Error: injected failure of management {sub}");
        return Ok(code);
    }
    if let Some(code) = injected("FAKE_INFLUXCTL_GARBAGE", sub, 0) {
        println!("<html><body>502 Bad Gateway</body></html>\n\u{1b}[31mnot what you expected");
        return Ok(code);
    }
    let path = std::env::var_os("FAKE_INFLUXCTL_STATE")
        .map(PathBuf::from)
        .ok_or("the stand-in needs FAKE_INFLUXCTL_STATE for management commands")?;
    let _lock = lock(&path)?;
    let mut state = load(&path)?;
    let oauth_env = std::env::var("FAKE_INFLUXCTL_OAUTH").unwrap_or_default();
    if profile.mgmt_token.as_deref().is_none_or(str::is_empty) && oauth_env == "device" {
        println!("To sign in, visit https://auth.example.invalid/activate and enter WDJB-MJHT");
    }
    let now = Timestamp::now().as_second();
    let account = profile
        .account_id
        .clone()
        .or_else(|| profile.host.clone())
        .unwrap_or_else(|| "fake-account".into());
    let who = authenticate(&state, profile.mgmt_token.as_deref(), &oauth_env, &account, now);
    state.calls.push(json!({
        "sub": sub,
        "auth": who.as_ref().ok(),
        "config_mode": scratch.get("config_mode"),
        "dir_mode": scratch.get("dir_mode"),
        "config_link": scratch.get("config_link"),
        "argv": std::env::args().collect::<Vec<_>>(),
    }));
    let outcome = match who {
        Err(e) => Err(e),
        Ok(who) => match sub {
            "create" => create(&mut state, &flags, &account, &who, now),
            "list" => list(&state, &flags, &account),
            _ => revoke(&mut state, &flags, &account, now),
        },
    };
    save(&path, &state)?;
    outcome.map(|()| 0)
}

/// A command other than `management` given `token`: with a state file, the call is recorded
/// (`sub` is the command, e.g. `database list`), and a token the state knows as issued under
/// `FAKE_INFLUXCTL_INACTIVE` is refused. A token the state does not know passes (tests that
/// store a token of their own).
pub fn check_other(command: &[String], token: &str) -> Result<(), String> {
    let Some(path) = std::env::var_os("FAKE_INFLUXCTL_STATE").map(PathBuf::from) else {
        return Ok(());
    };
    let _lock = lock(&path)?;
    let mut state = load(&path)?;
    let known = state.tokens.iter().find(|r| r.token == token);
    let inactive = known.is_some_and(|r| r.inactive);
    let auth = known.map(|r| format!("token:{}", r.id));
    state.calls.push(json!({
        "sub": command.iter().take(2).cloned().collect::<Vec<_>>().join(" "),
        "auth": auth,
        "accepted": !inactive,
    }));
    save(&path, &state)?;
    if inactive {
        return Err("authentication failed: the management token is not active".into());
    }
    Ok(())
}

/// Who is calling: `token:<id>` or `oauth:fake-user`.
fn authenticate(
    state: &State,
    mgmt_token: Option<&str>,
    oauth_env: &str,
    account: &str,
    now: i64,
) -> Result<String, String> {
    match mgmt_token.filter(|t| !t.is_empty()) {
        Some(token) => {
            let r = state
                .tokens
                .iter()
                .find(|r| r.token == token && r.account_id == account)
                .ok_or("authentication failed: unknown management token")?;
            if r.inactive {
                return Err("authentication failed: the management token is not active".into());
            }
            if r.revoked_at.is_some() {
                return Err("authentication failed: the management token was revoked".into());
            }
            if r.expires_at.is_some_and(|e| e <= now) {
                return Err("authentication failed: the management token has expired".into());
            }
            Ok(format!("token:{}", r.id))
        }
        None if state.oauth || matches!(oauth_env, "1" | "device") => Ok("oauth:fake-user".into()),
        None => {
            Err("not logged in: run `influxctl auth login` (the stand-in fakes no device login)"
                .into())
        }
    }
}

fn create(
    state: &mut State,
    flags: &Flags,
    account: &str,
    who: &str,
    now: i64,
) -> Result<(), String> {
    let description = flags.description.clone().unwrap_or_default();
    if description.trim().is_empty() {
        return Err("description cannot be empty".into());
    }
    let expires_at = match &flags.expires_at {
        None => None,
        Some(t) => {
            let t: Timestamp = t.parse().map_err(|e| format!("invalid --expires-at: {e}"))?;
            if t.as_second() <= now {
                return Err("--expires-at must be in the future".into());
            }
            Some(t.as_second())
        }
    };
    let seed = format!("{}-{}-{:?}", std::process::id(), state.tokens.len(), Timestamp::now());
    let hash: String = Sha256::digest(seed.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
    let id = std::env::var("FAKE_INFLUXCTL_ID").ok().unwrap_or_else(|| {
        format!(
            "{}-{}-4{}-8{}-{}",
            &hash[0..8],
            &hash[8..12],
            &hash[13..16],
            &hash[17..20],
            &hash[20..32]
        )
    });
    let record = Record {
        id,
        account_id: account.to_owned(),
        token: format!("M.V1.test-{}", &hash[32..64]),
        description,
        created_at: now,
        expires_at,
        revoked_at: None,
        created_by: who.to_owned(),
        inactive: std::env::var("FAKE_INFLUXCTL_INACTIVE").is_ok_and(|v| v == "1"),
    };
    if flags.format.as_deref() == Some("json") {
        println!(
            "{}",
            json!({"id": record.id, "description": record.description, "token": record.token,
            "expires_at": record.expires_at.map(proto_time)})
        );
    } else {
        print_created(&record);
    }
    state.tokens.push(record);
    Ok(())
}

fn print_created(r: &Record) {
    let warn_stderr = std::env::var("FAKE_INFLUXCTL_WARN_STDERR").is_ok_and(|v| v == "1");
    let warnings = [
        "warn please copy the token and store in a safe place",
        "warn this is the *only time* you will see the token",
    ];
    if std::env::var("FAKE_INFLUXCTL_FORM").as_deref() != Ok("old") {
        let rows = [
            ("id", r.id.clone()),
            ("description", r.description.clone()),
            ("expires at", rfc3339(r.expires_at.unwrap_or(0))),
            ("revoked at", rfc3339(0)),
        ];
        let width = rows.iter().map(|(_, v)| v.chars().count()).max().unwrap_or(0);
        let rule = format!("+-------------+-{}-+", "-".repeat(width));
        println!("{rule}");
        for (k, v) in rows {
            println!("| {k:<11} | {v:<width$} |");
        }
        println!("{rule}");
    }
    for w in warnings {
        if warn_stderr {
            eprintln!("{w}");
        } else {
            println!("{w}");
        }
    }
    println!("{}", r.token);
}

fn list(state: &State, flags: &Flags, account: &str) -> Result<(), String> {
    let mine = state.tokens.iter().filter(|r| r.account_id == account);
    if flags.format.as_deref() == Some("json") {
        let records: Vec<serde_json::Value> = mine
            .map(|r| {
                let mut v = json!({
                    "id": r.id,
                    "account_id": r.account_id,
                    "token_prefix": r.token.chars().take(9).collect::<String>(),
                    "created_at": proto_time(r.created_at),
                    "description": r.description,
                    "created_by": r.created_by,
                });
                if let Some(e) = r.expires_at {
                    v["expires_at"] = proto_time(e);
                }
                if let Some(e) = r.revoked_at {
                    v["revoked_at"] = proto_time(e);
                }
                v
            })
            .collect();
        println!("{}", serde_json::Value::Array(records));
        return Ok(());
    }
    println!("ID | DESCRIPTION | PREFIX | CREATED AT | EXPIRES AT | REVOKED AT");
    for r in mine {
        println!(
            "{} | {} | {} | {} | {} | {}",
            r.id,
            r.description,
            r.token.chars().take(9).collect::<String>(),
            rfc3339(r.created_at),
            rfc3339(r.expires_at.unwrap_or(0)),
            rfc3339(r.revoked_at.unwrap_or(0)),
        );
    }
    Ok(())
}

fn revoke(state: &mut State, flags: &Flags, account: &str, now: i64) -> Result<(), String> {
    if flags.positional.is_empty() {
        return Err("revoke needs at least one token id".into());
    }
    if !flags.force {
        if !std::io::stdin().is_terminal() {
            return Err("refusing to revoke without confirmation; pass --force".into());
        }
        eprint!("revoke {} token(s)? This cannot be undone [y/N] ", flags.positional.len());
        let mut answer = String::new();
        let _ = std::io::stdin().read_line(&mut answer);
        if !answer.trim().eq_ignore_ascii_case("y") {
            return Err("aborted".into());
        }
    }
    for id in &flags.positional {
        if !state.tokens.iter().any(|r| &r.id == id && r.account_id == account) {
            return Err(format!("management token {id} not found"));
        }
    }
    for id in &flags.positional {
        for r in state.tokens.iter_mut().filter(|r| &r.id == id) {
            r.revoked_at.get_or_insert(now);
        }
        println!("revoked management token {id}");
    }
    Ok(())
}

/// The flags of the management subcommands (urfave/cli style: `--name value`, `--name=value`).
#[derive(Debug, Default)]
struct Flags {
    description: Option<String>,
    expires_at: Option<String>,
    format: Option<String>,
    force: bool,
    positional: Vec<String>,
}

impl Flags {
    fn parse(args: &[String]) -> Result<Flags, String> {
        let mut f = Flags::default();
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            if arg == "--" {
                // Everything after `--` is positional, as in urfave/cli.
                f.positional.extend(it.by_ref().cloned());
                break;
            }
            let Some(body) = arg.strip_prefix("--").or_else(|| arg.strip_prefix('-')) else {
                f.positional.push(arg.clone());
                continue;
            };
            let (name, inline) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v.to_owned())),
                None => (body, None),
            };
            let mut value = || {
                inline
                    .clone()
                    .or_else(|| it.next().cloned())
                    .ok_or(format!("flag needs an argument: --{name}"))
            };
            match name {
                "description" => f.description = Some(value()?),
                "expires-at" => f.expires_at = Some(value()?),
                "format" => {
                    let v = value()?;
                    if !matches!(v.as_str(), "table" | "json") {
                        return Err(format!("invalid --format {v:?}"));
                    }
                    f.format = Some(v);
                }
                "sort" => {
                    value()?;
                }
                "force" => f.force = true,
                other => return Err(format!("flag provided but not defined: -{other}")),
            }
        }
        Ok(f)
    }
}

/// `SUB[:N]` in the comma list of `var` naming `sub`: its exit code.
fn injected(var: &str, sub: &str, default: i32) -> Option<i32> {
    let value = std::env::var(var).ok()?;
    value.split(',').find_map(|item| {
        let (name, code) = match item.split_once(':') {
            Some((n, c)) => (n, c.parse().ok()?),
            None => (item, default),
        };
        (name == sub).then_some(code)
    })
}

fn lock(state: &Path) -> Result<File, String> {
    let mut name = state.as_os_str().to_owned();
    name.push(".lock");
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(PathBuf::from(&name))
        .map_err(|e| format!("cannot open the state lock: {e}"))?;
    file.lock().map_err(|e| format!("cannot lock the state: {e}"))?;
    Ok(file)
}

fn load(path: &Path) -> Result<State, String> {
    match std::fs::read_to_string(path) {
        Ok(text) if text.trim().is_empty() => Ok(State::default()),
        Ok(text) => serde_json::from_str(&text).map_err(|e| format!("bad state file: {e}")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(State::default()),
        Err(e) => Err(format!("cannot read the state: {e}")),
    }
}

fn save(path: &Path, state: &State) -> Result<(), String> {
    let tmp = path.with_extension("tmp");
    let text = serde_json::to_string_pretty(state).map_err(|e| e.to_string())?;
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| format!("cannot write the state: {e}"))
}

fn proto_time(seconds: i64) -> serde_json::Value {
    json!({"seconds": seconds, "nanos": 0})
}

fn rfc3339(seconds: i64) -> String {
    Timestamp::from_second(seconds).map(|t| t.to_string()).unwrap_or_default()
}
