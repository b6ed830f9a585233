//! `annotate`'s arguments: the metadata of a stored entry, changed without the token.

use clap::Args;
use jiff::Timestamp;

use super::AnswerArgs;
use crate::duration::parse_time_arg;

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("change").required(true).multiple(true))]
pub struct AnnotateArgs {
    /// The token's id, as `influxctl management list` shows it
    #[arg(long, value_name = "ID", group = "change", conflicts_with = "lookup_id")]
    pub token_id: Option<String>,

    /// Look the id up in `influxctl management list` (the one live token whose prefix the
    /// stored token starts with), authenticated with the stored token; on a terminal, with
    /// your OAuth login when the stored token cannot list
    #[arg(long, group = "change")]
    pub lookup_id: bool,

    /// Look the id up with the stored token only, never trying your OAuth login (the default
    /// without a terminal)
    #[arg(long, requires = "lookup_id")]
    pub with_current_token: bool,

    /// A description to remember the token by
    #[arg(long, value_name = "TEXT", group = "change")]
    pub description: Option<String>,

    /// When the token expires (RFC 3339)
    #[arg(long, value_name = "TIME", value_parser = parse_time_arg, group = "change")]
    pub expires_at: Option<Timestamp>,

    /// Forget the recorded expiry (the token never expires)
    #[arg(long, group = "change", conflicts_with = "expires_at")]
    pub clear_expiry: bool,

    #[command(flatten)]
    pub answer: AnswerArgs,
}
