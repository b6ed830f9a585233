//! The rotation claim: single-flight rotation across machines for a store that several
//! machines share (the `vault` store, docs/spec.md §12). The local store lock only orders the runs of
//! one home; here the entry itself carries the claim.
//!
//! A rotator reads the entry with its version ([`Versioned`]) and check-and-set writes it back
//! unchanged plus a top-level marker, `"rotating": {"by": "user@host:pid", "until": RFC3339}`,
//! so that readers keep getting the (still valid) token during the rotation. Holding the claim
//! ([`Held`]), it creates and tests the new token, then writes the new entry with `cas` = the
//! claim's version ([`Held::commit`]), which also clears the marker. Another rotator that sees a
//! live claim polls with backoff (at most [`Timing::wait`]) and re-reads: once the token has
//! changed it uses the new one and creates none ([`Acquired::Replaced`]). A claim past its
//! `until` is taken over by the same check-and-set write, so one that outlives a crashed
//! rotator costs only its lifetime; one whose `until` lies implausibly far ahead (a clock that
//! is wrong, or a marker someone wrote by hand) counts as expired. A rotation that fails gives
//! its claim back (the old entry, written with `cas`) when [`Held`] is dropped uncommitted.
//!
//! Clocks: `until` is compared with the reader's clock, so machines should agree within the
//! margin of [`Timing`] (NTP); docs/lifecycle.md says so.

use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::app::{Found, Vault, Written};
use crate::entry::Entry;
use crate::error::{Error, ErrorKind, Result};
use crate::secret::{SecretBytes, Token};
use crate::settings::StoreKind;
use crate::store::versioned::Versioned;
use crate::ui;

/// Added to `activation_timeout` for a claim's lifetime: creating the token, storing it.
const MARGIN: Duration = Duration::from_secs(60);
/// Added for a rotation that logs in with OAuth (a device login in a browser takes minutes).
const OAUTH_LOGIN: Duration = Duration::from_secs(15 * 60);
/// The longest `by` we show from a marker someone else wrote.
const MAX_BY: usize = 200;

/// The `rotating` marker in an entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Marker {
    /// Who holds the claim: `user@host:pid`.
    pub by: String,
    /// Until when; after it the claim may be taken over.
    pub until: Timestamp,
}

impl Marker {
    /// A claim of this process, for `claim_for` from now.
    pub fn ours(now: Timestamp, claim_for: Duration) -> Result<Marker> {
        let span = SignedDuration::try_from(claim_for)
            .map_err(|e| Error::Other(format!("the rotation claim's lifetime: {e}")))?;
        let until = now
            .checked_add(span)
            .map_err(|e| Error::Other(format!("the rotation claim's lifetime: {e}")))?;
        let by = format!("{}@{}:{}", super::user_name(), super::host_name(), std::process::id());
        Ok(Marker { by, until })
    }

    /// Whether the claim still holds at `now`: before its `until`, and that not more than
    /// `max` ahead (a marker from a clock that is far off, or written by hand, is expired).
    pub fn live(&self, now: Timestamp, max: Duration) -> bool {
        let ahead = self.until.duration_since(now);
        ahead.is_positive() && ahead.unsigned_abs() <= max
    }

    /// `by` for messages: one line, printable, bounded (someone else wrote it).
    pub fn shown(&self) -> String {
        let clean: String = self.by.chars().filter(|c| !c.is_control()).take(MAX_BY).collect();
        let clean = crate::error::redact(&clean).into_owned();
        if clean.is_empty() { "another rotator".to_owned() } else { clean }
    }
}

/// How long claims last and waits take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// Lifetime of our own claim.
    pub claim_for: Duration,
    /// How long we wait for another rotator's claim before giving up.
    pub wait: Duration,
    /// A claim more than this far ahead of our clock counts as expired.
    pub max_claim: Duration,
    /// First pause between two reads while waiting (doubled up to 2 s).
    pub first_pause: Duration,
}

impl Timing {
    /// For a rotation that tests its new token for up to `activation_timeout`; `oauth`: it
    /// creates the token with the user's OAuth login (a device login may take minutes).
    pub fn for_rotation(activation_timeout: Duration, oauth: bool) -> Timing {
        let unattended = activation_timeout.saturating_add(MARGIN);
        let claim_for = if oauth { unattended.saturating_add(OAUTH_LOGIN) } else { unattended };
        Timing {
            claim_for,
            wait: unattended,
            max_claim: unattended.saturating_add(OAUTH_LOGIN).saturating_add(MARGIN),
            first_pause: Duration::from_millis(100),
        }
    }
}

