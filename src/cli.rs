//! The command line, as clap definitions only. Doc comments are the `--help` text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use jiff::{SignedDuration, Timestamp};

use crate::duration::{parse_arg, parse_time_arg};

mod audit;
pub use audit::AuditArgs;

/// Keeps InfluxDB 3 management tokens encrypted (OS keyring or age files) and hands them to
/// influxctl for the life of one process.
#[derive(Debug, Parser)]
#[command(name = "influxctl-cred", version, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,

    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub struct Global {
    /// influxctl profile [default: $INFLUXCTL_PROFILE, else "default"]
    #[arg(short, long, global = true, value_name = "NAME")]
    pub profile: Option<String>,

    /// Store to write to (or to read only from): keyring, file, env or vault
    #[arg(long, global = true, value_name = "NAME", value_parser = parse_store)]
    pub store: Option<crate::settings::StoreKind>,

    /// influxctl's config.toml [default: influxctl's own default path]
    #[arg(long, global = true, value_name = "PATH")]
    pub influxctl_config: Option<PathBuf>,

    /// Say more on stderr (never a token)
    #[arg(short, long, global = true)]
    pub verbose: bool,

    /// Never prompt (implied by $CI or no terminal)
    #[arg(long, global = true)]
    pub non_interactive: bool,
}

fn parse_store(s: &str) -> Result<crate::settings::StoreKind, String> {
    s.parse().map_err(|e: crate::error::Error| e.to_string())
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Store a token, read from stdin (one line) or typed without echo on a terminal
    Store(StoreArgs),
    /// Print the token (for scripts)
    Get(GetArgs),
    /// Delete the entry (idempotent)
    Erase(EraseArgs),
    /// List entries: profile, store, token id, description, created, expires (never the token)
    List(FormatArgs),
    /// Re-encrypt every file-store entry to the current recipients
    Rekey,
    /// Check stores, identities, file permissions and expiry (--online: the server's view)
    Doctor(DoctorArgs),
    /// Create a management token with influxctl (your OAuth login) and store it; prints its id
    /// and expiry, never the token
    Create(CreateArgs),
    /// Replace the stored token: create a new one, store it, read it back, revoke the old one
    Rotate(RotateArgs),
    /// Ask the Management API whether the stored token works (exit 0 valid, 9 invalid, 1
    /// unreachable)
    Verify(VerifyArgs),
    /// Run influxctl with the stored token, given to it only for the life of that process
    Exec(ExecArgs),
    /// Move plaintext `mgmt_token` values out of influxctl's config.toml into a store
    Import(ImportArgs),
    /// Print a shell function that runs every `influxctl` through `exec`
    ShellInit {
        /// bash, zsh or fish
        #[arg(value_enum)]
        shell: InitShell,
    },
    /// Speak the JSON Lines helper protocol on stdin/stdout
    Helper,
    /// Bind the stored token to the profile's current endpoint in influxctl's config (after a
    /// deliberate move); shows the old and new endpoint and asks first
    Rebind(RebindArgs),
    /// Show the audit log: every release of a token (never the token); -p filters by profile
    Audit(AuditArgs),
    /// Forget the vault store's cached login: revoke its token on the server and delete the
    /// encrypted cache (the agent of a later version will also stop here)
    Lock,
    /// Print shell completions
    Completions {
        /// bash, zsh, fish, elvish or powershell
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff)
    Man,
}

#[derive(Debug, Args)]
pub struct RebindArgs {
    /// Do not ask (needed when there is no terminal)
    #[arg(long)]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct StoreArgs {
    /// When the token expires (RFC 3339)
    #[arg(long, value_name = "TIME", value_parser = parse_time_arg)]
    pub expires_at: Option<Timestamp>,

    /// The token's id, as influxctl management list shows it
    #[arg(long, value_name = "ID")]
    pub token_id: Option<String>,

    /// A description to remember the token by
    #[arg(long, value_name = "TEXT")]
    pub description: Option<String>,

    /// Refused: a token on the command line is visible to every process and kept in shell
    /// history. Pipe it on stdin instead.
    #[arg(hide = true, num_args = 0.., trailing_var_arg = true, allow_hyphen_values = true)]
    pub stray: Vec<String>,
}

#[derive(Debug, Args)]
pub struct GetArgs {
    /// Output: the bare token, or JSON with its metadata
    #[arg(long, value_enum, default_value_t = GetFormat::Token)]
    pub format: GetFormat,

