//! The OS keyring behind the keyring store: which keyring-core store object is opened on this
//! OS (Secret Service over zbus on Linux and the BSDs, the Keychain on macOS, the Credential
//! Manager on Windows), opened lazily and kept for the life of the process, and how its errors
//! become ours. Every function here may block on the OS keyring, so the store only calls them
//! from its bounded worker threads.

use std::sync::{Arc, Mutex};

use keyring_core::{CredentialStore, Entry as KeyringEntry};
use zeroize::Zeroize;

use crate::error::{Error, Result};

/// Opens the OS keyring's store object (may connect to D-Bus).
pub(crate) type Open = fn() -> keyring_core::Result<Arc<CredentialStore>>;

/// Answers whether the keyring can be used without a prompt (Secret Service: the default
/// collection exists and is unlocked).
pub(crate) type Check = fn() -> Result<()>;

/// The keyring-core store of this process, opened on first use.
pub(crate) struct Backend {
    open: Open,
    check: Check,
    store: Mutex<Option<Arc<CredentialStore>>>,
}

impl Backend {
    /// The keyring of this OS.
    pub(crate) fn native() -> Backend {
        Backend::new(native::open, native::check_unlocked)
    }

    /// Any store object (tests use keyring-core's mock).
    pub(crate) fn new(open: Open, check: Check) -> Backend {
        Backend { open, check, store: Mutex::new(None) }
    }

    /// `Ok` when the keyring can be used without a prompt.
    pub(crate) fn check_unlocked(&self) -> Result<()> {
        (self.check)()
    }

    /// The keyring entry of `user` (a profile name) under our service name.
    pub(crate) fn entry(&self, user: &str) -> Result<KeyringEntry> {
        let store = {
            // A worker that panicked cannot have left the Option half-written.
            let mut cached = self.store.lock().unwrap_or_else(|p| p.into_inner());
            match cached.as_ref() {
                Some(store) => Arc::clone(store),
                None => {
                    let store = (self.open)().map_err(native::open_failed)?;
                    *cached = Some(Arc::clone(&store));
                    store
                }
            }
        };
        store.build(super::SERVICE, user, None).map_err(|e| to_error(e, user))
    }
}

/// What the user can do when the keyring cannot be used.
pub(crate) const HINT: &str = "unlock your keyring, or use `--store file`";

/// A store-unavailable error of the keyring store.
pub(crate) fn unavailable(reason: impl Into<String>, hint: &str) -> Error {
    Error::StoreUnavailable {
        store: super::STORE,
        reason: reason.into(),
        hint: Some(hint.to_owned()),
    }
}

/// Maps a keyring-core error (other than `NoEntry`, which callers turn into "absent") to ours.
/// Secret bytes that some variants carry are zeroized, never printed.
pub(crate) fn to_error(err: keyring_core::Error, profile: &str) -> Error {
    use keyring_core::Error as K;
    let corrupt = |reason: String| Error::Corrupt {
        store: super::STORE,
        profile: profile.to_owned(),
        reason,
    };
    match err {
        K::PlatformFailure(inner) | K::NoStorageAccess(inner) => native::describe(inner.as_ref()),
        K::NoEntry => Error::NotFound { profile: profile.to_owned() },
        K::BadEncoding(mut bytes) | K::BadDataFormat(mut bytes, _) => {
            bytes.zeroize();
            corrupt("the keyring item is not in the expected format".into())
        }
        K::Ambiguous(items) => corrupt(format!(
            "{} keyring items match it (service {:?}, user {:?}); remove all but one, e.g. with Seahorse or `secret-tool clear`",
            items.len(),
            super::SERVICE,
            profile
        )),
        K::BadStoreFormat(reason) => {
            unavailable(format!("the keyring's data is malformed: {reason}"), HINT)
        }
        K::TooLong(what, limit) => Error::Other(format!(
            "the keyring refuses the entry: its {what} is longer than the keyring's limit of {limit}"
        )),
        K::Invalid(what, reason) => {
            Error::InvalidRequest(format!("the keyring refuses the {what}: {reason}"))
        }
        K::NotSupportedByStore(what) => {
            Error::OperationNotSupported(format!("{what} (in the keyring store)"))
        }
        K::NoDefaultStore => unavailable("no keyring store was opened", HINT),
        _ => unavailable("the keyring failed in an unexpected way", HINT),
    }
}