/// An entry as a shared store holds it.
#[derive(Debug)]
pub struct Stored {
    pub entry: Entry,
    pub rotating: Option<Marker>,
}

/// Parses an entry's stored JSON, with its marker. A marker that does not parse counts as
/// none (so the next claim replaces it); the entry itself must parse.
pub fn parse(bytes: &[u8], store: &'static str, profile: &str) -> Result<Stored> {
    #[derive(Deserialize)]
    struct Marked {
        #[serde(default)]
        rotating: Option<serde::de::IgnoredAny>,
    }
    #[derive(Deserialize)]
    struct Claimed {
        rotating: Marker,
    }
    let entry = Entry::from_secret_json(bytes, store, profile)?;
    let has_marker = crate::error::shield_or(
        || serde_json::from_slice::<Marked>(bytes).map(|m| m.rotating.is_some()).map_err(drop),
        || (),
    )
    .unwrap_or(false);
    let rotating = if has_marker {
        let parsed = crate::error::shield_or(
            || serde_json::from_slice::<Claimed>(bytes).map(|c| c.rotating).map_err(drop),
            || (),
        );
        if parsed.is_err() {
            ui::verbose(format!(
                "the rotation claim of profile {profile:?} is malformed; it counts as none"
            ));
        }
        parsed.ok()
    } else {
        None
    };
    Ok(Stored { entry, rotating })
}

/// The JSON of `entry` with `marker` as its `rotating` member.
pub fn claimed_json(entry: &Entry, marker: &Marker) -> SecretBytes {
    #[derive(Serialize)]
    struct WithClaim<'a> {
        #[serde(flatten)]
        entry: &'a Entry,
        rotating: &'a Marker,
    }
    // Plain structs of strings and timestamps serialize into a Vec without failing.
    let json = serde_json::to_vec(&WithClaim { entry, rotating: marker });
    SecretBytes::new(json.expect("entry serializes"))
}

/// What [`acquire`] found.
pub enum Acquired<'a> {
    /// The claim is ours: rotate, then [`Held::commit`].
    Held(Held<'a>),
    /// The token is no longer the one seen: another rotator replaced it (by `by`, when its
    /// claim was seen). Use that one; create none.
    Replaced { entry: Entry, by: Option<String> },
}

/// Claims the entry of `profile`, whose token the caller saw as `seen`, in `store`: waits for
/// a live claim of another rotator (bounded by `timing.wait`), takes over an expired one.
/// `Err` of kind `locked` when another rotator still holds it after the wait, `not-found` when
/// the entry is gone.
pub fn acquire<'a>(
    store: &'a dyn Versioned,
    store_name: &'static str,
    profile: &str,
    seen: &Token,
    timing: &Timing,
) -> Result<Acquired<'a>> {
    let deadline = Instant::now() + timing.wait;
    let mut pause = timing.first_pause;
    let mut waited_for: Option<String> = None;
    loop {
        let Some((bytes, version)) = store.read_versioned(profile)? else {
            return Err(Error::NotFound { profile: profile.to_owned() });
        };
        let stored = parse(&bytes, store_name, profile)?;
        drop(bytes);
        if stored.entry.token != *seen {
            return Ok(Acquired::Replaced { entry: stored.entry, by: waited_for });
        }
        let now = Timestamp::now();
        match &stored.rotating {
            Some(m) if m.live(now, timing.max_claim) => {
                let by = m.shown();
                if Instant::now() >= deadline {
                    return Err(held_elsewhere(profile, &by, m.until, timing.wait));
                }
                if waited_for.as_deref() != Some(by.as_str()) {
                    ui::note(format!(
                        "profile {profile:?} is being rotated by {by} (claim until {}); waiting for its new token",
                        m.until
                    ));
                    waited_for = Some(by);
                }
                std::thread::sleep(
                    jittered(pause).min(deadline.saturating_duration_since(Instant::now())),
                );
                pause = (pause * 2).min(Duration::from_secs(2));
            }
            other => {
                if let Some(m) = other {
                    ui::note(format!(
                        "taking over the expired rotation claim of {} on profile {profile:?}",
                        m.shown()
                    ));
                }
                let marker = Marker::ours(now, timing.claim_for)?;
                let data = claimed_json(&stored.entry, &marker);
                match store.write_cas(profile, &data, version, None) {
                    Ok(version) => {
                        ui::verbose(format!(
                            "claimed the rotation of profile {profile:?} until {}",
                            marker.until
                        ));
                        return Ok(Acquired::Held(Held {
                            store,
                            profile: profile.to_owned(),
                            version,
                            old: stored.entry,
                            done: false,
                        }));
                    }
                    // Another rotator wrote first: read again, and see what it did.
                    Err(e) if e.kind() == ErrorKind::Locked => {
                        ui::verbose(format!("another rotator claimed profile {profile:?} first"));
                        if Instant::now() >= deadline {
                            return Err(e);
                        }
                        std::thread::sleep(jittered(timing.first_pause));
                    }
                    Err(e) => return Err(e),
                }
            }
        }
    }
}

