//! `audit`'s arguments (docs/spec.md §13). The profile filter is the global `-p`/`--profile`.

use clap::Args;
use jiff::SignedDuration;

use super::ListFormat;
use crate::duration::parse_arg;

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Only records of the last DUR (90s, 15m, 12h, 30d)
    #[arg(long, value_name = "DUR", value_parser = parse_arg)]
    pub since: Option<SignedDuration>,

    /// Output: a table, or the records as JSON Lines
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
}
