//! The arguments of `agent` and `unlock`.

use clap::Args;
use jiff::SignedDuration;

use crate::duration::parse_arg;

#[derive(Debug, Args)]
pub struct AgentArgs {
    /// How long to hold identities (default: `agent_ttl` in config.toml, else 8h)
    #[arg(long, value_name = "DUR", value_parser = parse_arg)]
    pub ttl: Option<SignedDuration>,
    /// Forget and exit after this long without a request (default: `agent_idle`, else 1h)
    #[arg(long, value_name = "DUR", value_parser = parse_arg)]
    pub idle: Option<SignedDuration>,
}

#[derive(Debug, Args)]
pub struct UnlockArgs {
    /// How long the agent holds the identities (default: `agent_ttl`, else 8h)
    #[arg(long, value_name = "DUR", value_parser = parse_arg)]
    pub ttl: Option<SignedDuration>,
}
