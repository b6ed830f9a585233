//! Where a profile's Management API lives (docs/spec.md §9): the API base, the resource prefix of its
//! product, and the TLS options of influxctl's `[profile.tls]`.
//!
//! | product | URL of a resource `R` |
//! |---|---|
//! | Cloud Dedicated | `{base}/accounts/{account_id}/clusters/{cluster_id}R`, base `https://console.influxdata.com/api/v0` |
//! | Clustered | `{base}R`, base `https://{host}:{port}/api/v0` (`http://` when `[profile.tls] disable = true`) |
//!
//! `INFLUXCTL_CRED_API_URL`, else `api_url` in our settings, replaces the base; the resource
//! prefix is still appended, so a mock that serves the documents' paths at its root (prism)
//! works with `INFLUXCTL_CRED_API_URL=http://127.0.0.1:4010`.

use crate::entry::Cluster;
use crate::error::{Error, Result};
use crate::influxctl::tls::TlsOptions;

/// The Cloud Dedicated API base.
pub const DEDICATED_API_BASE: &str = "https://console.influxdata.com/api/v0";

/// The environment variable that replaces the API base.
pub const API_URL_ENV: &str = "INFLUXCTL_CRED_API_URL";

/// The two products influxctl speaks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Product {
    Dedicated,
    Clustered,
}

impl Product {
    pub fn as_str(self) -> &'static str {
        match self {
            Product::Dedicated => "dedicated",
            Product::Clustered => "clustered",
        }
    }
}

/// docs/spec.md §9: a token goes over plain `http://` only to a loopback address, unless the user
/// allows it for that profile (`[profiles.NAME] insecure_http = true` in our settings), and
/// then with a warning every time. `base` is the URL the token is about to be sent to.
pub fn check_plain_url(
    settings: &crate::settings::Settings,
    profile: &str,
    base: &str,
) -> Result<()> {
    let Ok(url) = reqwest::Url::parse(base) else { return Ok(()) };
    if url.scheme() != "http" {
        return Ok(());
    }
    plain_http_allowed(settings, profile, url.host_str().unwrap_or(""))
}

/// [`check_plain_url`] for an influxctl run: a Clustered profile with `tls.disable = true`
/// makes influxctl send the token over plain HTTP to its `host`.
pub fn check_plain_http(
    settings: &crate::settings::Settings,
    profile: &str,
    cluster: &Cluster,
) -> Result<()> {
    let plain = cluster.tls.as_ref().is_some_and(|t| t.disable);
    if !plain || cluster.product.as_deref() == Some("dedicated") {
        return Ok(());
    }
    plain_http_allowed(settings, profile, cluster.host.as_deref().unwrap_or(""))
}

fn plain_http_allowed(
    settings: &crate::settings::Settings,
    profile: &str,
    host: &str,
) -> Result<()> {
    if is_loopback(host) {
        return Ok(());
    }
    if settings.insecure_http(profile) {
        crate::ui::warn(format!(
            "sending the token of profile {profile:?} over plain http:// to {host} (insecure_http = true in our settings): anyone on the network path can read it"
        ));
        return Ok(());
    }
    Err(Error::InvalidValue {
        what: "influxctl profile",
        message: format!(
            "profile {profile:?} would send its token over plain http:// to {host}, which is not a loopback address; use TLS, or allow it with `insecure_http = true` under `[profiles.{profile}]` in influxctl-cred's config.toml"
        ),
    })
}

/// `localhost`, `127.0.0.0/8`, `::1`.
pub fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let bare = bare.strip_suffix('.').unwrap_or(bare);
    if bare.eq_ignore_ascii_case("localhost") {
        return true;
    }
    bare.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The resolved location of one profile's Management API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub product: Product,
    /// The API base, without a trailing slash (`https://console.influxdata.com/api/v0`).
    pub base: String,
    /// `/accounts/{a}/clusters/{c}` for Dedicated, empty for Clustered.
    pub resource: String,
    pub tls: TlsOptions,
}

