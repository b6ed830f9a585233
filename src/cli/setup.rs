//! `setup`'s arguments (docs/spec.md §5).

use clap::Args;

use super::AnswerArgs;

#[derive(Debug, Args)]
pub struct SetupArgs {
    /// Move every plaintext `mgmt_token` into the store without asking (without a terminal,
    /// setup moves nothing unless told so)
    #[arg(long)]
    pub import: bool,

    #[command(flatten)]
    pub answer: AnswerArgs,
}