/// The Secret Service (GNOME Keyring, KeePassXC, KWallet) over a pure-Rust D-Bus connection.
#[cfg(any(
    target_os = "linux",
    target_os = "freebsd",
    target_os = "openbsd",
    target_os = "netbsd",
    target_os = "dragonfly"
))]
mod native {
    use std::sync::Arc;

    use keyring_core::CredentialStore;
    use secret_service::EncryptionType;
    use secret_service::blocking::SecretService;

    use super::{HINT, unavailable};
    use crate::error::{Error, Result};

    const NO_SERVICE_HINT: &str = "run a Secret Service (GNOME Keyring, KeePassXC, KWallet) in your desktop session, or use `--store file`";

    pub(super) fn open() -> keyring_core::Result<Arc<CredentialStore>> {
        Ok(zbus_secret_service_keyring_store::Store::new()?)
    }

    /// Asks the Secret Service for its default collection and whether it is locked: two
    /// property reads, never an unlock prompt, nothing created.
    pub(super) fn check_unlocked() -> Result<()> {
        let ss = SecretService::connect(EncryptionType::Plain).map_err(|e| no_service(&e))?;
        let collection = ss.get_default_collection().map_err(from_ss)?;
        if collection.is_locked().map_err(from_ss)? {
            return Err(unavailable("the default keyring collection is locked", HINT));
        }
        Ok(())
    }

    pub(super) fn describe(err: &(dyn std::error::Error + Send + Sync + 'static)) -> Error {
        match err.downcast_ref::<secret_service::Error>() {
            Some(e) => explain(e),
            None => unavailable(format!("the Secret Service failed: {err}"), HINT),
        }
    }

    /// Opening the store only connects, so any failure means no bus or no Secret Service.
    pub(super) fn open_failed(err: keyring_core::Error) -> Error {
        match &err {
            keyring_core::Error::PlatformFailure(inner)
            | keyring_core::Error::NoStorageAccess(inner) => {
                match inner.downcast_ref::<secret_service::Error>() {
                    Some(e) => no_service(e),
                    None => describe(inner.as_ref()),
                }
            }
            _ => super::to_error(err, super::super::PROBE_USER),
        }
    }

    fn no_service(err: &secret_service::Error) -> Error {
        match err {
            secret_service::Error::Unavailable => explain(err),
            other => unavailable(
                format!("cannot reach a Secret Service on the D-Bus session bus ({other})"),
                NO_SERVICE_HINT,
            ),
        }
    }

    fn from_ss(err: secret_service::Error) -> Error {
        explain(&err)
    }

    fn explain(err: &secret_service::Error) -> Error {
        use secret_service::Error as S;
        match err {
            S::Unavailable => {
                unavailable("no D-Bus session bus, or no Secret Service on it", NO_SERVICE_HINT)
            }
            S::Locked => unavailable("the keyring is locked", HINT),
            S::Prompt => unavailable("the keyring's unlock prompt was dismissed", HINT),
            S::PromptDisconnected => {
                unavailable("the keyring closed the connection during an unlock prompt", HINT)
            }
            S::NoResult => unavailable(
                "the Secret Service has no default collection",
                "create a default keyring (e.g. with Seahorse), or use `--store file`",
            ),
            other => unavailable(format!("the Secret Service failed: {other}"), HINT),
        }
    }
}

/// The login keychain.
#[cfg(target_os = "macos")]
mod native {
    use std::sync::Arc;

    use keyring_core::CredentialStore;

