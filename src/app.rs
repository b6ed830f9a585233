//! The shared driver over the stores: the lookup chain, the choice of store for writes, the
//! store lock, cluster binding and expiry. The command line and the helper protocol both call
//! [`Vault`]; neither talks to a store directly.

use std::path::PathBuf;

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::entry::{Binding, Cluster, Entry, EntryMeta};
use crate::error::{Error, ErrorKind, Result};
use crate::influxctl::config::{InfluxConfig, Snapshot};
use crate::paths::Paths;
use crate::settings::Settings;
use crate::store::env::EnvStore;
use crate::store::file::FileStore;
use crate::store::keyring::KeyringStore;
use crate::store::{Store, StoreKind};

/// Switches that change how the driver behaves.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// No prompts: a passphrase-encrypted identity or a keyring prompt gives
    /// `interaction-required`.
    pub non_interactive: bool,
    /// influxctl's config to bind against (`--influxctl-config`, or exec's `--config`).
    pub influxctl_config: Option<PathBuf>,
}

/// An entry and the store it came from.
#[derive(Debug)]
pub struct Found {
    pub entry: Entry,
    pub store: StoreKind,
}

/// Where a write went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    pub store: StoreKind,
    pub replaced: bool,
}

/// One row of `list` (also the helper's `list` entries). Never a token.
#[derive(Debug, Clone, Serialize)]
pub struct ListRow {
    pub store: StoreKind,
    #[serde(flatten)]
    pub meta: EntryMeta,
    pub expiry: String,
}

/// The stores, our settings and paths.
pub struct Vault {
    pub paths: Paths,
    pub settings: Settings,
    pub opts: Options,
    /// In preference order for reads after env and the configured store.
    stores: Vec<Box<dyn Store>>,
    /// `--store` given to a command that reads: only that store is read.
    read_only_from: Option<StoreKind>,
}

impl Vault {
    /// The real stores: env (snapshot of the process environment), file, keyring.
    pub fn open(paths: Paths, opts: Options) -> Result<Vault> {
        let settings = Settings::load(&paths.settings())?;
        let env = EnvStore::from_process();
        let file = FileStore::new(&paths, &settings, !opts.non_interactive);
        let keyring = KeyringStore::new(&paths, &settings);
        let stores: Vec<Box<dyn Store>> = vec![Box::new(env), Box::new(file), Box::new(keyring)];
        Ok(Vault { paths, settings, opts, stores, read_only_from: None })
    }

    /// Any stores (tests).
    pub fn with_stores(
        paths: Paths,
        settings: Settings,
        opts: Options,
        stores: Vec<Box<dyn Store>>,
    ) -> Vault {
        Vault { paths, settings, opts, stores, read_only_from: None }
    }

    /// The store named `kind`, if this vault has it.
    pub fn store(&self, kind: StoreKind) -> Result<&dyn Store> {
        self.stores.iter().find(|s| s.kind() == kind).map(|s| s.as_ref()).ok_or_else(|| {
            Error::StoreUnavailable {
                store: kind.as_str(),
                reason: "not available in this run".into(),
                hint: None,
            }
        })
    }

    /// The kinds of the stores this vault has, in order.
    pub fn kinds(&self) -> Vec<StoreKind> {
        self.stores.iter().map(|s| s.kind()).collect()
    }

    /// Lets every store keep what it read while its files are unchanged, for a long session
    /// (the helper): see [`Store::keep_for_session`].
    pub fn keep_for_session(&self) {
        for s in &self.stores {
            s.keep_for_session();
        }
    }

    /// The stores that answer their probe now.
    pub fn usable(&self) -> Vec<StoreKind> {
        self.stores.iter().filter(|s| s.probe().is_ok()).map(|s| s.kind()).collect()
    }

    /// Read order: env, the profile's configured store, then the rest.
    /// Makes reads (`get`, `find`, `list`) use only `store` when it is `Some` (`--store`).
    pub fn reading_only_from(mut self, store: Option<StoreKind>) -> Vault {
        self.read_only_from = store;
        self
    }

