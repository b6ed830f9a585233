//! What one `exec` run is asked to do, from the parsed command line.

use std::ffi::OsString;
use std::path::PathBuf;

use jiff::SignedDuration;

use crate::api::DatabaseTokenSpec;
use crate::cli::{ExecArgs, Global, Inject};
use crate::settings::StoreKind;

/// Everything one `exec` run is asked to do.
#[derive(Debug, Clone)]
pub struct ExecOptions {
    /// The program (influxctl) and its arguments.
    pub program: OsString,
    pub args: Vec<OsString>,
    /// Our `-p`, which must agree with influxctl's own choice.
    pub profile_flag: Option<String>,
    /// Our `--influxctl-config`, which must agree with influxctl's `--config`.
    pub influxctl_config: Option<PathBuf>,
    /// `--inject`, when given ([`Inject::DEFAULT`] otherwise).
    pub inject: Option<Inject>,
    pub min_ttl: Option<SignedDuration>,
    /// Our `--store`: read the token from that store only.
    pub store: Option<StoreKind>,
    /// Run the program unchanged when no token is stored for the profile.
    pub allow_missing: bool,
    pub non_interactive: bool,
    /// `--database-token` (every flag merged): a database token for the child.
    pub database_token: Option<DatabaseTokenSpec>,
    /// `--database-token-ttl`.
    pub database_token_ttl: SignedDuration,
}

impl ExecOptions {
    /// From the parsed command line.
    pub fn from_cli(g: &Global, args: &ExecArgs, non_interactive: bool) -> ExecOptions {
        let mut command = args.command.iter().cloned();
        ExecOptions {
            // clap requires at least one value.
            program: command.next().unwrap_or_default(),
            args: command.collect(),
            profile_flag: g.profile.clone(),
            influxctl_config: g.influxctl_config.clone(),
            inject: args.inject,
            min_ttl: args.min_ttl,
            store: g.store,
            allow_missing: args.allow_missing,
            non_interactive,
            database_token: args.database_token.iter().cloned().reduce(|mut all, one| {
                all.merge(one);
                all
            }),
            database_token_ttl: args.database_token_ttl.unwrap_or(crate::api::dbtoken::DEFAULT_TTL),
        }
    }
}
