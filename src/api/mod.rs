//! The InfluxDB 3 Management API (docs/spec.md §9), used only by the commands that need it (`verify`,
//! `exec --database-token`, `doctor --online`): nothing here runs, and no HTTP client is
//! built, on the paths that do not (`get`, plain `exec`).
//!
//! [`endpoint`] turns an influxctl profile into a URL and TLS options, [`client`] speaks HTTP
//! and maps failures to typed errors, [`types`] holds the wire format of InfluxData's OpenAPI
//! documents, and [`dbtoken`] the ephemeral database tokens of `exec`. A client takes a token
//! and where to send it; the driver is not known here (`verify` lives in [`crate::verify`]).

pub mod client;
pub mod dbtoken;
pub mod endpoint;
pub mod types;

pub use client::{ApiClient, Timeouts};
pub use dbtoken::{DatabaseToken, DatabaseTokenSpec};
pub use endpoint::{Endpoint, Product};

use crate::entry::Cluster;
use crate::error::Result;
use crate::influxctl::config::Snapshot;
use crate::influxctl::tls::TlsOptions;
use crate::secret::Token;
use crate::settings::Settings;

/// A client that sends `token` (already fetched and checked against `snap` by the caller, as
/// `exec` has it) to the Management API of `profile`: the cluster of the snapshot's profile
/// (fields it lacks taken from the entry's `binding`), its `[profile.tls]` (the binding's trust
/// when the config lacks the profile), and the API base override (`INFLUXCTL_CRED_API_URL`,
/// else `api_url` in our settings).
pub fn client_with(
    settings: &Settings,
    snap: &Snapshot,
    profile: &str,
    token: Token,
    binding: &Cluster,
) -> Result<ApiClient> {
    client_targeting(settings, snap, profile, token, &Cluster::default(), binding)
}

/// [`client_with`], where the fields set in `overrides` win over influxctl's profile: `exec`
/// passes influxctl's `--account`/`--cluster` there, so that a database token is made on the
/// cluster the child will really talk to.
pub fn client_targeting(
    settings: &Settings,
    snap: &Snapshot,
    profile: &str,
    token: Token,
    overrides: &Cluster,
    binding: &Cluster,
) -> Result<ApiClient> {
    let table = snap.profile(profile);
    let mut cluster = overrides.clone();
    let configured = snap.cluster(profile)?;
    complete(&mut cluster, configured.as_ref().unwrap_or(&Cluster::default()));
    complete(&mut cluster, binding);
    let tls = match table {
        Some(t) => TlsOptions::from_profile(t, &snap.path_or_default(), profile)?,
        None => TlsOptions::from_trust(binding.tls.as_ref()),
    };
    let api_url = endpoint::api_url_override(settings.api_url.as_deref());
    let endpoint = Endpoint::resolve(profile, &cluster, tls, api_url.as_deref())?;
    endpoint::check_plain_url(settings, profile, &endpoint.base)?;
    ApiClient::new(endpoint, token, profile, Timeouts::from_env()?)
}

/// Fills the fields `cluster` lacks from `binding` (they agree wherever both are set: the
/// binding check has passed).
fn complete(cluster: &mut Cluster, binding: &Cluster) {
    let pairs = [
        (&mut cluster.product, &binding.product),
        (&mut cluster.account_id, &binding.account_id),
        (&mut cluster.cluster_id, &binding.cluster_id),
        (&mut cluster.host, &binding.host),
        (&mut cluster.port, &binding.port),
    ];
    for (mine, theirs) in pairs {
        if mine.is_none() {
            mine.clone_from(theirs);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complete_takes_only_missing_fields() {
        let mut c = Cluster { product: Some("clustered".into()), ..Cluster::default() };
        let binding = Cluster {
            product: Some("dedicated".into()),
            host: Some("h".into()),
            port: Some("8443".into()),
            ..Cluster::default()
        };
        complete(&mut c, &binding);
        assert_eq!(c.product.as_deref(), Some("clustered"));
        assert_eq!((c.host.as_deref(), c.port.as_deref()), (Some("h"), Some("8443")));
    }
}
