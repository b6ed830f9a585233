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
        b = b.tls_certs_merge(crate::api::client::pem_certificates(ca, "[vault] ca, BAO_CACERT")?);
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
