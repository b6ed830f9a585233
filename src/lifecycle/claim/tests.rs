use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use super::*;
use crate::entry::{EntryMeta, Origin};

/// A shared store in memory: one profile's JSON and version, check-and-set as KV v2 does.
#[derive(Default)]
struct Mem {
    slot: Mutex<Option<(Vec<u8>, u64)>>,
    writes: AtomicUsize,
    metas: AtomicUsize,
}

impl Mem {
    fn holding(entry: &Entry) -> Mem {
        let mem = Mem::default();
        *mem.slot.lock().unwrap() = Some((entry.to_secret_json().to_vec(), 1));
        mem
    }

    fn holding_json(json: &[u8]) -> Mem {
        let mem = Mem::default();
        *mem.slot.lock().unwrap() = Some((json.to_vec(), 1));
        mem
    }

    fn now(&self) -> (Stored, u64) {
        let slot = self.slot.lock().unwrap();
        let (json, version) = slot.as_ref().unwrap();
        (parse(json, "vault", "prod").unwrap(), *version)
    }
}

impl Versioned for Mem {
    fn read_versioned(&self, _profile: &str) -> Result<Option<(SecretBytes, u64)>> {
        let slot = self.slot.lock().unwrap();
        Ok(slot.as_ref().map(|(j, v)| (SecretBytes::new(j.clone()), *v)))
    }

    fn write_cas(
        &self,
        _profile: &str,
        data: &[u8],
        cas: u64,
        meta: Option<&EntryMeta>,
    ) -> Result<u64> {
        let mut slot = self.slot.lock().unwrap();
        let current = slot.as_ref().map_or(0, |(_, v)| *v);
        if current != cas {
            return Err(Error::Conflict(format!("cas {cas} but version {current}")));
        }
        self.writes.fetch_add(1, Ordering::SeqCst);
        if meta.is_some() {
            self.metas.fetch_add(1, Ordering::SeqCst);
        }
        *slot = Some((data.to_vec(), current + 1));
        Ok(current + 1)
    }
}

fn token(s: &str) -> Token {
    Token::new(format!("M.V1.test-claim-{s}-0123456789abcdef")).unwrap()
}

fn entry(t: &str) -> Entry {
    let mut e = Entry::new("prod", token(t), Origin::Stored);
    e.token_id = Some(format!("id-{t}"));
    e
}

fn quick() -> Timing {
    Timing {
        claim_for: Duration::from_secs(60),
        wait: Duration::from_secs(5),
        max_claim: Duration::from_secs(600),
        first_pause: Duration::from_millis(10),
    }
}

fn marker(by: &str, from_now: i64) -> Marker {
    Marker { by: by.into(), until: Timestamp::now() + SignedDuration::from_secs(from_now) }
}

