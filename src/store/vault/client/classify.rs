//! Which answers of a vault server are transient (retried across the addresses until
//! `vault_timeout`), which redirects may be followed, and which are the caller's. Pure.

use reqwest::Url;

use super::{errors_of, first_error, origin};

/// What to do with one answer.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The caller's answer (2xx, 404, 403, other 4xx, 500).
    Answer,
    /// Transient: try the next address, then again after a pause.
    Retry(String),
    /// A redirect we may follow.
    Follow(Url),
}

/// Classifies one answer of `url` (pure; see the module's list).
pub fn transient(
    status: u16,
    body: &[u8],
    location: Option<&str>,
    url: &Url,
    addrs: &[Url],
) -> Verdict {
    match status {
        503 if is_sealed(body) => Verdict::Retry(SEALED.into()),
        503 => Verdict::Retry(format!(
            "503 ({})",
            first_error(body).unwrap_or("sealed, or no active node".into())
        )),
        502 | 504 => Verdict::Retry(format!("{status} from a proxy")),
        429 => Verdict::Retry("429 (standby or rate limited)".into()),
        // A performance standby that has not yet seen the data the request depends on.
        412 => Verdict::Retry("412 (a standby is not caught up yet)".into()),
        301 | 302 | 303 | 307 | 308 => {
            let Some(next) = location.and_then(|l| url.join(l).ok()) else {
                return Verdict::Retry(format!("{status} redirect without a usable Location"));
            };
            if matches!(status, 307 | 308) && redirect_allowed(&next, addrs) {
                Verdict::Follow(next)
            } else {
                Verdict::Retry(format!(
                    "{status} redirect to {}, which is not a configured address; not followed",
                    origin(&next)
                ))
            }
        }
        400 if errors_of(body, None).iter().any(|e| is_upgrading(e)) => {
            Verdict::Retry("400 (the KV mount is being upgraded)".into())
        }
        // A standby during an election: the active node is gone and no new one is known yet.
        500 if errors_of(body, None).iter().any(|e| is_leaderless(e)) => Verdict::Retry(format!(
            "500 ({}: a standby during an election)",
            first_error(body).unwrap_or_default()
        )),
        _ => Verdict::Answer,
    }
}

/// The reason of a retry for a sealed server; the final message says "sealed" when every
/// address gave it.
pub const SEALED: &str = "sealed";

/// Whether a 503 body says the server is sealed: `"sealed": true` (`sys/health`,
/// `sys/seal-status`) or the error of any other endpoint ("Vault is sealed").
fn is_sealed(body: &[u8]) -> bool {
    #[derive(serde::Deserialize)]
    struct Health {
        #[serde(default)]
        sealed: bool,
    }
    serde_json::from_slice::<Health>(body).is_ok_and(|h| h.sealed)
        || errors_of(body, None).iter().any(|e| e.to_ascii_lowercase().ends_with("is sealed"))
}

/// The brief answer of a KV mount being upgraded from version 1 to 2 (a new mount, or after a
/// restart).
fn is_upgrading(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    // "Upgrading from non-versioned to versioned data. …" on the node doing it, "Waiting for
    // the primary to upgrade from non-versioned to versioned data. …" on the others.
    m.contains("from non-versioned to versioned data")
}

/// The 500 of a standby that knows of no active node ("local node not active but active
/// cluster node not found"), which a new election ends within seconds.
fn is_leaderless(message: &str) -> bool {
    message.to_ascii_lowercase().contains("active cluster node not found")
}

/// Whether a redirect to `next` may be followed: it goes to one of `addrs` (the same scheme,
/// host **and port**; a port left out is the scheme's default), and keeps to the API path.
/// Another port of the same host is another server, perhaps not even ours to trust: a
/// redirect there is not followed (it would hand it our token and what we write).
pub fn redirect_allowed(next: &Url, addrs: &[Url]) -> bool {
    next.path().starts_with("/v1/")
        && next.username().is_empty()
        && next.password().is_none()
        && addrs.iter().any(|a| a.origin() == next.origin())
}