fn held_elsewhere(profile: &str, by: &str, until: Timestamp, waited: Duration) -> Error {
    Error::Conflict(format!(
        "profile {profile:?} is still being rotated by {by} (claim until {until}) after waiting {}s; nothing was rotated here",
        waited.as_secs()
    ))
}

/// A claim this process holds. Dropped without [`Held::commit`], it gives the claim back (the
/// old entry, with `cas`), so that the others need not wait for it to expire.
pub struct Held<'a> {
    store: &'a dyn Versioned,
    profile: String,
    version: u64,
    old: Entry,
    done: bool,
}

impl Held<'_> {
    /// Writes `entry` (the new token) with `cas` = the claim's version, clearing the claim;
    /// answers the new version. `locked` when the claim was taken over meanwhile (it expired
    /// before this rotation finished): then nothing was written.
    pub fn commit(mut self, entry: &Entry) -> Result<u64> {
        // Given back by nothing from here on: a write that fails after the server took it must
        // not be followed by a write of the old entry.
        self.done = true;
        let meta = entry.meta();
        self.store.write_cas(&self.profile, &entry.to_secret_json(), self.version, Some(&meta)).map_err(
            |e| {
                if e.kind() == ErrorKind::Locked {
                    e.context(format!(
                        "the rotation claim of profile {:?} was taken over by another rotator before this rotation finished (it expired)",
                        self.profile
                    ))
                } else {
                    e
                }
            },
        )
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        match self.store.write_cas(&self.profile, &self.old.to_secret_json(), self.version, None) {
            Ok(_) => {
                ui::verbose(format!("gave back the rotation claim of profile {:?}", self.profile))
            }
            Err(e) => ui::warn(format!(
                "could not give back the rotation claim of profile {:?} ({e}); it expires by itself",
                self.profile
            )),
        }
    }
}

/// The claim a rotation of `old` needs before it creates a token: `None` when its store is
/// not shared (the store lock is enough), else [`acquire`] on it. `oauth`: the rotation creates
/// the token with the user's OAuth login (its claim lasts longer, see [`Timing`]).
pub fn for_rotation<'a>(
    vault: &'a Vault,
    old: &Found,
    oauth: bool,
) -> Result<Option<Acquired<'a>>> {
    let Some(shared) = vault.store(old.store)?.versioned() else { return Ok(None) };
    let timing = Timing::for_rotation(vault.settings.activation_timeout, oauth);
    let profile = &old.entry.profile;
    acquire(shared, old.store.as_str(), profile, &old.entry.token, &timing).map(Some).map_err(|e| {
        e.context(format!(
            "rotate: claiming the rotation of profile {profile:?} in the {} store failed; nothing was created, the old token is still stored",
            old.store
        ))
    })
}

/// Writes the rotated `entry` through the claim (checked as [`Vault::put_locked`] checks an
/// entry), into `store`, the store the claim is on.
pub fn commit(held: Held<'_>, entry: &Entry, store: StoreKind) -> Result<Written> {
    crate::store::check_writable_name(&entry.profile)?;
    if let Some(id) = &entry.token_id {
        crate::entry::validate_token_id(id)?;
    }
    if let Some(d) = &entry.description {
        crate::entry::check_description(d)?;
    }
    held.commit(entry)?;
    Ok(Written { store, replaced: true })
}

/// `pause` plus up to 25% spread by process, so that waiters do not poll in step.
fn jittered(pause: Duration) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::from(d.subsec_nanos()));
    let seed = u64::from(std::process::id()).wrapping_mul(2_654_435_761).wrapping_add(nanos);
    let quarter = (pause.as_millis() as u64 / 4).max(1);
    pause + Duration::from_millis(seed % quarter)
}

#[cfg(test)]
mod tests;
