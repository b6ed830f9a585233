//! Writing: the choice of store for a write, `put`, `erase` and `rekey`, each under the store
//! lock.

use super::{Vault, Written};
use crate::entry::Entry;
use crate::error::{Error, ErrorKind, Result};
use crate::settings::StoreKind;
use crate::store::Store;
use crate::store::file::FileStore;

impl Vault {
    /// The store a write goes to: `target`, else the profile's configured store, else the
    /// store that already holds the profile (so a second `store` replaces the entry where it
    /// is), else the keyring when its probe answers, else the file store. When the store that
    /// holds the profile cannot be reached now (a locked keyring), the write is refused
    /// (`store-unavailable`) rather than leave that entry behind, stale (docs/spec.md §3).
    pub fn write_target(&self, profile: &str, target: Option<StoreKind>) -> Result<&dyn Store> {
        if let Some(kind) = target.or_else(|| self.settings.store_for(profile)) {
            return self.store(kind);
        }
        if let Some(holder) =
            self.stores.iter().find(|s| s.kind() != StoreKind::Env && s.may_hold(profile))
        {
            return match holder.probe() {
                Ok(()) => Ok(holder.as_ref()),
                Err(e) => Err(e.context(format!(
                    "profile {profile:?} already has an entry in the {kind} store, which cannot be reached now; nothing was written, since an entry elsewhere would leave that one behind, stale. Unlock it, or name a store with --store (a second copy is then reported)",
                    kind = holder.kind()
                ))),
            };
        }
        if let Ok(keyring) = self.store(StoreKind::Keyring) {
            match keyring.probe() {
                Ok(()) => return Ok(keyring),
                Err(e) => crate::ui::verbose(format!("not writing to the keyring: {e}")),
            }
        }
        self.store(StoreKind::File).or_else(|_| {
            self.stores.iter().find(|s| s.kind() != StoreKind::Env).map(|s| s.as_ref()).ok_or_else(
                || Error::StoreUnavailable {
                    store: "any",
                    reason: "no writable store".into(),
                    hint: None,
                },
            )
        })
    }

    /// Writes `entry`, bound to influxctl's profile of the same name when the entry has no
    /// binding yet, under the store lock.
    pub fn put(&self, entry: Entry, target: Option<StoreKind>) -> Result<Written> {
        crate::store::check_writable_name(&entry.profile)?;
        self.write_target(&entry.profile, target)?;
        let lock = self.lock()?;
        self.put_locked(entry, target, &lock)
    }

    /// [`Vault::put`] for a caller that already holds the store lock (taking it twice in one
    /// process would wait for itself): `lock` is the proof.
    pub fn put_locked(
        &self,
        mut entry: Entry,
        target: Option<StoreKind>,
        _lock: &crate::lock::StoreLock,
    ) -> Result<Written> {
        crate::store::check_writable_name(&entry.profile)?;
        if let Some(id) = &entry.token_id {
            crate::entry::validate_token_id(id)?;
        }
        if let Some(d) = &entry.description {
            crate::entry::check_description(d)?;
        }
        if entry.cluster.is_empty()
            && let Some(cluster) = self.configured_cluster(&entry.profile)?
        {
            entry.cluster = cluster;
        }
        let store = self.write_target(&entry.profile, target)?;
        let replaced = store.set(&entry)?;
        // Named stores may leave another copy behind: never silently (docs/spec.md §3).
        for other in self.stores.iter().filter(|s| {
            s.kind() != StoreKind::Env && s.kind() != store.kind() && s.may_hold(&entry.profile)
        }) {
            crate::ui::warn(format!(
                "the {other} store still holds another token of profile {p:?}, which may be stale; remove it with `influxctl-cred erase -p {p} --store {other}`",
                other = other.kind(),
                p = entry.profile
            ));
        }
        // The vault store cannot say without the network whether it holds the profile (its
        // `may_hold` is false): one LIST of its prefix tells, when the write went elsewhere.
        if store.kind() != StoreKind::Vault
            && let Ok(vault) = self.store(StoreKind::Vault)
            && vault.names().is_ok_and(|names| names.contains(&entry.profile))
        {
            crate::ui::warn(format!(
                "the vault store still holds another token of profile {p:?}, which may be stale (and is shared with other machines); remove it with `influxctl-cred erase -p {p} --store vault`, or write there with --store vault",
                p = entry.profile
            ));
        }
        Ok(Written { store: store.kind(), replaced })
    }

