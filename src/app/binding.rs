//! Cluster binding (docs/spec.md §4): an entry is handed out only for the cluster its profile was bound
//! to; a binding is recorded on first use and rewritten only with the user's consent.

use super::{Found, Vault};
use crate::entry::{Binding, Cluster, Entry};
use crate::error::{Error, Result};
use crate::influxctl::config::Snapshot;
use crate::settings::StoreKind;

impl Vault {
    /// Refuses an entry whose binding is not exactly influxctl's profile of the same name in
    /// `snap` (docs/spec.md §4). A profile that is not in the config passes: the derived config is then
    /// built from the binding itself. Entries of the env store carry no binding.
    pub fn check_binding_in(&self, snap: &Snapshot, entry: &Entry) -> Result<Binding> {
        match snap.cluster(&entry.profile)? {
            Some(now) => entry.cluster.check(&entry.profile, &now),
            None if entry.cluster.is_empty() => Ok(Binding::Unbound),
            None => Ok(Binding::Matches),
        }
    }

    /// [`Vault::check_binding_in`] against a fresh snapshot.
    pub fn check_binding(&self, entry: &Entry) -> Result<()> {
        self.check_binding_in(&self.snapshot()?, entry).map(drop)
    }

    /// Checks `found` against `snap`; binds an unbound entry (trust on first use) and completes
    /// a legacy binding, in memory and in its store (best effort, under the store lock).
    pub fn bind_in(&self, snap: &Snapshot, found: &mut Found) -> Result<()> {
        let profile = found.entry.profile.clone();
        let state = self.check_binding_in(snap, &found.entry)?;
        let Some(now) = snap.cluster(&profile)? else { return Ok(()) };
        if found.store == StoreKind::Env {
            return Ok(());
        }
        match state {
            Binding::Matches => return Ok(()),
            Binding::Unbound if found.store == StoreKind::File => crate::ui::note(format!(
                "binding the token of profile {profile:?} to {} (first use, recorded on this machine in {}; the entry itself is not changed; `influxctl-cred rebind -p {profile}` moves it)",
                now.describe(),
                crate::store::file::first_use_path(&self.paths.store_dir(), &profile).display()
            )),
            Binding::Unbound => crate::ui::note(format!(
                "binding the token of profile {profile:?} to {} (first use; `influxctl-cred rebind -p {profile}` moves it)",
                now.describe()
            )),
            Binding::MatchesLegacy => crate::ui::note(format!(
                "the binding of profile {profile:?} was stored without the profile's TLS trust; it matches a profile with none set, and is now recorded in full{}",
                if found.store == StoreKind::File {
                    " (on this machine; the entry itself is not changed)"
                } else {
                    ""
                }
            )),
        }
        let old = found.entry.cluster.clone();
        found.entry.cluster = now;
        if let Err(e) = self.rewrite_binding(found.store, &found.entry, &old) {
            crate::ui::verbose(format!(
                "could not record the binding of profile {profile:?} now: {e}"
            ));
        }
        Ok(())
    }

    /// Rewrites the binding of the entry in `store` to `entry.cluster`, under the store lock,
    /// provided the stored entry still holds the same token and the binding `was`.
    pub(super) fn rewrite_binding(
        &self,
        store: StoreKind,
        entry: &Entry,
        was: &Cluster,
    ) -> Result<()> {
        let lock = self.lock()?;
        self.rewrite_binding_locked(store, entry, was, &lock)
    }

    /// [`Vault::rewrite_binding`] for a caller that holds the store lock.
    pub fn rewrite_binding_locked(
        &self,
        store: StoreKind,
        entry: &Entry,
        was: &Cluster,
        _lock: &crate::lock::StoreLock,
    ) -> Result<()> {
        let store = self.store(store)?;
        // A file-store entry without a binding of its own keeps it on this machine, never in
        // its age file, which may be shared (docs/stores.md, "First use").
        if store.bind_beside(entry, was)? {
            return Ok(());
        }
        let Some(mut current) = store.get(&entry.profile)? else {
            return Err(Error::Other("the entry changed meanwhile".into()));
        };
        if current.token != entry.token || current.cluster != *was {
            return Err(Error::Other("the entry changed meanwhile".into()));
        }
        current.cluster = entry.cluster.clone();
        store.set(&current).map(drop)
    }
}
