//! A stand-in for influxctl, built for the tests (`cargo test` builds examples; the integration
//! tests find it in `target/<profile>/examples/`). It behaves as INFLUXCTL.md describes the real
//! one: global flags before the command (`--config`, `--profile`, `--account`, `--cluster`,
//! `--timeout`, `--debug`, `--trace`, one or two dashes, `--name=value`), `INFLUXCTL_PROFILE`,
//! the default config path (Go's `os.UserConfigDir()`), a config read once and **unknown keys
//! rejected** (top level, profiles, `[profile.tls]`, `[profile.auth.*]`), `help`/`--help`/no
//! command and `version` without any config.
//!
//! Every other command needs a management token from the selected profile. The stand-in tells
//! the test what it was given through a side channel, never argv: a JSON report written to
//! `$FAKE_INFLUXCTL_REPORT` (SHA-256 of the tokens it got, never the tokens). Knobs, all
//! environment variables:
//! - `FAKE_INFLUXCTL_REPORT=PATH`  write the report there (atomically)
//! - `FAKE_INFLUXCTL_READY=PATH`   create this file once the report is written
//! - `FAKE_INFLUXCTL_READS=N`      read the config N times, opening the path each time (a FIFO
//!   must serve each read, a memfd's `/dev/fd/N` must reopen at offset 0)
//! - `FAKE_INFLUXCTL_SCAN_PROC=1`  look for the token in every `/proc/*/cmdline` while alive
//! - `FAKE_INFLUXCTL_SLEEP_MS=N`   sleep before exiting (so a test can signal the helper)
//! - `FAKE_INFLUXCTL_CRASH=abort`  die by SIGABRT instead of exiting
//! - `FAKE_INFLUXCTL_EXIT=N`       exit with N
//!
//! The report also lists the descriptors it was started with (`fds`: number → link target).
//!
//! With `$FAKE_INFLUXCTL_STATE` (see `fake-influxctl/management.rs`), these commands are also
//! recorded in the state's `calls`, and a token issued there as never active is refused.
//!
//! Commands are dispatched in [`run_command`]; add new ones (`management create`, …) there.
//! `management create|list|revoke` (a server kept in a state file) are in
//! `fake-influxctl/management.rs`, with their own knobs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};

#[path = "fake-influxctl/management.rs"]
mod management;