    use super::{HINT, unavailable};
    use crate::error::{Error, Result};

    pub(super) fn open() -> keyring_core::Result<Arc<CredentialStore>> {
        Ok(apple_native_keyring_store::keychain::Store::new()?)
    }

    /// The Keychain has no lock state we can read without a prompt; the probe's lookup tells.
    pub(super) fn check_unlocked() -> Result<()> {
        Ok(())
    }

    pub(super) fn describe(err: &(dyn std::error::Error + Send + Sync + 'static)) -> Error {
        unavailable(format!("the Keychain failed: {err}"), HINT)
    }

    pub(super) fn open_failed(err: keyring_core::Error) -> Error {
        super::to_error(err, super::super::PROBE_USER)
    }
}

/// The Windows Credential Manager.
#[cfg(target_os = "windows")]
mod native {
    use std::sync::Arc;

    use keyring_core::CredentialStore;

    use super::{HINT, unavailable};
    use crate::error::{Error, Result};

    pub(super) fn open() -> keyring_core::Result<Arc<CredentialStore>> {
        Ok(windows_native_keyring_store::Store::new()?)
    }

    /// The Credential Manager has no lock state; the probe's lookup tells.
    pub(super) fn check_unlocked() -> Result<()> {
        Ok(())
    }

    pub(super) fn describe(err: &(dyn std::error::Error + Send + Sync + 'static)) -> Error {
        unavailable(format!("the Credential Manager failed: {err}"), HINT)
    }

    pub(super) fn open_failed(err: keyring_core::Error) -> Error {
        super::to_error(err, super::super::PROBE_USER)
    }
}

/// Where no keyring is built for this OS, the store says so on every call. Compiled on every
/// OS (so that its unit test runs on the ones CI has), used as `native` only on the others.
#[cfg(not(any(
    target_os = "linux",
    target_os = "freebsd",
    target_os = "openbsd",
    target_os = "netbsd",
    target_os = "dragonfly",
    target_os = "macos",
    target_os = "windows"
)))]
use unsupported as native;

#[cfg_attr(
    any(
        target_os = "linux",
        target_os = "freebsd",
        target_os = "openbsd",
        target_os = "netbsd",
        target_os = "dragonfly",
        target_os = "macos",
        target_os = "windows"
    ),
    allow(dead_code)
)]
mod unsupported {
    use std::sync::Arc;

    use keyring_core::CredentialStore;

    use super::unavailable;
    use crate::error::{Error, Result};

    const WHY: &str = "no OS keyring is built for this OS";

    pub(super) fn open() -> keyring_core::Result<Arc<CredentialStore>> {
        Err(keyring_core::Error::NoStorageAccess(Box::new(std::io::Error::other(WHY))))
    }

    pub(super) fn check_unlocked() -> Result<()> {
        Err(unavailable(WHY, "use `--store file`"))
    }

    pub(super) fn describe(err: &(dyn std::error::Error + Send + Sync + 'static)) -> Error {
        unavailable(format!("{WHY}: {err}"), "use `--store file`")
    }

    pub(super) fn open_failed(_err: keyring_core::Error) -> Error {
        unavailable(WHY, "use `--store file`")
    }
}

#[cfg(test)]
mod unsupported_tests {
    use super::unsupported;
    use crate::error::{Error, ErrorKind};

    fn assert_unavailable(err: &Error) {
        assert_eq!(err.kind(), ErrorKind::StoreUnavailable, "{err}");
        assert!(err.to_string().contains("no OS keyring is built for this OS"), "{err}");
    }

    #[test]
    fn a_keyring_not_built_for_this_os_answers_store_unavailable() {
        let err = unsupported::check_unlocked().unwrap_err();
        assert_unavailable(&err);
        let Err(open_err) = unsupported::open() else { panic!("the stand-in opened a store") };
        assert_unavailable(&unsupported::open_failed(open_err));
        assert_unavailable(&unsupported::describe(&std::io::Error::other("x")));
    }
}
