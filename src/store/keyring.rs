//! The `keyring` store (docs/spec.md §3): one OS-keyring item per profile — service `influxctl-cred`,
//! user = the profile name, secret = the entry's JSON ([`Entry::to_secret_json`]) — through the
//! keyring crate family v4 ([`backend`] picks the store object for this OS).
//!
//! Every keyring call runs on a worker thread and is waited for at most `keyring_timeout`
//! (default 5 s): a locked keyring with a live prompter would otherwise block forever. A worker
//! that does not answer in time is abandoned, never joined, so it cannot keep the process alive;
//! while it is still running, later calls answer "unavailable" at once instead of queueing
//! behind it (a long-lived `helper` recovers once the keyring answers again).
//! Unless prompts are allowed ([`KeyringStore::allow_prompts`]), every call first checks that
//! the keyring is unlocked, so the Secret Service never puts up an unlock prompt.
//!
//! `list` reads a plaintext metadata index beside the file store ([`index`]), never the
//! keyring: entries written by another tool are listed once this tool has read them.

mod backend;
mod index;
#[cfg(test)]
mod tests;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use zeroize::Zeroizing;

use super::{Store, StoreKind};
use crate::entry::{Entry, EntryMeta};
use crate::error::{Error, Result};
use crate::paths::Paths;
use crate::secret::SecretBytes;
use crate::settings::Settings;
use backend::Backend;
use index::Index;

/// The keyring "service" every entry is filed under; the "user" is the profile name.
pub const SERVICE: &str = "influxctl-cred";

/// The user of the probe's lookup. Never written; a profile of this name would merely be
/// looked up by the probe.
const PROBE_USER: &str = "influxctl-cred probe (never stored)";

const STORE: &str = "keyring";

/// The OS keyring, reached lazily and under a timeout.
pub struct KeyringStore {
    backend: Arc<Backend>,
    index: Index,
    timeout: Duration,
    allow_prompts: bool,
    /// The "finished" flag of the last call that timed out: while that worker still runs, it
    /// may hold the keyring connection, so new calls would only wait behind it.
    late: Mutex<Option<Arc<AtomicBool>>>,
}

impl KeyringStore {
    /// The keyring of this OS, with the index under the store folder. No I/O happens here.
    pub fn new(paths: &Paths, settings: &Settings) -> Self {
        KeyringStore::with_backend(
            Backend::native(),
            paths.store_dir().join("keyring"),
            settings.keyring_timeout,
        )
    }

    /// A store over any keyring-core backend (tests use keyring-core's mock).
    pub(crate) fn with_backend(
        backend: Backend,
        index_dir: std::path::PathBuf,
        timeout: Duration,
    ) -> Self {
        KeyringStore {
            backend: Arc::new(backend),
            index: Index::new(index_dir),
            timeout,
            allow_prompts: false,
            late: Mutex::new(None),
        }
    }

    /// Whether `get`, `set` and `erase` may let the keyring ask the user to unlock it (within
    /// the timeout). Off by default: a locked keyring then answers `store-unavailable` at once.
    /// `probe` never prompts.
    pub fn allow_prompts(mut self, allow: bool) -> Self {
        self.allow_prompts = allow;
        self
    }

    /// The metadata index file of `profile` (for `doctor` and tests).
    pub fn index_path(&self, profile: &str) -> std::path::PathBuf {
        self.index.path(profile)
    }

    /// Runs `op` on a worker thread and waits at most the timeout for its answer.
    fn call<T, F>(&self, op: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Backend) -> Result<T> + Send + 'static,
    {
        {
            let mut late = self.late.lock().unwrap_or_else(|p| p.into_inner());
            match late.as_ref() {
                Some(done) if !done.load(Ordering::Acquire) => return Err(self.timed_out()),
                _ => *late = None,
            }
        }
        let backend = Arc::clone(&self.backend);
        let done = Arc::new(AtomicBool::new(false));
        let worker_done = Arc::clone(&done);
        // Room for the answer, so a worker that answers after we gave up never blocks.
        let (tx, rx) = mpsc::sync_channel(1);
        let spawned = std::thread::Builder::new().name("keyring".into()).spawn(move || {
            let answer = op(&backend);
            worker_done.store(true, Ordering::Release);
            let _ = tx.send(answer);
        });
        // The handle is dropped: the worker is detached and never joined.
        if let Err(e) = spawned {
            return Err(backend::unavailable(
                format!("cannot start a thread for the keyring call: {e}"),
                backend::HINT,
            ));
        }
        match rx.recv_timeout(self.timeout) {
            Ok(answer) => answer,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                *self.late.lock().unwrap_or_else(|p| p.into_inner()) = Some(done);
                Err(self.timed_out())
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                Err(backend::unavailable("the keyring call ended without an answer", backend::HINT))
            }
        }
    }

    fn timed_out(&self) -> Error {
        Error::StoreUnavailable {
            store: STORE,
            reason: format!(
                "the keyring did not answer within {}; it may be locked with a prompt waiting",
                show(self.timeout)
            ),
            hint: Some(
                "unlock your keyring, raise `keyring_timeout` in influxctl-cred's config.toml, or use `--store file`"
                    .into(),
            ),
        }
    }

    /// Whether calls must first prove the keyring is unlocked: unless prompts were allowed at
    /// construction and are allowed for the request at hand ([`crate::ui::prompts_allowed`],
    /// read on the caller's thread).
    fn check_first(&self) -> bool {
        !(self.allow_prompts && crate::ui::prompts_allowed())
    }
}