impl Endpoint {
    /// Applies the rules of docs/spec.md §9 to the cluster fields of `profile` (from influxctl's config,
    /// completed by the entry's binding) and the base override (`api_url`), if any.
    pub fn resolve(
        profile: &str,
        cluster: &Cluster,
        tls: TlsOptions,
        api_url: Option<&str>,
    ) -> Result<Endpoint> {
        let product = product_of(profile, cluster)?;
        let missing = |field: &str| Error::InvalidValue {
            what: "influxctl profile",
            message: format!(
                "profile {profile:?} has no {field}, which the {} Management API needs; set it in influxctl's config.toml",
                product.as_str()
            ),
        };
        let base = match api_url {
            Some(url) => check_override(url)?,
            None => match product {
                Product::Dedicated => DEDICATED_API_BASE.to_owned(),
                Product::Clustered => {
                    let host = cluster.host.as_deref().ok_or_else(|| missing("host"))?;
                    clustered_base(profile, host, cluster.port.as_deref(), tls.disable)?
                }
            },
        };
        let resource = match product {
            Product::Dedicated => {
                let account = cluster.account_id.as_deref().ok_or_else(|| missing("account_id"))?;
                let id = cluster.cluster_id.as_deref().ok_or_else(|| missing("cluster_id"))?;
                format!(
                    "/accounts/{}/clusters/{}",
                    path_segment(profile, "account_id", account)?,
                    path_segment(profile, "cluster_id", id)?
                )
            }
            Product::Clustered => String::new(),
        };
        Ok(Endpoint { product, base, resource, tls })
    }

    /// The full URL of `path` (which starts with `/`), e.g. `…/databases`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}{}", self.base, self.resource, path)
    }
}

/// `product` as written, else guessed from which fields are set.
fn product_of(profile: &str, cluster: &Cluster) -> Result<Product> {
    match cluster.product.as_deref() {
        Some("dedicated") => Ok(Product::Dedicated),
        Some("clustered") => Ok(Product::Clustered),
        Some(other) => Err(Error::InvalidValue {
            what: "influxctl profile",
            message: format!(
                "profile {profile:?} has product {other:?}; expected \"dedicated\" or \"clustered\""
            ),
        }),
        None if cluster.account_id.is_none()
            && cluster.cluster_id.is_none()
            && cluster.host.is_some() =>
        {
            Ok(Product::Clustered)
        }
        None => Ok(Product::Dedicated),
    }
}

fn clustered_base(profile: &str, host: &str, port: Option<&str>, plain: bool) -> Result<String> {
    let bad = |message: String| Error::InvalidValue { what: "influxctl profile", message };
    let host = host.trim();
    let bare = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    let ipv6 = bare.parse::<std::net::Ipv6Addr>().is_ok();
    let name = !bare.is_empty()
        && bare.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    let host = match (ipv6, name) {
        (true, _) => format!("[{bare}]"),
        (false, true) if bare == host => bare.to_owned(),
        _ => {
            return Err(bad(format!(
                "profile {profile:?}: host must be a bare host name or address (no scheme, port, path or spaces)"
            )));
        }
    };
    let scheme = if plain { "http" } else { "https" };
    match port.map(str::trim).filter(|p| !p.is_empty()) {
        None => Ok(format!("{scheme}://{host}/api/v0")),
        Some(p) if p.parse::<u16>().is_ok_and(|n| n > 0) => {
            Ok(format!("{scheme}://{host}:{p}/api/v0"))
        }
        Some(_) => Err(bad(format!("profile {profile:?}: port must be a number from 1 to 65535"))),
    }
}

/// An id that goes into a URL path: letters, digits, `-`, `_`, `.` (UUIDs in practice).
fn path_segment<'a>(profile: &str, field: &str, value: &'a str) -> Result<&'a str> {
    let ok = !value.is_empty()
        && value != "."
        && value != ".."
        && value.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(value)
    } else {
        Err(Error::InvalidValue {
            what: "influxctl profile",
            message: format!(
                "profile {profile:?}: {field} may hold only letters, digits, '-', '_' and '.'"
            ),
        })
    }
}

/// The base override: an absolute http(s) URL without credentials, query or fragment; a
/// trailing slash is dropped. The value is not echoed in errors (it could carry a password).
fn check_override(url: &str) -> Result<String> {
    let bad = |message: &str| Error::InvalidValue {
        what: "the API URL (INFLUXCTL_CRED_API_URL or api_url)",
        message: message.to_owned(),
    };
    if url.chars().any(char::is_control) {
        return Err(bad("must not hold control characters"));
    }
    let trimmed = url.trim().trim_end_matches('/');
    let parsed = reqwest::Url::parse(trimmed).map_err(|_| bad("not a URL"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(bad("must start with http:// or https://"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(bad("must not hold a user name or password"));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(bad("must not have a query or fragment"));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(bad("has no host"));
    }
    // The URL as parsed, not as typed: the parser drops what it ignores (trailing spaces,
    // say), which would otherwise stay in the base and break the URLs built on it.
    Ok(parsed.as_str().trim_end_matches('/').to_owned())
}

/// The override in force: `INFLUXCTL_CRED_API_URL` when set and not empty, else `api_url`.
pub fn api_url_override(settings_api_url: Option<&str>) -> Option<String> {
    std::env::var(API_URL_ENV)
        .ok()
        .filter(|s| !s.trim().is_empty())
        .or_else(|| settings_api_url.map(str::to_owned))
}

#[cfg(test)]
mod tests;
