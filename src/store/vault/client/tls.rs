//! The reqwest client under [`super::Client`]: rustls with the ring provider, no redirects, and
//! TLS roots (the system's trust store and `[vault] ca`) only when asked for: a client for
//! plain-http addresses trusts no root and reads no certificate file.

use std::sync::Once;
use std::time::Duration;

use super::chain;
use crate::error::{Error, Result};
use crate::settings::VaultTarget;

/// A reqwest client for `target`: no redirects, `timeout` to connect; with `roots`, the
/// system's trust store plus the `ca` file, else no root at all (nothing is read).
pub fn build(
    target: &VaultTarget,
    timeout: Duration,
    roots: bool,
) -> Result<reqwest::blocking::Client> {
    install_crypto_provider();
    let mut b = reqwest::blocking::Client::builder()
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("influxctl-cred/", env!("CARGO_PKG_VERSION")));
    if !roots {
        // An empty set of roots replaces the platform verifier: no CA bundle is opened.
        b = b.tls_certs_only(Vec::new());
    } else if let Some(ca) = &target.ca {
        let pem =
            crate::fsutil::read(ca, crate::fsutil::FileKind::Certificate)?.ok_or_else(|| {
                Error::InvalidValue {
                    what: "vault CA file",
                    message: format!("{} does not exist ([vault] ca, BAO_CACERT)", ca.display()),
                }
            })?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem)
            .ok()
            .filter(|c| !c.is_empty())
            .ok_or_else(|| Error::ParseConfig {
                path: ca.clone(),
                message: "no PEM certificate found ([vault] ca, BAO_CACERT)".into(),
            })?;
        b = b.tls_certs_merge(certs);
    }
    b.build().map_err(|e| Error::StoreUnavailable {
        store: "vault",
        reason: format!("cannot set up HTTPS: {}", chain(&e)),
        hint: None,
    })
}

fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Err means another provider was installed first, which serves as well.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}
