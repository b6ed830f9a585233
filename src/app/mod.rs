//! The shared driver over the stores: the lookup chain, the choice of store for writes, the
//! store lock, cluster binding and expiry. The command line and the helper protocol both call
//! [`Vault`]; neither talks to a store directly.

use std::cell::{Cell, RefCell};
use std::path::PathBuf;

use crate::entry::{Cluster, Entry, EntryMeta};
use crate::error::{Error, Result};
use crate::fsutil::Fingerprint;
use crate::influxctl::config::{InfluxConfig, Snapshot};
use crate::paths::Paths;
use crate::settings::Settings;
use crate::settings::StoreKind;
use crate::store::Store;
use crate::store::env::EnvStore;
use crate::store::file::FileStore;
use crate::store::keyring::KeyringStore;
use crate::store::vault::VaultStore;

mod binding;
mod lookup;
mod missing;
mod row;
mod writes;

pub use lookup::check_expiry;

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

/// One row of `list` (also the helper's `list` entries). Never a token. Its JSON
/// (`row.rs`) is the metadata's fields flattened, without made-up times.
#[derive(Debug, Clone)]
pub struct ListRow {
    pub store: StoreKind,
    pub meta: EntryMeta,
    pub expiry: String,
    /// Whether this is the row `get` would use for the profile (the first store of the read
    /// order that holds it); a profile in one store only has that row active.
    pub active: bool,
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
    /// Set for a long session (the helper): [`Vault::snapshot`] keeps what it read.
    keep: Cell<bool>,
    /// The snapshot a session keeps, with the fingerprint of the file it was read from.
    kept_snapshot: RefCell<Option<(Fingerprint, Snapshot)>>,
}

impl Vault {
    /// The real stores: env (snapshot of the process environment), file, keyring, and vault
    /// when our settings enable it ([`Settings::vault_enabled`]; `--store vault` does too:
    /// [`Vault::reading_only_from`]). Building them costs nothing: each connects on first use.
    pub fn open(paths: Paths, opts: Options) -> Result<Vault> {
        let settings = Settings::load(&paths.settings())?;
        let env = EnvStore::from_process();
        let file = FileStore::new(&paths, &settings, !opts.non_interactive);
        let keyring = KeyringStore::new(&paths, &settings);
        let mut stores: Vec<Box<dyn Store>> =
            vec![Box::new(env), Box::new(file), Box::new(keyring)];
        if settings.vault_enabled() {
            stores.push(Box::new(VaultStore::new(&paths, &settings)));
        }
        Ok(Vault::with_stores(paths, settings, opts, stores))
    }

    /// A vault over exactly `stores` (`open` gives the real ones; tests give their own).
    pub fn with_stores(
        paths: Paths,
        settings: Settings,
        opts: Options,
        stores: Vec<Box<dyn Store>>,
    ) -> Vault {
        Vault {
            paths,
            settings,
            opts,
            stores,
            read_only_from: None,
            keep: Cell::new(false),
            kept_snapshot: RefCell::new(None),
        }
    }

    /// The store named `kind`, if this vault has it.
    pub fn store(&self, kind: StoreKind) -> Result<&dyn Store> {
        self.stores.iter().find(|s| s.kind() == kind).map(|s| s.as_ref()).ok_or_else(|| {
            match kind {
                StoreKind::Vault => Error::StoreUnavailable {
                    store: kind.as_str(),
                    reason: "the vault store is not configured".into(),
                    hint: Some("add a [vault] table to influxctl-cred's config.toml (docs/stores.md), or pass --store vault".into()),
                },
                _ => Error::StoreUnavailable {
                    store: kind.as_str(),
                    reason: "not available in this run".into(),
                    hint: None,
                },
            }
        })
    }

    /// The kinds of the stores this vault has, in order.
    pub fn kinds(&self) -> Vec<StoreKind> {
        self.stores.iter().map(|s| s.kind()).collect()
    }

    /// Lets every store keep what it read while its files are unchanged, for a long session
    /// (the helper): see [`Store::keep_for_session`].
    /// The driver keeps influxctl's config the same way ([`Vault::snapshot`]).
    pub fn keep_for_session(&self) {
        self.keep.set(true);
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
    /// `--store vault` enables the vault store for this run even without `[vault]` (the server
    /// then comes from `BAO_ADDR` / `VAULT_ADDR`).
    pub fn reading_only_from(mut self, store: Option<StoreKind>) -> Vault {
        if store == Some(StoreKind::Vault) && !self.kinds().contains(&StoreKind::Vault) {
            self.stores.push(Box::new(VaultStore::new(&self.paths, &self.settings)));
        }
        self.read_only_from = store;
        self
    }

    /// The one store reads use (`--store`), if one was named.
    pub fn reading_only(&self) -> Option<StoreKind> {
        self.read_only_from
    }

    /// influxctl's config, read once ([`Snapshot`]). A session (the helper) keeps the last
    /// snapshot and answers it again while the file is still the same file with the same
    /// device, inode, size, mode, owner, mtime and ctime, and is still trusted (one `statx` of
    /// it, one of each folder above it: [`Snapshot::still`]); anything else reads it again, so a
    /// config edited to point elsewhere is seen on the next request.
    pub fn snapshot(&self) -> Result<Snapshot> {
        let path = self.influxctl_config_path();
        if !self.keep.get() {
            return Snapshot::read(path);
        }
        if let Some((print, snap)) = &*self.kept_snapshot.borrow()
            && snap.path == path
            && snap.still(print)?
        {
            return Ok(snap.clone());
        }
        let (snap, print) = Snapshot::read_seen(path)?;
        *self.kept_snapshot.borrow_mut() = print.map(|p| (p, snap.clone()));
        Ok(snap)
    }

    /// The path of influxctl's config we bind against.
    pub fn influxctl_config_path(&self) -> Option<PathBuf> {
        self.opts.influxctl_config.clone().or_else(crate::paths::influxctl_default_config)
    }

    /// influxctl's config, when it exists.
    pub fn influxctl_config(&self) -> Result<Option<InfluxConfig>> {
        Ok(self.snapshot()?.config.map(std::sync::Arc::unwrap_or_clone))
    }

    /// Where profile `profile` of influxctl's config points, when there is such a profile.
    pub fn configured_cluster(&self, profile: &str) -> Result<Option<Cluster>> {
        self.snapshot()?.cluster(profile)
    }

    /// Takes the store lock (bounded by `lock_timeout`).
    pub fn lock(&self) -> Result<crate::lock::StoreLock> {
        crate::lock::lock(&self.paths.store_dir(), self.settings.lock_timeout)
    }

    /// Runs `f` with prompts turned off on this thread unless `allow` (the helper protocol
    /// allows them only for a `get` that asks for interaction). Restored afterwards, also when
    /// `f` panics. A vault opened non-interactive never prompts either way.
    pub fn with_prompts<T>(&self, allow: bool, f: impl FnOnce() -> T) -> T {
        crate::ui::with_prompts(allow, f)
    }
}

#[cfg(test)]
mod tests;