/// `5s`, or `1500ms` when the timeout is not whole seconds.
fn show(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

impl Store for KeyringStore {
    fn kind(&self) -> StoreKind {
        StoreKind::Keyring
    }

    /// Proves, without a prompt and without creating anything, that the keyring answers and is
    /// unlocked: the lock check, then a lookup of an entry that never exists.
    fn probe(&self) -> Result<()> {
        self.call(|b| {
            b.check_unlocked()?;
            match b.entry(PROBE_USER)?.get_credential() {
                Ok(_) | Err(keyring_core::Error::NoEntry) => Ok(()),
                Err(e) => Err(backend::to_error(e, PROBE_USER)),
            }
        })
    }

    fn get(&self, profile: &str) -> Result<Option<Entry>> {
        let user = profile.to_owned();
        let check = self.check_first();
        let secret: Option<SecretBytes> = self.call(move |b| {
            if check {
                b.check_unlocked()?;
            }
            match b.entry(&user)?.get_secret() {
                Ok(bytes) => Ok(Some(Zeroizing::new(bytes))),
                Err(keyring_core::Error::NoEntry) => Ok(None),
                Err(e) => Err(backend::to_error(e, &user)),
            }
        })?;
        let Some(secret) = secret else { return Ok(None) };
        let entry = Entry::from_secret_json(&secret, STORE, profile)?;
        // Entries written by another run that lost its index (or another tool) become listed.
        if !self.index.contains(profile)
            && let Err(e) = self.index.write(&entry.meta())
        {
            crate::ui::verbose(format!(
                "could not add profile {profile:?} to the keyring index: {e}"
            ));
        }
        Ok(Some(entry))
    }

    fn set(&self, entry: &Entry) -> Result<bool> {
        let user = entry.profile.clone();
        let secret = entry.to_secret_json();
        let check = self.check_first();
        let replaced = self.call(move |b| {
            if check {
                b.check_unlocked()?;
            }
            let item = b.entry(&user)?;
            let existed = match item.get_credential() {
                Ok(_) => true,
                Err(keyring_core::Error::NoEntry) => false,
                Err(e) => return Err(backend::to_error(e, &user)),
            };
            item.set_secret(&secret).map_err(|e| backend::to_error(e, &user))?;
            Ok(existed)
        })?;
        if let Err(e) = self.index.write(&entry.meta()) {
            // The token is safely in the keyring; only `list` misses it until the next read.
            crate::ui::warn(format!(
                "stored in the keyring, but could not update the list index: {e}"
            ));
        }
        Ok(replaced)
    }

    fn erase(&self, profile: &str) -> Result<bool> {
        let user = profile.to_owned();
        let check = self.check_first();
        let existed = self.call(move |b| {
            if check {
                b.check_unlocked()?;
            }
            match b.entry(&user)?.delete_credential() {
                Ok(()) => Ok(true),
                Err(keyring_core::Error::NoEntry) => Ok(false),
                Err(e) => Err(backend::to_error(e, &user)),
            }
        })?;
        self.index.remove(profile)?;
        Ok(existed)
    }

    /// The metadata index; no keyring call, so no prompt and no D-Bus needed.
    fn list(&self) -> Result<Vec<EntryMeta>> {
        self.index.list()
    }

    /// The index says so: every entry this tool wrote or read has an index file.
    fn may_hold(&self, profile: &str) -> bool {
        self.index.contains(profile)
    }
}
