//! The arguments of `create` and `rotate`.

use clap::Args;
use jiff::{SignedDuration, Timestamp};

use super::AnswerArgs;
use crate::duration::{parse_arg, parse_time_arg};

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

    #[command(flatten)]
    pub answer: AnswerArgs,
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

    #[command(flatten)]
    pub answer: AnswerArgs,
}