    fn read_order(&self, profile: &str) -> Vec<&dyn Store> {
        if let Some(only) = self.read_only_from {
            return self.stores.iter().filter(|s| s.kind() == only).map(|s| s.as_ref()).collect();
        }
        let configured = self.settings.store_for(profile);
        let mut order: Vec<&dyn Store> = Vec::with_capacity(self.stores.len());
        order.extend(self.stores.iter().filter(|s| s.kind() == StoreKind::Env).map(|s| s.as_ref()));
        if let Some(c) = configured.filter(|c| *c != StoreKind::Env) {
            order.extend(self.stores.iter().filter(|s| s.kind() == c).map(|s| s.as_ref()));
        }
        order.extend(
            self.stores
                .iter()
                .filter(|s| s.kind() != StoreKind::Env && Some(s.kind()) != configured)
                .map(|s| s.as_ref()),
        );
        order
    }

    /// The entry of `profile` from the first store that has it, without binding or expiry
    /// checks. A store that cannot be searched is skipped on the way to `not-found` only when
    /// nothing says the entry is there: it was not named (`--store`), is not the profile's
    /// configured store, and does not say it may hold the profile ([`Store::may_hold`]: the
    /// keyring's index). Otherwise its failure is the answer (SPEC §3), as is any error about
    /// the entry itself.
    pub fn find(&self, profile: &str) -> Result<Found> {
        crate::store::validate_profile(profile)?;
        let mut first_err: Option<Error> = None;
        let mut skipped: Vec<StoreKind> = Vec::new();
        for store in self.read_order(profile) {
            match store.get(profile) {
                Ok(Some(entry)) => {
                    if store.kind() == StoreKind::Env {
                        self.check_env_answer(profile, &entry)?;
                    }
                    crate::ui::verbose(format!(
                        "found profile {profile:?} in the {} store",
                        store.kind()
                    ));
                    return Ok(Found { entry, store: store.kind() });
                }
                Ok(None) => {}
                // A store that cannot be reached at all (no D-Bus on a CI runner, say) only
                // matters when something says the profile lives there.
                Err(e @ Error::StoreUnavailable { .. }) if !self.must_search(store, profile) => {
                    crate::ui::verbose(format!("skipped the {} store: {e}", store.kind()));
                    skipped.push(store.kind());
                }
                Err(e) => {
                    crate::ui::verbose(format!("the {} store: {e}", store.kind()));
                    let e = match e {
                        e @ Error::StoreUnavailable { .. } if store.may_hold(profile) => e
                            .context(format!(
                                "the {} store holds an entry of profile {profile:?} but cannot be searched now",
                                store.kind()
                            )),
                        e => e,
                    };
                    first_err.get_or_insert(e);
                }
            }
        }
        if let Some(e) = first_err {
            return Err(e);
        }
        let not_found = Error::NotFound { profile: profile.to_owned() };
        Err(match skipped.as_slice() {
            [] => not_found,
            kinds => {
                let names: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
                not_found
                    .context(format!("the {} store could not be searched", names.join(" and ")))
            }
        })
    }

    /// Whether a failure of `store` about `profile` is the answer rather than a store to skip:
    /// the user named it, it is the profile's configured store, or it says it may hold it.
    fn must_search(&self, store: &dyn Store, profile: &str) -> bool {
        let kind = store.kind();
        self.read_only_from == Some(kind)
            || self.settings.store_for(profile) == Some(kind)
            || store.may_hold(profile)
    }

