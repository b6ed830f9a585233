//! Reading: the lookup chain over the stores (which store answers for a profile, and in
//! what order), the env store's extra checks, expiry, and `list`.

use jiff::{SignedDuration, Timestamp};

use super::{Found, ListRow, Vault};
use crate::entry::{Entry, EntryMeta};
use crate::error::{Error, ErrorKind, Result};
use crate::influxctl::config::Snapshot;
use crate::settings::StoreKind;
use crate::store::Store;

impl Vault {
    pub(super) fn read_order(&self, profile: &str) -> Vec<&dyn Store> {
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
    /// keyring's index). Otherwise its failure is the answer (docs/spec.md §3), as is any error about
    /// the entry itself.
    pub fn find(&self, profile: &str) -> Result<Found> {
        crate::store::validate_profile(profile)?;
        let mut first_err: Option<Error> = None;
        let mut skipped: Vec<StoreKind> = Vec::new();
        let mut searched: Vec<StoreKind> = Vec::new();
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
                Ok(None) => searched.push(store.kind()),
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
        Err(self.not_found(profile, &searched, &skipped))
    }

    /// Whether a failure of `store` about `profile` is the answer rather than a store to skip:
    /// the user named it, it is the profile's configured store, or it says it may hold it.
    pub(super) fn must_search(&self, store: &dyn Store, profile: &str) -> bool {
        let kind = store.kind();
        self.read_only_from == Some(kind)
            || self.settings.store_for(profile) == Some(kind)
            || store.may_hold(profile)
    }

    /// The env store answered for `profile` (docs/spec.md §3): its own variable is refused when another
    /// known profile (influxctl's config, any store) maps to the same variable; the generic
    /// variable answering while a store holds the profile is worth a warning.
    pub(super) fn check_env_answer(&self, profile: &str, entry: &Entry) -> Result<()> {
        use crate::store::env::{GENERIC_VAR, source_var, var_name};
        let own = var_name(profile);
        match source_var(entry) {
            Some(var) if var == own => {
                let mut known = std::collections::BTreeSet::new();
                if let Ok(Some(config)) = self.influxctl_config() {
                    known.extend(config.profile_names());
                }
                // Local stores only: an unreachable vault would cost its timeout on every
                // CI run that has the variable (docs/vault.md says what this cannot see).
                for store in
                    self.stores.iter().filter(|s| s.kind() != StoreKind::Env && !s.remote())
                {
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
                for store in
                    self.stores.iter().filter(|s| s.kind() != StoreKind::Env && !s.remote())
                {
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

    /// The entry of `profile`, checked for binding (docs/spec.md §4) and expiry (`min_ttl`) against a
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
                    active: false,
                })),
                Err(e)
                    if e.kind() == ErrorKind::StoreUnavailable
                        && store.kind() == StoreKind::Env => {}
                Err(e) => failed.push((store.kind(), e)),
            }
        }
        rows.sort_by(|a, b| a.meta.profile.cmp(&b.meta.profile).then(a.store.cmp(&b.store)));
        self.mark_active(&mut rows);
        (rows, failed)
    }

    /// Marks, for each profile, the row `get` would use: the first store of
    /// [`Vault::read_order`] that has a row for it. The env store's generic variable (row `*`)
    /// answers for every profile without a variable of its own, so then that row is the
    /// active one for them (and is itself marked active).
    fn mark_active(&self, rows: &mut [ListRow]) {
        let generic = rows.iter().position(|r| r.store == StoreKind::Env && r.meta.profile == "*");
        if let Some(i) = generic {
            rows[i].active = true;
        }
        // `rows` is sorted by profile, so each profile's rows are one run: linear in the rows.
        let mut start = 0;
        while start < rows.len() {
            let profile = rows[start].meta.profile.clone();
            let end =
                start + rows[start..].iter().take_while(|r| r.meta.profile == profile).count();
            if profile != "*" {
                let has = |kind: StoreKind| (start..end).find(|&i| rows[i].store == kind);
                let pick = self.read_order(&profile).iter().find_map(|s| match s.kind() {
                    StoreKind::Env => has(StoreKind::Env).or(generic),
                    kind => has(kind),
                });
                if let Some(i) = pick {
                    rows[i].active = true;
                }
            }
            start = end;
        }
    }
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