    /// Changes the metadata of the entry of `profile` in `store` (its id, description,
    /// expiry) with `change`, under the store lock, after reading the entry again: the token,
    /// profile, creation time, origin and binding are kept whatever `change` does. With
    /// `expect`, the entry must still hold that token (else nothing is written: another run
    /// replaced it meanwhile). Answers the entry as written.
    pub fn update_meta(
        &self,
        store: StoreKind,
        profile: &str,
        expect: Option<&crate::secret::Token>,
        change: impl FnOnce(&mut Entry) -> Result<()>,
    ) -> Result<Entry> {
        if store == StoreKind::Env {
            return Err(crate::store::read_only(store));
        }
        let lock = self.lock()?;
        let store = self.store(store)?;
        let Some(current) = store.get(profile)? else {
            return Err(Error::NotFound { profile: profile.to_owned() });
        };
        if expect.is_some_and(|t| *t != current.token) {
            return Err(Error::Other(format!(
                "the token of profile {profile:?} was replaced meanwhile; nothing was changed"
            )));
        }
        let mut changed = current.clone();
        change(&mut changed)?;
        let entry = Entry {
            token: current.token,
            profile: current.profile,
            created_at: current.created_at,
            origin: current.origin,
            cluster: current.cluster,
            ..changed
        };
        if let Some(id) = &entry.token_id {
            crate::entry::validate_token_id(id)?;
        }
        if let Some(d) = &entry.description {
            crate::entry::check_description(d)?;
        }
        store.set(&entry)?;
        drop(lock);
        Ok(entry)
    }

    /// Removes the entry of `profile` from `target`, or from every writable store. A store that
    /// is unavailable is skipped only when nothing says it holds the profile (see
    /// [`Vault::find`]); otherwise the others are still erased and the answer is its failure,
    /// saying what was and was not erased (docs/spec.md §3: exit 5, never a false "erased").
    pub fn erase(&self, profile: &str, target: Option<StoreKind>) -> Result<bool> {
        self.erase_from(profile, target).map(|stores| !stores.is_empty())
    }

    /// [`Vault::erase`], answering the stores the entry was erased from (empty: there was
    /// none).
    pub fn erase_from(&self, profile: &str, target: Option<StoreKind>) -> Result<Vec<StoreKind>> {
        crate::store::validate_profile(profile)?;
        let lock = self.lock()?;
        self.erase_locked(profile, target, &lock)
    }

    /// [`Vault::erase_from`] for a caller that already holds the store lock.
    pub fn erase_locked(
        &self,
        profile: &str,
        target: Option<StoreKind>,
        _lock: &crate::lock::StoreLock,
    ) -> Result<Vec<StoreKind>> {
        crate::store::validate_profile(profile)?;
        if let Some(kind) = target {
            return Ok(if self.store(kind)?.erase(profile)? { vec![kind] } else { Vec::new() });
        }
        let configured = self.settings.store_for(profile);
        let mut erased: Vec<StoreKind> = Vec::new();
        let mut failed: Vec<(StoreKind, Error)> = Vec::new();
        for store in self.stores.iter().filter(|s| s.kind() != StoreKind::Env) {
            // Asked before the erase: a failed erase leaves the index as it was anyway.
            let may_hold = store.may_hold(profile);
            match store.erase(profile) {
                Ok(true) => erased.push(store.kind()),
                Ok(false) => {}
                Err(e)
                    if e.kind() == ErrorKind::StoreUnavailable
                        && configured != Some(store.kind())
                        && !may_hold =>
                {
                    crate::ui::verbose(format!("skipped the {} store: {e}", store.kind()));
                }
                Err(e) => failed.push((store.kind(), e)),
            }
        }
        let mut failed = failed.into_iter();
        let Some((kind, first)) = failed.next() else { return Ok(erased) };
        let mut not: Vec<&str> = vec![kind.as_str()];
        not.extend(failed.map(|(k, _)| k.as_str()));
        let done = match erased.as_slice() {
            [] => String::new(),
            done => {
                let names: Vec<&str> = done.iter().map(|k| k.as_str()).collect();
                format!("erased it from the {} store, but ", names.join(" and "))
            }
        };
        Err(first.context(format!(
            "profile {profile:?}: {done}NOT from the {} store; it is still there",
            not.join(" and ")
        )))
    }

    /// `rekey`: re-encrypts every file-store entry to the current recipients, under the store
    /// lock.
    pub fn rekey(&self) -> Result<i32> {
        let store = FileStore::new(&self.paths, &self.settings, !self.opts.non_interactive);
        let _lock = self.lock()?;
        store.rekey()
    }
}