    /// The env store answered for `profile` (SPEC §3): its own variable is refused when another
    /// known profile (influxctl's config, any store) maps to the same variable; the generic
    /// variable answering while a store holds the profile is worth a warning.
    fn check_env_answer(&self, profile: &str, entry: &Entry) -> Result<()> {
        use crate::store::env::{GENERIC_VAR, source_var, var_name};
        let own = var_name(profile);
        match source_var(entry) {
            Some(var) if var == own => {
                let mut known = std::collections::BTreeSet::new();
                if let Ok(Some(config)) = self.influxctl_config() {
                    known.extend(config.profile_names());
                }
                for store in self.stores.iter().filter(|s| s.kind() != StoreKind::Env) {
                    if let Ok(names) = store.names() {
                        known.extend(names);
                    }
                }
                known.insert(profile.to_owned());
                let sharing: Vec<String> = known
                    .into_iter()
                    .filter(|n| var_name(n) == own)
                    .map(|n| format!("{n:?}"))
                    .collect();
                if sharing.len() > 1 {
                    return Err(Error::InvalidRequest(format!(
                        "${own} is ambiguous: profiles {} all map to it, so it is used for none of them; store each profile's token (`influxctl-cred store -p NAME`) and unset ${own}, or rename a profile",
                        sharing.join(" and ")
                    )));
                }
            }
            Some(var) if var == GENERIC_VAR => {
                for store in self.stores.iter().filter(|s| s.kind() != StoreKind::Env) {
                    if store.may_hold(profile) {
                        crate::ui::warn(format!(
                            "${GENERIC_VAR} shadows the token of profile {profile:?} stored in the {} store; unset it to use the stored one",
                            store.kind()
                        ));
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The entry of `profile`, checked for binding (SPEC §4) and expiry (`min_ttl`) against a
    /// fresh [`Snapshot`] of influxctl's config: for paths that hand out the token and read
    /// the config no further (`get`, the helper's `get`).
    pub fn get(&self, profile: &str, min_ttl: Option<SignedDuration>) -> Result<Found> {
        let snap = self.snapshot()?;
        self.get_in(&snap, profile, min_ttl)
    }

    /// [`Vault::get`] against `snap`, the one read of influxctl's config that the caller also
    /// derives from (exec) or picks its endpoint from (the API). An unbound entry is bound to
    /// the snapshot's profile on this first use (a notice), and a legacy binding is rewritten
    /// in the full shape (once), both under the store lock.
    pub fn get_in(
        &self,
        snap: &Snapshot,
        profile: &str,
        min_ttl: Option<SignedDuration>,
    ) -> Result<Found> {
        let mut found = self.find(profile)?;
        self.bind_in(snap, &mut found)?;
        check_expiry(&found.entry.meta(), min_ttl, Timestamp::now())?;
        Ok(found)
    }

    /// influxctl's config, read once ([`Snapshot`]).
    pub fn snapshot(&self) -> Result<Snapshot> {
        Snapshot::read(self.influxctl_config_path())
    }

    /// The path of influxctl's config we bind against.
    pub fn influxctl_config_path(&self) -> Option<PathBuf> {
        self.opts.influxctl_config.clone().or_else(crate::paths::influxctl_default_config)
    }

    /// influxctl's config, when it exists.
    pub fn influxctl_config(&self) -> Result<Option<InfluxConfig>> {
        Ok(self.snapshot()?.config)
    }

    /// Where profile `profile` of influxctl's config points, when there is such a profile.
    pub fn configured_cluster(&self, profile: &str) -> Result<Option<Cluster>> {
        self.snapshot()?.cluster(profile)
    }

    /// Refuses an entry whose binding is not exactly influxctl's profile of the same name in
    /// `snap` (SPEC §4). A profile that is not in the config passes: the derived config is then
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
            Binding::Unbound => crate::ui::note(format!(
                "binding the token of profile {profile:?} to {} (first use; `influxctl-cred rebind -p {profile}` moves it)",
                now.describe()
            )),
            Binding::MatchesLegacy => crate::ui::note(format!(
                "the binding of profile {profile:?} was stored without the profile's TLS trust; it matches a profile with none set, and is now recorded in full"
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
    fn rewrite_binding(&self, store: StoreKind, entry: &Entry, was: &Cluster) -> Result<()> {
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
        match store.get(&entry.profile)? {
            Some(mut current) if current.token == entry.token && current.cluster == *was => {
                current.cluster = entry.cluster.clone();
                store.set(&current).map(drop)
            }
            _ => Err(Error::Other("the entry changed meanwhile".into())),
        }
    }

    /// A warning when the token is inside `renew_before`.
    pub fn expiry_warning(&self, meta: &EntryMeta) -> Option<String> {
        let left = meta.ttl(Timestamp::now())?;
        (left < self.settings.renew_before).then(|| {
            format!(
                "the token of profile {:?} {}; renew it with `influxctl-cred rotate -p {}`",
                meta.profile,
                meta.expiry_state(Timestamp::now()),
                meta.profile
            )
        })
    }

    /// The store a write goes to: `target`, else the profile's configured store, else the
    /// store that already holds the profile (so a second `store` replaces the entry where it
    /// is), else the keyring when its probe answers, else the file store. When the store that
    /// holds the profile cannot be reached now (a locked keyring), the write is refused
    /// (`store-unavailable`) rather than leave that entry behind, stale (SPEC §3).
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
        // Named stores may leave another copy behind: never silently (SPEC §3).
        for other in self.stores.iter().filter(|s| {
            s.kind() != StoreKind::Env && s.kind() != store.kind() && s.may_hold(&entry.profile)
        }) {
            crate::ui::warn(format!(
                "the {other} store still holds another token of profile {p:?}, which may be stale; remove it with `influxctl-cred erase -p {p} --store {other}`",
                other = other.kind(),
                p = entry.profile
            ));
        }
        Ok(Written { store: store.kind(), replaced })
    }

    /// Removes the entry of `profile` from `target`, or from every writable store. A store that
    /// is unavailable is skipped only when nothing says it holds the profile (see
    /// [`Vault::find`]); otherwise the others are still erased and the answer is its failure,
    /// saying what was and was not erased (SPEC §3: exit 5, never a false "erased").
    pub fn erase(&self, profile: &str, target: Option<StoreKind>) -> Result<bool> {
        crate::store::validate_profile(profile)?;
        let lock = self.lock()?;
        self.erase_locked(profile, target, &lock)
    }

    /// [`Vault::erase`] for a caller that already holds the store lock.
    pub fn erase_locked(
        &self,
        profile: &str,
        target: Option<StoreKind>,
        _lock: &crate::lock::StoreLock,
    ) -> Result<bool> {
        crate::store::validate_profile(profile)?;
        if let Some(kind) = target {
            return self.store(kind)?.erase(profile);
        }
        let configured = self.settings.store_for(profile);
        let mut erased: Vec<&str> = Vec::new();
        let mut failed: Vec<(StoreKind, Error)> = Vec::new();
        for store in self.stores.iter().filter(|s| s.kind() != StoreKind::Env) {
            // Asked before the erase: a failed erase leaves the index as it was anyway.
            let may_hold = store.may_hold(profile);
            match store.erase(profile) {
                Ok(true) => erased.push(store.kind().as_str()),
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
        let Some((kind, first)) = failed.next() else { return Ok(!erased.is_empty()) };
        let mut not: Vec<&str> = vec![kind.as_str()];
        not.extend(failed.map(|(k, _)| k.as_str()));
        let done = match erased.as_slice() {
            [] => String::new(),
            done => format!("erased it from the {} store, but ", done.join(" and ")),
        };
        Err(first.context(format!(
            "profile {profile:?}: {done}NOT from the {} store; it is still there",
            not.join(" and ")
        )))
    }

    /// Every entry's metadata, and the stores that could not be listed (with why).
    pub fn list(&self) -> (Vec<ListRow>, Vec<(StoreKind, Error)>) {
        let now = Timestamp::now();
        let mut rows = Vec::new();
        let mut failed = Vec::new();
        for store in
            self.stores.iter().filter(|s| self.read_only_from.is_none_or(|k| k == s.kind()))
        {
            match store.list() {
                Ok(metas) => rows.extend(metas.into_iter().map(|meta| ListRow {
                    store: store.kind(),
                    expiry: meta.expiry_state(now),
                    meta,
                })),
                Err(e)
                    if e.kind() == ErrorKind::StoreUnavailable
                        && store.kind() == StoreKind::Env => {}
                Err(e) => failed.push((store.kind(), e)),
            }
        }
        rows.sort_by(|a, b| a.meta.profile.cmp(&b.meta.profile).then(a.store.cmp(&b.store)));
        (rows, failed)
    }

    /// Takes the store lock (bounded by `lock_timeout`).
    pub fn lock(&self) -> Result<crate::lock::StoreLock> {
        crate::lock::lock(&self.paths.store_dir(), self.settings.lock_timeout)
    }

    /// Runs `f` with prompts turned off on this thread unless `allow` (the helper protocol
    /// allows them only for a `get` that asks for interaction). Restored afterwards, also when
    /// `f` panics. A vault opened non-interactive never prompts either way.
    pub fn with_prompts<T>(&self, allow: bool, f: impl FnOnce() -> T) -> T {
        struct Restore(bool);
        impl Drop for Restore {
            fn drop(&mut self) {
                PROMPTS_OFF.with(|off| off.set(self.0));
            }
        }
        let _restore = Restore(PROMPTS_OFF.with(|off| off.replace(!allow)));
        f()
    }
}

thread_local! {
    /// Set while [`Vault::with_prompts`] runs a request that may not prompt.
    static PROMPTS_OFF: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether a store built interactive may prompt now (for an identity's passphrase, say). Every
/// store that prompts asks this first: the helper protocol turns prompts off for each request
/// that did not ask for interaction.
pub fn prompts_allowed() -> bool {
    !PROMPTS_OFF.with(std::cell::Cell::get)
}

/// Refuses an expired token, or one with less than `min_ttl` left.
pub fn check_expiry(
    meta: &EntryMeta,
    min_ttl: Option<SignedDuration>,
    now: Timestamp,
) -> Result<()> {
    let Some(left) = meta.ttl(now) else { return Ok(()) };
    let expired = |state: String| Error::Expired { profile: meta.profile.clone(), state };
    if left <= SignedDuration::ZERO {
        // Expiry is set whenever ttl() is Some.
        let at = meta.expires_at.map(|t| t.to_string()).unwrap_or_default();
        return Err(expired(format!("expired at {at}")));
    }
    if let Some(min) = min_ttl
        && left < min
    {
        return Err(expired(format!(
            "has {} left, less than the {} asked for",
            crate::duration::humanize(left),
            crate::duration::humanize(min)
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::Origin;
    use crate::secret::Token;
    use crate::store::memory::MemoryStore;

    fn vault(stores: Vec<Box<dyn Store>>) -> (tempfile::TempDir, Vault) {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::under(dir.path().to_owned());
        let opts = Options {
            non_interactive: true,
            influxctl_config: Some(dir.path().join("influxctl.toml")),
        };
        (dir, Vault::with_stores(paths, Settings::default(), opts, stores))
    }

    fn entry(profile: &str, token: &str) -> Entry {
        Entry::new(profile, Token::new(token.into()).unwrap(), Origin::Stored)
    }

    #[test]
    fn get_absent_profile_is_not_found() {
        let (_d, v) = vault(vec![Box::new(MemoryStore::new())]);
        assert_eq!(v.get("prod", None).unwrap_err().kind(), ErrorKind::NotFound);
    }

    #[test]
    fn get_reports_unavailable_store_when_it_is_the_profiles_own() {
        let (_d, mut v) = vault(vec![Box::new(MemoryStore::unavailable())]);
        // Not the profile's store: absent everywhere else means not-found, saying what was skipped.
        let err = v.get("prod", None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
        assert!(err.to_string().contains("memory store could not be searched"), "{err}");
        // The profile's own store: its unavailability is the answer.
        v.settings.profiles.insert(
            "prod".into(),
            crate::settings::ProfileSettings { store: Some(StoreKind::Memory) },
        );
        assert_eq!(v.get("prod", None).unwrap_err().kind(), ErrorKind::StoreUnavailable);
    }

    #[test]
    fn put_then_get_round_trips_and_binds() {
        let (d, v) = vault(vec![Box::new(MemoryStore::new())]);
        std::fs::write(
            d.path().join("influxctl.toml"),
            "[[profile]]\nname = \"prod\"\nproduct = \"dedicated\"\naccount_id = \"a1\"\ncluster_id = \"c1\"\n",
        )
        .unwrap();
        let w = v.put(entry("prod", "M.V1.test-one"), Some(StoreKind::Memory)).unwrap();
        assert_eq!(w, Written { store: StoreKind::Memory, replaced: false });
        let found = v.get("prod", None).unwrap();
        assert_eq!(found.entry.token.expose(), "M.V1.test-one");
        assert_eq!(found.entry.cluster.cluster_id.as_deref(), Some("c1"));

        // The config now points the profile at another cluster: no token leaves.
        std::fs::write(
            d.path().join("influxctl.toml"),
            "[[profile]]\nname = \"prod\"\nproduct = \"dedicated\"\naccount_id = \"a1\"\ncluster_id = \"c2\"\n",
        )
        .unwrap();
        assert_eq!(v.get("prod", None).unwrap_err().kind(), ErrorKind::ClusterMismatch);
    }

    #[test]
    fn get_refuses_expired_and_short_lived() {
        let (_d, v) = vault(vec![Box::new(MemoryStore::new())]);
        let mut e = entry("prod", "M.V1.test-exp");
        e.expires_at = Some(Timestamp::now() - SignedDuration::from_secs(5));
        v.put(e.clone(), Some(StoreKind::Memory)).unwrap();
        assert_eq!(v.get("prod", None).unwrap_err().exit_code(), 4);
        e.expires_at = Some(Timestamp::now() + SignedDuration::from_hours(2));
        v.put(e, Some(StoreKind::Memory)).unwrap();
        assert!(v.get("prod", Some(SignedDuration::from_hours(1))).is_ok());
        assert_eq!(v.get("prod", Some(SignedDuration::from_hours(3))).unwrap_err().exit_code(), 4);
    }

    #[test]
    fn failed_write_keeps_what_was_stored() {
        let mem = MemoryStore::new();
        mem.set(&entry("prod", "M.V1.test-old")).unwrap();
        mem.fail_next(Error::Other("disk full".into()));
        let (_d, v) = vault(vec![Box::new(mem)]);
        assert!(v.put(entry("prod", "M.V1.test-new"), Some(StoreKind::Memory)).is_err());
        assert_eq!(v.get("prod", None).unwrap().entry.token.expose(), "M.V1.test-old");
    }

    #[test]
    fn erase_is_idempotent() {
        let (_d, v) = vault(vec![Box::new(MemoryStore::new())]);
        v.put(entry("prod", "M.V1.test-e"), Some(StoreKind::Memory)).unwrap();
        assert!(v.erase("prod", None).unwrap());
        assert!(!v.erase("prod", None).unwrap());
    }

    #[test]
    fn store_flag_restricts_reads_to_that_store() {
        let env = EnvStore::from_vars([(
            "INFLUXCTL_CRED_TOKEN_PROD".to_string(),
            "M.V1.test-env".to_string(),
        )]);
        let (_d, v) = vault(vec![Box::new(MemoryStore::new()), Box::new(env)]);
        let v = v.reading_only_from(Some(StoreKind::Memory));
        assert_eq!(v.get("prod", None).unwrap_err().kind(), ErrorKind::NotFound);
        assert!(v.list().0.is_empty());
    }

    /// A store that holds `prod` and then became unreachable (a keyring that got locked).
    fn locked_holding_prod() -> MemoryStore {
        let mem = MemoryStore::new();
        mem.set(&entry("prod", "M.V1.test-locked")).unwrap();
        mem.set_unavailable(true);
        mem
    }

    #[test]
    fn get_unreachable_store_that_holds_the_profile_is_unavailable() {
        let (_d, v) = vault(vec![Box::new(locked_holding_prod())]);
        let err = v.get("prod", None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::StoreUnavailable, "{err}");
        assert!(err.to_string().contains("holds an entry of profile \"prod\""), "{err}");
        // Nothing says it holds another profile: that one is not found.
        assert_eq!(v.get("other", None).unwrap_err().kind(), ErrorKind::NotFound);
    }

    #[test]
    fn get_named_unreachable_store_is_unavailable() {
        let (_d, v) = vault(vec![Box::new(MemoryStore::unavailable())]);
        let v = v.reading_only_from(Some(StoreKind::Memory));
        assert_eq!(v.get("prod", None).unwrap_err().kind(), ErrorKind::StoreUnavailable);
    }

    #[test]
    fn erase_unreachable_store_fails_and_erases_the_others() {
        let reachable = MemoryStore::new();
        reachable.set(&entry("prod", "M.V1.test-other")).unwrap();
        let (_d, v) = vault(vec![Box::new(reachable), Box::new(locked_holding_prod())]);
        let err = v.erase("prod", None).unwrap_err();
        assert_eq!(err.exit_code(), 5, "{err}");
        let msg = err.to_string();
        assert!(msg.contains("erased it from the memory store, but NOT from the memory"), "{msg}");
        // The reachable one is gone; asking again still fails for the locked one.
        assert_eq!(v.erase("prod", None).unwrap_err().exit_code(), 5);
    }

    #[test]
    fn put_refuses_when_the_holding_store_is_unreachable() {
        let (_d, v) = vault(vec![Box::new(MemoryStore::new()), Box::new(locked_holding_prod())]);
        let err = v.put(entry("prod", "M.V1.test-new"), None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::StoreUnavailable, "{err}");
        // Nothing was written to the reachable store.
        assert!(v.store(StoreKind::Memory).unwrap().get("prod").unwrap().is_none());
    }

    #[test]
    fn put_replaces_where_the_profile_already_is() {
        let holder = MemoryStore::new();
        holder.set(&entry("prod", "M.V1.test-old")).unwrap();
        let (_d, v) = vault(vec![Box::new(MemoryStore::new()), Box::new(holder)]);
        let w = v.put(entry("prod", "M.V1.test-new"), None).unwrap();
        assert!(w.replaced, "the second store held it and was replaced");
        assert_eq!(v.get("prod", None).unwrap().entry.token.expose(), "M.V1.test-new");
    }

    #[test]
    fn put_long_profile_name_is_refused_before_writing() {
        let (_d, v) = vault(vec![Box::new(MemoryStore::new())]);
        let long = "p".repeat(crate::store::MAX_FILE_STEM + 1);
        assert_eq!(v.put(entry(&long, "M.V1.test-x"), None).unwrap_err().exit_code(), 2);
        assert!(v.list().0.is_empty());
    }

    #[test]
    fn env_variable_shared_by_two_profiles_is_refused_for_both() {
        let env = EnvStore::from_vars([(
            "INFLUXCTL_CRED_TOKEN_A_B".to_string(),
            "M.V1.test-env".to_string(),
        )]);
        let mem = MemoryStore::new();
        mem.set(&entry("a_b", "M.V1.test-mem")).unwrap();
        mem.set(&entry("a-b", "M.V1.test-mem2")).unwrap();
        let (_d, v) = vault(vec![Box::new(env), Box::new(mem)]);
        for p in ["a-b", "a_b"] {
            let err = v.get(p, None).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{p}: {err}");
            let msg = err.to_string();
            assert!(msg.contains("\"a-b\" and \"a_b\""), "{msg}");
        }
        // A profile of its own keeps working.
        let (_d, v) = vault(vec![Box::new(EnvStore::from_vars([(
            "INFLUXCTL_CRED_TOKEN_A_B".to_string(),
            "M.V1.test-env".to_string(),
        )]))]);
        assert_eq!(v.get("a-b", None).unwrap().entry.token.expose(), "M.V1.test-env");
    }

    #[test]
    fn env_comes_first() {
        let env = EnvStore::from_vars([(
            "INFLUXCTL_CRED_TOKEN_PROD".to_string(),
            "M.V1.test-env".to_string(),
        )]);
        let mem = MemoryStore::new();
        mem.set(&entry("prod", "M.V1.test-mem")).unwrap();
        let (_d, v) = vault(vec![Box::new(mem), Box::new(env)]);
        let f = v.get("prod", None).unwrap();
        assert_eq!((f.store, f.entry.token.expose()), (StoreKind::Env, "M.V1.test-env"));
    }
}