    /// Refuse a token with less than this left (90s, 15m, 12h, 30d)
    #[arg(long, value_name = "DUR", value_parser = parse_arg)]
    pub min_ttl: Option<SignedDuration>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GetFormat {
    Token,
    Json,
}

#[derive(Debug, Args)]
pub struct EraseArgs {
    /// Revoke the token on the server first (with influxctl, authenticated with the token
    /// itself); if that fails, nothing is erased
    #[arg(long)]
    pub revoke: bool,
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Lifetime of the new token (90s, 15m, 12h, 30d) [default: `ttl` in settings, else 90d]
    #[arg(long, value_name = "DUR", value_parser = parse_arg, conflicts_with = "expires_at")]
    pub ttl: Option<SignedDuration>,

    /// When the new token expires (RFC 3339)
    #[arg(long, value_name = "TIME", value_parser = parse_time_arg)]
    pub expires_at: Option<Timestamp>,

    /// Its description [default: "influxctl-cred USER@HOST DATE"]
    #[arg(long, value_name = "TEXT")]
    pub description: Option<String>,
}

#[derive(Debug, Args)]
pub struct RotateArgs {
    /// Lifetime of the new token (90s, 15m, 12h, 30d) [default: `ttl` in settings, else 90d]
    #[arg(long, value_name = "DUR", value_parser = parse_arg)]
    pub ttl: Option<SignedDuration>,

    /// Do not revoke the old token
    #[arg(long)]
    pub keep_old: bool,

    /// Authenticate with the token being replaced instead of your OAuth login (unattended
    /// runners); the new token then revokes the old one
    #[arg(long)]
    pub with_current_token: bool,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    #[command(flatten)]
    pub format: FormatArgs,

    /// Also ask the servers about every stored token (influxctl management list, and the
    /// Management API as `verify` does)
    #[arg(long)]
    pub online: bool,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Output: one line, or one JSON object with `status` (valid, invalid, unreachable, error)
    #[arg(long, value_enum, default_value_t = VerifyFormat::Text)]
    pub format: VerifyFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum VerifyFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct ExecArgs {
    /// How the derived config reaches influxctl: a sealed memory file passed as /dev/fd/N
    /// (memfd, Linux, the default there), a 0600 file in a private folder on tmpfs (file, the
    /// default elsewhere), or a named pipe that holds nothing on disk (fifo, Unix)
    #[arg(long, value_enum, default_value_t = Inject::DEFAULT)]
    pub inject: Inject,

    /// Refuse a token with less than this left (90s, 15m, 12h, 30d)
    #[arg(long, value_name = "DUR", value_parser = parse_arg)]
    pub min_ttl: Option<SignedDuration>,

    /// Run the program unchanged when no token is stored for the profile (for shell-init)
    #[arg(long)]
    pub allow_missing: bool,

    /// Also give the program a short-lived database token with exactly these permissions
    /// (read=DB,write=DB2; `*` for every database; repeatable), as $INFLUX_TOKEN and as the
    /// profile's `token`; deleted when the program exits
    #[arg(
        long,
        value_name = "SPEC",
        value_parser = crate::api::dbtoken::parse_spec_arg,
        conflicts_with = "allow_missing"
    )]
    pub database_token: Vec<crate::api::DatabaseTokenSpec>,

    /// Lifetime of that database token, at least 1m [default: 1h]
    #[arg(
        long,
        value_name = "DUR",
        value_parser = crate::api::dbtoken::parse_ttl_arg,
        requires = "database_token"
    )]
    pub database_token_ttl: Option<SignedDuration>,

    /// The program (influxctl) and its arguments, after `--`
    #[arg(
        required = true,
        num_args = 1..,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "PROGRAM",
        value_parser = clap::value_parser!(std::ffi::OsString)
    )]
    pub command: Vec<std::ffi::OsString>,
}

/// Where `exec` puts the derived config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Inject {
    Memfd,
    File,
    Fifo,
}

impl Inject {
    /// `memfd` on Linux, `file` elsewhere.
    pub const DEFAULT: Inject =
        if cfg!(target_os = "linux") { Inject::Memfd } else { Inject::File };
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Every profile that holds a plaintext mgmt_token (default: the selected profile only)
    #[arg(long)]
    pub all: bool,

    /// Say what would be moved; change nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Store the tokens but leave config.toml as it is
    #[arg(long)]
    pub keep_plaintext: bool,
}

/// Shells `shell-init` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InitShell {
    Bash,
    Zsh,
    Fish,
}

#[derive(Debug, Args)]
pub struct FormatArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Table,
    Json,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
