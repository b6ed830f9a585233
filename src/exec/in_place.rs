//! `exec` in place (Linux): with `--inject memfd` and influxctl itself as PROGRAM, nothing has
//! to happen after influxctl ends (the sealed memfd goes with the last descriptor, a
//! `--database-token` is not asked for), so `exec` replaces itself with influxctl
//! ([`crate::spawn::replace`]): no fork, no signal forwarding, influxctl's exit status is the
//! caller's. Everything before stays as in a child run: auto-rotation, binding and expiry, the
//! audit record (written before the exec). A script keeps the child model
//! (docs/influxctl.md, "exec in place").

use super::{Plan, Secrets};
use crate::cli::Inject;
use crate::entry::Cluster;
use crate::error::{Error, Result};
use crate::influxctl::config::Snapshot;
use crate::spawn::{child, place, replace};
use crate::ui;

impl Plan {
    /// Whether this run may replace the process: memfd injection, influxctl itself (not a
    /// script), and nothing for the child's environment that would need a parent.
    pub(super) fn may_exec_in_place(&self, inject: Inject, secrets: &Secrets) -> bool {
        inject == Inject::Memfd && self.script.is_none() && secrets.env.is_empty()
    }

    /// Writes the derived config to a sealed memfd and becomes influxctl. Returns only when
    /// the `execve` failed: 127 (not found) or 126, with a second audit record saying that the
    /// program did not start (docs/audit.md).
    pub(super) fn exec_in_place(
        &self,
        snap: &Snapshot,
        cluster: &Cluster,
        secrets: Secrets,
    ) -> Result<i32> {
        let text = self.derive_text(snap, cluster, &secrets)?;
        // The memfd holds the text now; the token's own copies are zeroized here.
        let derived = place::Derived::place(Inject::Memfd, text)?;
        drop(secrets);
        let Some(memfd) = derived.memfd_fd() else {
            return Err(Error::Other("--inject memfd gave no memory file".into()));
        };
        let args = self.args.rewrite(Some(derived.path()), self.add_profile.as_deref());
        ui::verbose(format!("derived config at {}; exec in place", derived.path().display()));
        // Nothing of ours runs after a successful execve: the record is written first, and a
        // second one says `not-started` when the execve fails (docs/audit.md).
        if let Some(record) = &self.audit {
            crate::audit::record(record);
        }
        let err = replace::exec_in_place(&self.program, &args, memfd);
        let code = match err.kind() {
            std::io::ErrorKind::NotFound => child::EXIT_NOT_FOUND,
            _ => child::EXIT_CANNOT_EXECUTE,
        };
        if let Some(record) = &self.audit {
            let mut failed = record.clone();
            "not-started".clone_into(&mut failed.outcome);
            crate::audit::record(&failed);
        }
        ui::report(&Error::io("cannot run", &self.program, err));
        Ok(code)
    }
}