#[test]
fn claimed_json_keeps_the_entry_readable_and_round_trips_the_marker() {
    let e = entry("old");
    let m = marker("ann@ci-7:4242", 90);
    let json = claimed_json(&e, &m);
    let text = std::str::from_utf8(&json).unwrap();
    assert!(text.contains(r#""rotating":{"by":"ann@ci-7:4242","until":""#), "{text}");
    // A reader that knows nothing of claims still gets the entry and its token.
    assert_eq!(Entry::from_secret_json(&json, "vault", "prod").unwrap(), e);
    let back = parse(&json, "vault", "prod").unwrap();
    assert_eq!(back.entry, e);
    assert_eq!(back.rotating, Some(m));
    assert_eq!(parse(&e.to_secret_json(), "vault", "prod").unwrap().rotating, None);
}

#[test]
fn malformed_marker_counts_as_none_but_a_broken_entry_is_corrupt() {
    let mut v: serde_json::Value = serde_json::from_slice(&entry("old").to_secret_json()).unwrap();
    v["rotating"] = serde_json::json!({"by": 7, "until": "soon"});
    let back = parse(&serde_json::to_vec(&v).unwrap(), "vault", "prod").unwrap();
    assert_eq!(back.rotating, None);
    let err = parse(br#"{"rotating":{"by":"x","until":"2030-01-01T00:00:00Z"}}"#, "vault", "prod")
        .unwrap_err();
    assert_eq!(err.exit_code(), 1);
    assert!(matches!(err, Error::Corrupt { .. }), "{err:?}");
}

#[test]
fn marker_is_live_until_it_expires_and_never_when_implausibly_far_ahead() {
    let now = Timestamp::now();
    let max = Duration::from_secs(600);
    assert!(marker("a", 30).live(now, max));
    assert!(!marker("a", -1).live(now, max), "expired");
    assert!(!Marker { by: "a".into(), until: now }.live(now, max), "expires at `until`");
    assert!(!marker("a", 601).live(now, max), "a clock far off, or a hand-written marker");
    let ours = Marker::ours(now, Duration::from_secs(180)).unwrap();
    assert_eq!(ours.until, now + SignedDuration::from_secs(180));
    assert!(ours.by.ends_with(&format!(":{}", std::process::id())), "{}", ours.by);
    assert!(ours.by.contains('@'));
}

#[test]
fn marker_by_is_shown_on_one_line_without_a_token() {
    let m = marker("evil\n\u{1b}[31mM.V1.test-claim-leak-0123456789abcdef", 10);
    let shown = m.shown();
    assert!(!shown.contains('\n') && !shown.contains('\u{1b}'), "{shown:?}");
    assert!(!shown.contains("M.V1.test"), "{shown}");
    assert_eq!(marker(&"x".repeat(5000), 10).shown().len(), MAX_BY);
    assert_eq!(marker("\n", 10).shown(), "another rotator");
}

#[test]
fn timing_waits_for_an_unattended_rotation_and_claims_longer_for_oauth() {
    let t = Timing::for_rotation(Duration::from_secs(120), false);
    assert_eq!(t.claim_for, Duration::from_secs(180));
    assert_eq!(t.wait, Duration::from_secs(180));
    let o = Timing::for_rotation(Duration::from_secs(120), true);
    assert_eq!(o.claim_for, Duration::from_secs(180 + 900));
    assert_eq!(o.wait, t.wait);
    assert!(o.max_claim > o.claim_for, "our own claims are never taken for bogus ones");
}

#[test]
fn acquire_claims_by_cas_and_commit_writes_the_new_entry_clearing_the_claim() {
    let mem = Mem::holding(&entry("old"));
    let Acquired::Held(held) = acquire(&mem, "vault", "prod", &token("old"), &quick()).unwrap()
    else {
        panic!("not held")
    };
    let (during, version) = mem.now();
    assert_eq!(version, 2);
    assert_eq!(during.entry.token, token("old"), "readers keep the old token during rotation");
    assert!(during.rotating.unwrap().live(Timestamp::now(), Duration::from_secs(600)));
    assert_eq!(mem.metas.load(Ordering::SeqCst), 0, "a claim leaves the metadata alone");
    assert_eq!(held.commit(&entry("new")).unwrap(), 3);
    let (after, version) = mem.now();
    assert_eq!((after.entry.token, after.rotating, version), (token("new"), None, 3));
    assert_eq!(mem.metas.load(Ordering::SeqCst), 1, "the new entry's metadata is written");
}

#[test]
fn acquire_answers_replaced_when_the_token_is_not_the_one_seen() {
    let mem = Mem::holding(&entry("new"));
    match acquire(&mem, "vault", "prod", &token("old"), &quick()).unwrap() {
        Acquired::Replaced { entry, by } => {
            assert_eq!(entry.token, token("new"));
            assert_eq!(by, None);
        }
        Acquired::Held(_) => panic!("claimed an entry that was already rotated"),
    }
    assert_eq!(mem.writes.load(Ordering::SeqCst), 0);
}

#[test]
fn acquire_of_a_gone_entry_is_not_found() {
    let mem = Mem::default();
    let err = acquire(&mem, "vault", "prod", &token("old"), &quick()).err().unwrap();
    assert_eq!(err.exit_code(), 3);
}

#[test]
fn acquire_takes_over_an_expired_claim() {
    let mem = Mem::holding_json(&claimed_json(&entry("old"), &marker("crashed@ci-1:7", -5)));
    let Acquired::Held(held) = acquire(&mem, "vault", "prod", &token("old"), &quick()).unwrap()
    else {
        panic!("not held")
    };
    let (during, _) = mem.now();
    assert!(during.rotating.unwrap().by.ends_with(&format!(":{}", std::process::id())));
    held.commit(&entry("new")).unwrap();
}

#[test]
fn acquire_waits_for_a_live_claim_and_then_uses_the_new_token() {
    let mem = Mem::holding_json(&claimed_json(&entry("old"), &marker("bob@ci-2:9", 60)));
    let got = std::thread::scope(|s| {
        let waiter =
            s.spawn(|| match acquire(&mem, "vault", "prod", &token("old"), &quick()).unwrap() {
                Acquired::Replaced { entry, by } => (entry, by),
                Acquired::Held(_) => panic!("a waiter claimed instead of using the new token"),
            });
        std::thread::sleep(Duration::from_millis(150));
        // The claim's holder commits (cas = the claim's version).
        mem.write_cas("prod", &entry("new").to_secret_json(), 1, None).unwrap();
        waiter.join().unwrap()
    });
    let (entry, by) = got;
    assert_eq!(entry.token, token("new"));
    assert_eq!(by.as_deref(), Some("bob@ci-2:9"));
    assert_eq!(mem.writes.load(Ordering::SeqCst), 1, "the waiter wrote nothing");
}

#[test]
fn acquire_gives_up_with_locked_when_the_claim_outlives_the_wait() {
    let mem = Mem::holding_json(&claimed_json(&entry("old"), &marker("bob@ci-2:9", 60)));
    let timing = Timing { wait: Duration::from_millis(120), ..quick() };
    let err = acquire(&mem, "vault", "prod", &token("old"), &timing).err().unwrap();
    assert_eq!(err.kind(), ErrorKind::Locked);
    assert!(err.to_string().contains("bob@ci-2:9"), "{err}");
    assert_eq!(mem.writes.load(Ordering::SeqCst), 0);
}

#[test]
fn dropped_claim_is_given_back_with_the_old_token() {
    let old = entry("old");
    let mem = Mem::holding(&old);
    let held = acquire(&mem, "vault", "prod", &token("old"), &quick()).unwrap();
    drop(held);
    let (after, version) = mem.now();
    assert_eq!((after.entry, after.rotating, version), (old, None, 3));
    // The next rotator claims at once, without waiting for an expiry.
    let timing = Timing { wait: Duration::ZERO, ..quick() };
    assert!(matches!(
        acquire(&mem, "vault", "prod", &token("old"), &timing).unwrap(),
        Acquired::Held(_)
    ));
}

#[test]
fn commit_after_a_takeover_is_locked_and_leaves_the_other_claim() {
    let mem = Mem::holding(&entry("old"));
    let Acquired::Held(slow) = acquire(&mem, "vault", "prod", &token("old"), &quick()).unwrap()
    else {
        panic!("not held")
    };
    // Its claim expires; another rotator takes it over.
    let expired = claimed_json(&entry("old"), &marker("slow@a:1", -1));
    mem.write_cas("prod", &expired, 2, None).unwrap();
    let Acquired::Held(fast) = acquire(&mem, "vault", "prod", &token("old"), &quick()).unwrap()
    else {
        panic!("not taken over")
    };
    let err = slow.commit(&entry("slow-new")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Locked);
    assert!(err.to_string().contains("taken over"), "{err}");
    assert_eq!(mem.now().0.entry.token, token("old"), "nothing of the slow rotation was written");
    fast.commit(&entry("fast-new")).unwrap();
    assert_eq!(mem.now().0.entry.token, token("fast-new"));
}

#[test]
fn eight_rotators_at_once_create_exactly_one_token() {
    let mem = Mem::holding(&entry("old"));
    let created = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for i in 0..8 {
            let (mem, created) = (&mem, &created);
            s.spawn(move || match acquire(mem, "vault", "prod", &token("old"), &quick()) {
                Ok(Acquired::Held(held)) => {
                    created.fetch_add(1, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(100));
                    held.commit(&entry(&format!("new-{i}"))).unwrap();
                }
                Ok(Acquired::Replaced { entry, .. }) => assert_ne!(entry.token, token("old")),
                Err(e) => panic!("rotator {i}: {e}"),
            });
        }
    });
    assert_eq!(created.load(Ordering::SeqCst), 1);
    let (after, _) = mem.now();
    assert_eq!(after.rotating, None);
    assert_ne!(after.entry.token, token("old"));
}

/// [`Mem`] as a whole store (one profile), as the vault store is: entries parsed from the
/// versioned JSON, writes with `cas` = the version read.
struct Shared(std::sync::Arc<Mem>);

impl crate::store::Store for Shared {
    fn kind(&self) -> StoreKind {
        StoreKind::Memory
    }
    fn probe(&self) -> Result<()> {
        Ok(())
    }
    fn get(&self, profile: &str) -> Result<Option<Entry>> {
        let read = self.0.read_versioned(profile)?;
        read.map(|(json, _)| parse(&json, "vault", profile).map(|s| s.entry)).transpose()
    }
    fn set(&self, entry: &Entry) -> Result<bool> {
        let version = self.0.read_versioned(&entry.profile)?.map_or(0, |(_, v)| v);
        self.0.write_cas(&entry.profile, &entry.to_secret_json(), version, Some(&entry.meta()))?;
        Ok(version > 0)
    }
    fn erase(&self, _profile: &str) -> Result<bool> {
        Ok(self.0.slot.lock().unwrap().take().is_some())
    }
    fn list(&self) -> Result<Vec<EntryMeta>> {
        Ok(self.get("prod")?.iter().map(Entry::meta).collect())
    }
    fn versioned(&self) -> Option<&dyn Versioned> {
        Some(self.0.as_ref())
    }
}

/// influxctl with server state shared by every machine: (id, token, revoked).
#[derive(Default)]
struct Server {
    tokens: Mutex<Vec<(String, String, bool)>>,
    fail_create: std::sync::atomic::AtomicBool,
    /// Runs while a token is being created (another machine acting meanwhile).
    during_create: Option<Box<dyn Fn() + Sync>>,
}

impl crate::lifecycle::Influxctl for Server {
    fn create(
        &self,
        _profile: &str,
        _cluster: &crate::entry::Cluster,
        _auth: crate::lifecycle::Auth<'_>,
        description: &str,
        expires_at: Timestamp,
    ) -> Result<crate::influxctl::output::Created> {
        if self.fail_create.load(Ordering::SeqCst) {
            return Err(Error::InfluxctlFailed("create exited with status 1".into()));
        }
        if let Some(act) = &self.during_create {
            act();
        }
        let mut tokens = self.tokens.lock().unwrap();
        let n = tokens.len() + 1;
        let (id, tok) = (format!("id-{n}"), format!("M.V1.test-claim-server-{n}-0123456789"));
        tokens.push((id.clone(), tok.clone(), false));
        Ok(crate::influxctl::output::Created {
            token: Token::new(tok).unwrap(),
            id: Some(id),
            description: Some(description.to_owned()),
            expires_at: Some(expires_at),
        })
    }
    fn revoke(
        &self,
        _profile: &str,
        _cluster: &crate::entry::Cluster,
        _auth: crate::lifecycle::Auth<'_>,
        id: &str,
    ) -> Result<()> {
        for t in self.tokens.lock().unwrap().iter_mut().filter(|t| t.0 == id) {
            t.2 = true;
        }
        Ok(())
    }
    fn test(
        &self,
        _profile: &str,
        _cluster: &crate::entry::Cluster,
        _auth: crate::lifecycle::Auth<'_>,
    ) -> Result<()> {
        Ok(())
    }
    fn list(
        &self,
        _profile: &str,
        _cluster: &crate::entry::Cluster,
        _auth: crate::lifecycle::Auth<'_>,
    ) -> Result<Vec<crate::influxctl::output::Listed>> {
        Ok(Vec::new())
    }
}

/// One machine: its own home (so its own store lock) over the shared store.
fn machine(shared: &std::sync::Arc<Mem>) -> (tempfile::TempDir, Vault) {
    let dir = tempfile::tempdir().unwrap();
    let paths = crate::paths::Paths::under(dir.path().to_owned());
    let opts = crate::app::Options {
        non_interactive: true,
        influxctl_config: Some(dir.path().join("influxctl.toml")),
    };
    let settings = crate::settings::Settings {
        auto_rotate: true,
        activation_timeout: Duration::ZERO,
        ..crate::settings::Settings::default()
    };
    let stores: Vec<Box<dyn crate::store::Store>> = vec![Box::new(Shared(shared.clone()))];
    (dir, Vault::with_stores(paths, settings, opts, stores))
}

fn due_entry() -> Entry {
    let mut e = entry("old");
    e.expires_at = Some(Timestamp::now() + SignedDuration::from_hours(48));
    e
}

#[test]
fn eight_machines_auto_rotating_one_shared_entry_create_exactly_one_token() {
    let shared = std::sync::Arc::new(Mem::holding(&due_entry()));
    let server = Server::default();
    server.tokens.lock().unwrap().push(("id-old".into(), token("old").expose().into(), false));
    std::thread::scope(|s| {
        for _ in 0..8 {
            let (shared, server) = (&shared, &server);
            s.spawn(move || {
                let (_home, vault) = machine(shared);
                let snap = vault.snapshot().unwrap();
                let seen = vault.find("prod").unwrap();
                crate::lifecycle::rotate::auto_rotate_with(&vault, &snap, server, &seen, None)
                    .unwrap();
                // Every machine then reads the one new token.
                assert_ne!(vault.find("prod").unwrap().entry.token, token("old"));
            });
        }
    });
    let tokens = server.tokens.lock().unwrap();
    assert_eq!(tokens.len(), 2, "exactly one token created: {tokens:?}");
    assert!(tokens[0].2, "the old token was revoked");
    assert!(!tokens[1].2, "the new one was not");
    let (after, _) = shared.now();
    assert_eq!((after.entry.token.expose(), after.rotating), (tokens[1].1.as_str(), None));
}

#[test]
fn rotation_through_a_claim_writes_claim_then_entry_and_a_failure_gives_it_back() {
    let shared = std::sync::Arc::new(Mem::holding(&due_entry()));
    let (_home, vault) = machine(&shared);
    let server = Server::default();
    server.fail_create.store(true, Ordering::SeqCst);
    let seen = vault.find("prod").unwrap();
    let snap = vault.snapshot().unwrap();
    let err = crate::lifecycle::rotate::auto_rotate_with(&vault, &snap, &server, &seen, None)
        .unwrap_err();
    assert_eq!(err.exit_code(), 8);
    let (after, version) = shared.now();
    assert_eq!((after.entry.token, after.rotating, version), (token("old"), None, 3));
    server.fail_create.store(false, Ordering::SeqCst);
    crate::lifecycle::rotate::auto_rotate_with(&vault, &snap, &server, &seen, None).unwrap();
    let (after, version) = shared.now();
    assert_eq!((after.entry.origin, after.rotating, version), (Origin::Rotated, None, 5));
    assert_eq!(shared.metas.load(Ordering::SeqCst), 1, "claims leave the metadata alone");
}

#[test]
fn rotation_whose_claim_was_taken_over_stores_nothing_revokes_nothing_and_names_its_token() {
    let shared = std::sync::Arc::new(Mem::holding(&due_entry()));
    let (_home, vault) = machine(&shared);
    let other = shared.clone();
    let server = Server {
        // While this machine creates its token, its claim expires and another takes it over.
        during_create: Some(Box::new(move || {
            let (_, version) = other.now();
            let takeover = claimed_json(&due_entry(), &marker("fast@b:2", 60));
            other.write_cas("prod", &takeover, version, None).unwrap();
        })),
        ..Server::default()
    };
    server.tokens.lock().unwrap().push(("id-old".into(), token("old").expose().into(), false));
    let seen = vault.find("prod").unwrap();
    let snap = vault.snapshot().unwrap();
    let err = crate::lifecycle::rotate::auto_rotate_with(&vault, &snap, &server, &seen, None)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Locked, "{err}");
    let msg = err.to_string();
    assert!(msg.contains("created the token id-2 but it could not be stored"), "{msg}");
    assert!(msg.contains("taken over"), "{msg}");
    let (after, _) = shared.now();
    assert_eq!(after.entry.token, token("old"), "the old token stays stored");
    assert_eq!(after.rotating.map(|m| m.by).as_deref(), Some("fast@b:2"), "the other claim stays");
    let tokens = server.tokens.lock().unwrap();
    assert!(!tokens[0].2, "the old token was not revoked");
}
