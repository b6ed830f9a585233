//! `exec --database-token` (docs/spec.md §9): a least-privilege, short-lived **database** token for the
//! one child of `exec`. It is created with the management token only after that token passed
//! the binding and expiry checks, before the child starts; the child gets it as `INFLUX_TOKEN`
//! and as the derived profile's `token` (the management token is neither in its environment nor
//! in its derived config);
//! and it is deleted when the child is gone, on every path: normal exit, crash, a signal to us
//! (forwarded, then the child is waited for), an error of ours, a panic (the guard's `Drop`).
//! A failed delete warns with the token's id and expiry and leaves the exit code alone.
//!
//! Signals are caught from *before* the token is created, so that none can end us between its
//! creation and its deletion: a signal during the create request stops the run before the
//! child starts, and the token is deleted.

use std::ffi::OsString;

use jiff::SignedDuration;

use super::{Plan, Secrets};
use crate::api::{DatabaseToken, DatabaseTokenSpec};
use crate::app::{Found, Vault};
use crate::cli::Inject;
use crate::entry::Cluster;
use crate::error::Result;
use crate::influxctl::config::Snapshot;
use crate::spawn::child;

/// The variable the child finds the database token in (what InfluxDB 3 clients read).
pub const INFLUX_TOKEN_VAR: &str = "INFLUX_TOKEN";

/// Creates the database token, runs the child with it, deletes it; the child's exit code.
/// `found` is the checked management token of `plan.profile`.
pub fn run(
    plan: &Plan,
    vault: &Vault,
    snap: &Snapshot,
    found: Found,
    spec: &DatabaseTokenSpec,
    ttl: SignedDuration,
    inject: Inject,
) -> Result<i32> {
    let forwarder = child::Forwarder::install()?;
    // Where influxctl will really send requests: its --account/--cluster win over the profile.
    let overrides = Cluster {
        account_id: plan.args.account().map(str::to_owned),
        cluster_id: plan.args.cluster().map(str::to_owned),
        ..Cluster::default()
    };
    let mgmt = found.entry.token;
    let client = crate::api::client_targeting(
        &vault.settings,
        snap,
        &plan.profile,
        mgmt.clone(),
        &overrides,
        &found.entry.cluster,
    )
    .map_err(|e| {
        e.context(format!(
            "--database-token needs the Management API of profile {:?}",
            plan.profile
        ))
    })?;
    let guard = DatabaseToken::create(&client, spec, ttl)?;
    crate::ui::verbose(format!(
        "the program gets database token {} ({spec}) as ${INFLUX_TOKEN_VAR} and the profile's `token`",
        guard.id()
    ));
    let secrets = Secrets {
        // Least privilege: the child gets the database token only. The management token
        // (full account access) is not written into its config; influxctl management
        // commands in the same job need a plain `exec` (or the user's OAuth login).
        keys: vec![("token", guard.token().clone())],
        env: vec![(OsString::from(INFLUX_TOKEN_VAR), guard.token().clone())],
    };
    let code = plan.run_caught(snap, &found.entry.cluster, secrets, inject, &forwarder);
    // Deleted (or warned about) while signals are still caught; `Drop` covers a panic above.
    drop(guard);
    drop(forwarder);
    code
}