const VERSION: &str = "influxctl 2.12.0 (influxctl-cred test stand-in)";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    #[serde(default)]
    profile: Vec<Profile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Profile {
    name: String,
    product: Option<String>,
    account_id: Option<String>,
    cluster_id: Option<String>,
    host: Option<String>,
    port: Option<String>,
    database: Option<String>,
    token: Option<String>,
    mgmt_token: Option<String>,
    tls: Option<Tls>,
    auth: Option<Auth>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Tls {
    insecure: Option<bool>,
    disable: Option<bool>,
    cert: Option<String>,
    key: Option<String>,
    ca: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Auth {
    oauth2: Option<OAuth2>,
    token: Option<AuthToken>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct OAuth2 {
    client_id: Option<String>,
    scopes: Option<Vec<String>>,
    parameters: Option<BTreeMap<String, String>>,
    token_url: Option<String>,
    device_url: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct AuthToken {
    token_file: Option<String>,
}

/// The global flags, and the command with its arguments.
#[derive(Debug, Default)]
struct Globals {
    config: Option<PathBuf>,
    profile: Option<String>,
    account: Option<String>,
    cluster: Option<String>,
    help: bool,
    version: bool,
    command: Vec<String>,
}

/// Go's `flag` rules: flags until the first non-flag or `--`.
fn parse_globals(args: &[String]) -> Result<Globals, String> {
    let mut g = Globals::default();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        if arg == "--" {
            i += 1;
            break;
        }
        let Some(body) = arg.strip_prefix("--").or_else(|| arg.strip_prefix('-')) else { break };
        if body.is_empty() {
            break;
        }
        let (name, inline) = match body.split_once('=') {
            Some((n, v)) => (n, Some(v.to_owned())),
            None => (body, None),
        };
        let mut value = || -> Result<String, String> {
            if let Some(v) = inline.clone() {
                return Ok(v);
            }
            i += 1;
            args.get(i).cloned().ok_or_else(|| format!("flag needs an argument: -{name}"))
        };
        match name {
            "config" => g.config = Some(PathBuf::from(value()?)),
            "profile" => g.profile = Some(value()?),
            "account" => g.account = Some(value()?),
            "cluster" => g.cluster = Some(value()?),
            "timeout" => {
                value()?;
            }
            "debug" | "trace" => {}
            "h" | "help" => g.help = true,
            "v" | "version" => g.version = true,
            other => return Err(format!("flag provided but not defined: -{other}")),
        }
        i += 1;
    }
    g.command = args[i..].to_vec();
    Ok(g)
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().collect();
    let g = match parse_globals(&argv[1..]) {
        Ok(g) => g,
        Err(msg) => {
            eprintln!("Error: {msg}");
            return ExitCode::from(1);
        }
    };
    let code = run_command(&g, &argv);
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

/// The dispatch: commands without a token first, then the ones that need one.
fn run_command(g: &Globals, argv: &[String]) -> i32 {
    let words: Vec<&str> = g.command.iter().map(String::as_str).collect();
    match words.as_slice() {
        _ if g.help => help(),
        [] | ["help" | "h", ..] => help(),
        ["version", ..] => version(),
        _ if g.version => version(),
        ["management", ..] => management::run(g, &g.command[1..]),
        _ => authenticated(g, argv),
    }
}

fn help() -> i32 {
    println!("NAME:\n   influxctl - administer InfluxDB 3 (test stand-in)\n");
    println!("USAGE:\n   influxctl [global options] command [command options]");
    0
}

fn version() -> i32 {
    println!("{VERSION}");
    0
}

/// Reads the config, selects the profile, takes its management token, reports, and then does
/// what the knobs say.
fn authenticated(g: &Globals, argv: &[String]) -> i32 {
    let mut report = json!({ "argv": argv, "pid": std::process::id(), "fds": open_fds() });
    let outcome = read_profile(g, &mut report);
    // `query` and `write` are data-plane commands: they use the profile's database `token`.
    let data_plane = matches!(g.command.first().map(String::as_str), Some("query" | "write"));
    let credential = if data_plane { profile_token(&outcome) } else { None };
    let code = match &outcome {
        Ok(profile) if data_plane => match credential {
            Some(_) => {
                // The management token is not known here: report what the environment holds
                // (hashed) so that a test can look for it.
                report["env_value_sha256"] = json!(
                    std::env::vars_os()
                        .map(|(_, v)| sha256(&v.to_string_lossy()))
                        .collect::<Vec<_>>()
                );
                println!("ok: {} (profile {})", g.command.join(" "), profile.name);
                0
            }
            None => fail(&mut report, "no database token in the profile's `token`"),
        },
        Ok(profile) => match profile.mgmt_token.as_deref().filter(|t| !t.is_empty()) {
            Some(token) => {
                report["mgmt_token_sha256"] = json!(sha256(token));
                report["env_holds_token"] =
                    json!(std::env::vars_os().any(|(_, v)| v.to_string_lossy().contains(token)));
                if env_flag("FAKE_INFLUXCTL_SCAN_PROC") {
                    report["proc_hits"] = json!(scan_proc(token));
                }
                match management::check_other(&g.command, token) {
                    Err(msg) => fail(&mut report, &msg),
                    Ok(()) => {
                        println!("ok: {} (profile {})", g.command.join(" "), profile.name);
                        0
                    }
                }
            }
            None => fail(&mut report, "no mgmt_token; the OAuth device login is not faked"),
        },
        Err(msg) => fail(&mut report, msg),
    };
    report["env_cred_vars"] = json!(
        std::env::vars_os()
            .filter_map(|(k, _)| k.into_string().ok())
            .filter(|k| k.starts_with("INFLUXCTL_CRED"))
            .collect::<Vec<_>>()
    );
    if let Ok(p) = outcome {
        // Where the derived profile points.
        report["host"] = json!(p.host);
        report["port"] = json!(p.port);
        report["token_sha256"] = json!(p.token.as_deref().map(sha256));
    }
    report["env_influx_token_sha256"] =
        json!(std::env::var("INFLUX_TOKEN").ok().as_deref().map(sha256));
    // The signal state we were started with (Linux): blocked and ignored signals, as masks.
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    for (field, key) in [("SigBlk:", "sig_blocked"), ("SigIgn:", "sig_ignored")] {
        let mask = status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| u64::from_str_radix(v.trim(), 16).ok());
        report[key] = json!(mask);
    }
    finish(&report, code)
}

/// The descriptors this process was started with (Linux; empty elsewhere): number → what
/// `/proc/self/fd/N` links to, without the listing's own descriptor.
fn open_fds() -> BTreeMap<String, String> {
    let Ok(read) = std::fs::read_dir("/proc/self/fd") else { return BTreeMap::new() };
    read.flatten()
        .filter_map(|e| {
            let target = std::fs::read_link(e.path()).ok()?.to_string_lossy().into_owned();
            let name = e.file_name().to_string_lossy().into_owned();
            Some((name, target))
        })
        .filter(|(_, target)| !target.starts_with("/proc/") || !target.ends_with("/fd"))
        .collect()
}

fn profile_token<E>(outcome: &Result<Profile, E>) -> Option<&str> {
    outcome.as_ref().ok()?.token.as_deref().filter(|t| !t.is_empty())
}

fn fail(report: &mut serde_json::Value, msg: &str) -> i32 {
    eprintln!("Error: {msg}");
    report["error"] = json!(msg);
    1
}

/// Reads the config (`FAKE_INFLUXCTL_READS` times) and finds the profile.
fn read_profile(g: &Globals, report: &mut serde_json::Value) -> Result<Profile, String> {
    let path = match &g.config {
        Some(p) => p.clone(),
        None => default_config().ok_or("cannot find the config folder")?,
    };
    report["config_path"] = json!(path);
    report["account"] = json!(g.account);
    report["cluster"] = json!(g.cluster);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{FileTypeExt, PermissionsExt};
        if let Ok(meta) = std::fs::symlink_metadata(&path) {
            report["config_is_fifo"] = json!(meta.file_type().is_fifo());
            report["config_mode"] = json!(meta.permissions().mode() & 0o7777);
        }
        if let Some(meta) = path.parent().and_then(|d| std::fs::metadata(d).ok()) {
            report["dir_mode"] = json!(meta.permissions().mode() & 0o7777);
        }
        // Where the config lives: `/memfd:…` for /dev/fd/N of a memfd; whether on a tmpfs.
        if let Ok(link) = std::fs::read_link(&path) {
            report["config_link"] = json!(link.to_string_lossy());
        }
        #[cfg(target_os = "linux")]
        if let Ok(fs) = nix::sys::statfs::statfs(&path) {
            report["config_on_tmpfs"] =
                json!(fs.filesystem_type() == nix::sys::statfs::TMPFS_MAGIC);
        }
    }
    let reads: usize =
        std::env::var("FAKE_INFLUXCTL_READS").ok().and_then(|v| v.parse().ok()).unwrap_or(1);
    let mut texts = Vec::new();
    for _ in 0..reads.max(1) {
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read config {}: {e}", path.display()))?;
        texts.push(text);
    }
    report["reads"] = json!(texts.len());
    report["reads_equal"] = json!(texts.windows(2).all(|w| w[0] == w[1]));
    let config: Config =
        toml::from_str(&texts[0]).map_err(|e| format!("cannot parse config: {}", e.message()))?;
    let name = g
        .profile
        .clone()
        .or_else(|| std::env::var("INFLUXCTL_PROFILE").ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "default".to_owned());
    report["profile"] = json!(name);
    config
        .profile
        .into_iter()
        .find(|p| p.name == name)
        .ok_or_else(|| format!("profile {name:?} not found in {}", path.display()))
}

/// Go's `os.UserConfigDir()` + `influxctl/config.toml`.
fn default_config() -> Option<PathBuf> {
    let base = if cfg!(windows) {
        PathBuf::from(std::env::var_os("APPDATA").filter(|v| !v.is_empty())?)
    } else if cfg!(target_os = "macos") {
        PathBuf::from(std::env::var_os("HOME")?).join("Library/Application Support")
    } else {
        match std::env::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
            Some(x) => PathBuf::from(x),
            None => PathBuf::from(std::env::var_os("HOME")?).join(".config"),
        }
    };
    Some(base.join("influxctl").join("config.toml"))
}

/// Pids whose command line contains `token`.
fn scan_proc(token: &str) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else { return Vec::new() };
    dir.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|b| b.windows(token.len()).any(|w| w == token.as_bytes()))
        })
        .collect()
}

/// Writes the report, then follows the knobs.
fn finish(report: &serde_json::Value, code: i32) -> i32 {
    if let Some(path) = std::env::var_os("FAKE_INFLUXCTL_REPORT") {
        let path = PathBuf::from(path);
        let tmp = path.with_extension("tmp");
        let written =
            std::fs::write(&tmp, report.to_string()).and_then(|()| std::fs::rename(&tmp, &path));
        if let Err(e) = written {
            eprintln!("fake influxctl: cannot write the report: {e}");
        }
    }
    if let Some(ready) = std::env::var_os("FAKE_INFLUXCTL_READY") {
        let _ = std::fs::write(Path::new(&ready), b"");
    }
    if let Some(ms) = std::env::var("FAKE_INFLUXCTL_SLEEP_MS").ok().and_then(|v| v.parse().ok()) {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
    if std::env::var("FAKE_INFLUXCTL_CRASH").as_deref() == Ok("abort") {
        std::process::abort();
    }
    std::env::var("FAKE_INFLUXCTL_EXIT").ok().and_then(|v| v.parse().ok()).unwrap_or(code)
}

fn env_flag(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| v == "1")
}

fn sha256(text: &str) -> String {
    Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}
