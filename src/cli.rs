//! The command line, as clap definitions only. Doc comments are the `--help` text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use jiff::{SignedDuration, Timestamp};

use crate::duration::{parse_arg, parse_time_arg};

mod agent;
mod annotate;
mod answer;
mod audit;
mod help;
mod lifecycle;
mod setup;
pub use agent::{AgentArgs, UnlockArgs};
pub use annotate::AnnotateArgs;
pub use answer::{AnswerArgs, AnswerFormat};
pub use audit::AuditArgs;
pub use lifecycle::{CreateArgs, RotateArgs};
pub use setup::SetupArgs;

/// Keeps InfluxDB 3 management tokens encrypted (OS keyring or age files) and hands them to
/// influxctl for the life of one process.
#[derive(Debug, Parser)]
#[command(name = "influxctl-cred", version, propagate_version = true, max_term_width = 100)]
#[command(after_long_help = help::TOP)]
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
    /// First run: find influxctl's config, pick a store (and say why), create the identity,
    /// offer to import plaintext tokens, print the shell-init line; changes nothing a second time
    #[command(after_long_help = help::SETUP)]
    Setup(SetupArgs),
    /// Store a token, read from stdin (one line) or typed without echo on a terminal
    #[command(after_long_help = help::STORE)]
    Store(StoreArgs),
    /// Print the token (for scripts)
    #[command(after_long_help = help::GET)]
    Get(GetArgs),
    /// Delete the entry (idempotent)
    #[command(after_long_help = help::ERASE)]
    Erase(EraseArgs),
    /// List entries: profile, store, token id, description, created, expires (never the token)
    #[command(after_long_help = help::LIST)]
    List(FormatArgs),
    /// Re-encrypt every file-store entry to the current recipients
    #[command(after_long_help = help::REKEY)]
    Rekey,
    /// Check stores, identities, file permissions and expiry (--online: the server's view)
    #[command(after_long_help = help::DOCTOR)]
    Doctor(DoctorArgs),
    /// Create a management token with influxctl (your OAuth login) and store it; prints its id
    /// and expiry, never the token
    #[command(after_long_help = help::CREATE)]
    Create(CreateArgs),
    /// Replace the stored token: create a new one, store it, read it back, revoke the old one
    #[command(after_long_help = help::ROTATE)]
    Rotate(RotateArgs),
    /// Ask the Management API whether the stored token works (exit 0 valid, 9 invalid, 1
    /// unreachable)
    #[command(after_long_help = help::VERIFY)]
    Verify(VerifyArgs),
    /// Run influxctl with the stored token, given to it only for the life of that process
    #[command(after_long_help = help::EXEC)]
    Exec(ExecArgs),
    /// Move plaintext `mgmt_token` values out of influxctl's config.toml into a store (and
    /// look up their token ids)
    #[command(after_long_help = help::IMPORT)]
    Import(ImportArgs),
    /// Set the token id, description or expiry of a stored entry, without the token
    #[command(after_long_help = help::ANNOTATE)]
    Annotate(AnnotateArgs),
    /// Print a shell function that runs every `influxctl` through `exec`
    #[command(after_long_help = help::SHELL_INIT)]
    ShellInit {
        /// bash, zsh or fish (default: the name of $SHELL)
        #[arg(value_enum)]
        shell: Option<InitShell>,
    },
    /// Speak the JSON Lines helper protocol on stdin/stdout
    #[command(after_long_help = help::HELPER)]
    Helper,
    /// Bind the stored token to the profile's current endpoint in influxctl's config (after a
    /// deliberate move); shows the old and new endpoint and asks first
    #[command(after_long_help = help::REBIND)]
    Rebind(RebindArgs),
    /// Show the audit log: every release of a token (never the token); -p filters by profile
    #[command(after_long_help = help::AUDIT)]
    Audit(AuditArgs),
    /// Run the agent in the foreground: holds unlocked identities for this user's processes
    /// (`unlock` starts it when none runs)
    #[command(after_long_help = help::AGENT)]
    Agent(AgentArgs),
    /// Type the passphrase of each passphrase-protected identity once; the agent then opens
    /// entries for get, exec, list and helper without asking again
    #[command(after_long_help = help::UNLOCK)]
    Unlock(UnlockArgs),
    /// Make the agent forget every identity and stop, and forget the vault store's cached
    /// login (revoked on the server, the encrypted cache deleted)
    #[command(after_long_help = help::LOCK)]
    Lock,
    /// Print shell completions
    #[command(after_long_help = help::COMPLETIONS)]
    Completions {
        /// bash, zsh, fish, elvish or powershell
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff)
    #[command(after_long_help = help::MAN)]
    Man,
}

#[derive(Debug, Args)]
pub struct RebindArgs {
    /// Do not ask (needed when there is no terminal)
    #[arg(long)]
    pub yes: bool,

    #[command(flatten)]
    pub answer: AnswerArgs,
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

    #[command(flatten)]
    pub answer: AnswerArgs,
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

    #[command(flatten)]
    pub answer: AnswerArgs,
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
    #[arg(long, value_enum)]
    pub inject: Option<Inject>,

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

    #[command(flatten)]
    pub answer: AnswerArgs,
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
mod tests;
