//! The lifecycle over a memory store and a scripted influxctl: the order of the steps, what
//! each failure leaves behind, and how each step authenticates.

use std::cell::{Cell, RefCell};

use jiff::{SignedDuration, Timestamp};

use super::rotate::{Plan, auto_rotate_with, rotate_locked};
use super::*;
use crate::app::Options;
use crate::check::Status;
use crate::entry::{Entry, EntryMeta};
use crate::influxctl::output::Listed;
use crate::paths::Paths;
use crate::settings::Settings;
use crate::settings::StoreKind;
use crate::store::Store;
use crate::store::memory::MemoryStore;

/// A scripted influxctl: a token list, a call log, and switches to fail.
#[derive(Default)]
struct Script {
    /// (id, token, revoked)
    tokens: RefCell<Vec<(String, String, bool)>>,
    calls: RefCell<Vec<String>>,
    fail_create: Cell<bool>,
    fail_revoke: Cell<bool>,
    fail_list: Cell<bool>,
    /// `list` authenticated with a token fails (the OAuth login still lists).
    fail_token_list: Cell<bool>,
    /// Tokens this script created fail `test` (never become active).
    dead_new: Cell<bool>,
    /// Print no id, as influxctl before 2.11.
    old_form: Cell<bool>,
    /// How many characters of each token `list` shows as its `token_prefix` (0: 9).
    prefix_len: Cell<usize>,
}

impl Script {
    fn auth(&self, auth: Auth<'_>) -> String {
        match auth {
            Auth::OAuth => "oauth".into(),
            Auth::Token(t) => {
                let tokens = self.tokens.borrow();
                let id = tokens.iter().find(|(_, tok, _)| tok == t.expose()).map(|(id, ..)| id);
                format!("token:{}", id.map_or("?", String::as_str))
            }
        }
    }

    fn seed(&self, id: &str, token: &str) {
        self.tokens.borrow_mut().push((id.into(), token.into(), false));
    }

    fn calls(&self) -> Vec<String> {
        self.calls.borrow().clone()
    }
}

impl Influxctl for Script {
    fn create(
        &self,
        _profile: &str,
        _cluster: &Cluster,
        auth: Auth<'_>,
        description: &str,
        expires_at: Timestamp,
    ) -> Result<Created> {
        self.calls.borrow_mut().push(format!("create {}", self.auth(auth)));
        if self.fail_create.get() {
            return Err(Error::InfluxctlFailed("create exited with status 1".into()));
        }
        let n = self.tokens.borrow().len() + 1;
        let (id, token) = (format!("id-{n}"), format!("M.V1.test-new-{n}"));
        self.seed(&id, &token);
        Ok(Created {
            token: Token::new(token).unwrap(),
            id: (!self.old_form.get()).then_some(id),
            description: Some(description.to_owned()),
            expires_at: (!self.old_form.get()).then_some(expires_at),
        })
    }

    fn revoke(&self, _profile: &str, _cluster: &Cluster, auth: Auth<'_>, id: &str) -> Result<()> {
        self.calls.borrow_mut().push(format!("revoke {id} {}", self.auth(auth)));
        if self.fail_revoke.get() {
            return Err(Error::InfluxctlFailed("revoke exited with status 1".into()));
        }
        for t in self.tokens.borrow_mut().iter_mut().filter(|t| t.0 == id) {
            t.2 = true;
        }
        Ok(())
    }

    fn test(&self, _profile: &str, _cluster: &Cluster, auth: Auth<'_>) -> Result<()> {
        let who = self.auth(auth);
        self.calls.borrow_mut().push(format!("test {who}"));
        if self.dead_new.get() && who.starts_with("token:id-") && who != "token:id-old" {
            return Err(Error::InfluxctlFailed("database list exited with status 1".into()));
        }
        Ok(())
    }

    fn list(&self, _profile: &str, _cluster: &Cluster, auth: Auth<'_>) -> Result<Vec<Listed>> {
        self.calls.borrow_mut().push(format!("list {}", self.auth(auth)));
        if self.fail_list.get() || (self.fail_token_list.get() && matches!(auth, Auth::Token(_))) {
            return Err(Error::InfluxctlFailed("list exited with status 1".into()));
        }
        let revoked_at = Some(Timestamp::UNIX_EPOCH + SignedDuration::from_hours(1));
        Ok(self
            .tokens
            .borrow()
            .iter()
            .map(|(id, tok, revoked)| Listed {
                id: id.clone(),
                account_id: None,
                token_prefix: Some(
                    tok[..tok.len().min(match self.prefix_len.get() {
                        0 => 9,
                        n => n,
                    })]
                        .to_owned(),
                ),
                description: Some("d".into()),
                created_at: None,
                expires_at: None,
                revoked_at: revoked.then_some(revoked_at).flatten(),
                created_by: None,
            })
            .collect())
    }
}

fn vault_with(store: MemoryStore) -> (tempfile::TempDir, Vault) {
    let dir = tempfile::tempdir().unwrap();
    let paths = Paths::under(dir.path().to_owned());
    let opts = Options {
        non_interactive: true,
        influxctl_config: Some(dir.path().join("influxctl.toml")),
    };
    let settings = Settings { auto_rotate: true, ..Settings::default() };
    (dir, Vault::with_stores(paths, settings, opts, vec![Box::new(store)]))
}

/// A vault holding `old` (id `id-old`) that expires in `left`.
fn setup(left: SignedDuration) -> (tempfile::TempDir, Vault, Script) {
    let mut e = Entry::new("prod", Token::new("M.V1.test-old".into()).unwrap(), Origin::Stored);
    e.token_id = Some("id-old".into());
    e.expires_at = Some(Timestamp::now() + left);
    let store = MemoryStore::new();
    store.set(&e).unwrap();
    let script = Script::default();
    script.seed("id-old", "M.V1.test-old");
    let (dir, vault) = vault_with(store);
    (dir, vault, script)
}

fn plan(with_current_token: bool) -> Plan {
    Plan {
        ttl: Some(SignedDuration::from_hours(24)),
        keep_old: false,
        with_current_token,
        description: Some("d".into()),
        activation_timeout: std::time::Duration::ZERO,
    }
}

fn rotate(vault: &Vault, script: &Script, plan: &Plan) -> Result<rotate::Rotated> {
    let lock = vault.lock().unwrap();
    let old = vault.find("prod").unwrap();
    rotate_locked(vault, &vault.snapshot().unwrap(), script, old, plan, &lock)
}

fn stored(vault: &Vault) -> Entry {
    vault.find("prod").unwrap().entry
}

/// A memory store whose writes fail (`lose: false`) or are silently lost (`lose: true`).
struct BadWrites {
    inner: MemoryStore,
    lose: bool,
}

impl Store for BadWrites {
    fn kind(&self) -> StoreKind {
        StoreKind::Memory
    }
    fn probe(&self) -> Result<()> {
        self.inner.probe()
    }
    fn get(&self, profile: &str) -> Result<Option<Entry>> {
        self.inner.get(profile)
    }
    fn set(&self, _entry: &Entry) -> Result<bool> {
        if self.lose { Ok(true) } else { Err(Error::Other("disk full".into())) }
    }
    fn erase(&self, profile: &str) -> Result<bool> {
        self.inner.erase(profile)
    }
    fn list(&self) -> Result<Vec<EntryMeta>> {
        self.inner.list()
    }
}

/// [`setup`] over a [`BadWrites`] store.
fn setup_bad_writes(lose: bool) -> (tempfile::TempDir, Vault, Script) {
    let (dir, vault, script) = setup(SignedDuration::from_hours(48));
    let inner = MemoryStore::new();
    inner.set(&stored(&vault)).unwrap();
    let stores: Vec<Box<dyn Store>> = vec![Box::new(BadWrites { inner, lose })];
    let vault =
        Vault::with_stores(vault.paths.clone(), vault.settings.clone(), vault.opts.clone(), stores);
    (dir, vault, script)
}

#[test]
fn rotate_with_current_token_creates_stores_then_revokes_with_the_new_token() {
    let (_d, vault, script) = setup(SignedDuration::from_hours(48));
    let r = rotate(&vault, &script, &plan(true)).unwrap();
    assert_eq!(r.id.as_deref(), Some("id-2"));
    let e = stored(&vault);
    assert_eq!((e.token.expose(), e.origin), ("M.V1.test-new-2", Origin::Rotated));
    assert_eq!(e.token_id.as_deref(), Some("id-2"));
    assert_eq!(
        script.calls(),
        ["create token:id-old", "test token:id-2", "revoke id-old token:id-2"]
    );
}

#[test]
fn rotate_by_default_uses_oauth_and_keep_old_skips_revoke() {
    let (_d, vault, script) = setup(SignedDuration::from_hours(48));
    rotate(&vault, &script, &plan(false)).unwrap();
    assert_eq!(script.calls(), ["create oauth", "test token:id-2", "revoke id-old oauth"]);
    let keep = Plan { keep_old: true, ..plan(false) };
    rotate(&vault, &script, &keep).unwrap();
    assert_eq!(script.calls().len(), 5, "no second revoke: {:?}", script.calls());
}

#[test]
fn rotate_create_failure_leaves_the_old_token() {
    let (_d, vault, script) = setup(SignedDuration::from_hours(48));
    script.fail_create.set(true);
    let err = rotate(&vault, &script, &plan(true)).unwrap_err();
    assert_eq!(err.exit_code(), 8);
    assert!(err.to_string().contains("id-old is still stored"), "{err}");
    assert_eq!(stored(&vault).token.expose(), "M.V1.test-old");
}

#[test]
fn rotate_store_failure_leaves_the_old_token_and_names_the_new_id() {
    let (_d, vault, script) = setup_bad_writes(false);
    let err = rotate(&vault, &script, &plan(true)).unwrap_err();
    assert!(err.to_string().contains("created the token id-2 but it could not be stored"), "{err}");
    assert!(err.to_string().contains("management revoke --force -- id-2"), "{err}");
    assert_eq!(stored(&vault).token.expose(), "M.V1.test-old");
    assert_eq!(script.calls(), ["create token:id-old", "test token:id-2"], "nothing revoked");
}

#[test]
fn rotate_read_back_mismatch_revokes_nothing() {
    let (_d, vault, script) = setup_bad_writes(true);
    let err = rotate(&vault, &script, &plan(true)).unwrap_err();
    assert!(err.to_string().contains("did not give the new token back"), "{err}");
    assert!(err.to_string().contains("id-old was not revoked"), "{err}");
    assert_eq!(stored(&vault).token.expose(), "M.V1.test-old");
    assert_eq!(script.calls(), ["create token:id-old", "test token:id-2"]);
}

#[test]
fn rotate_new_token_that_never_works_keeps_the_old_one_unrevoked() {
    let (_d, vault, script) = setup(SignedDuration::from_hours(48));
    script.dead_new.set(true);
    let err = rotate(&vault, &script, &plan(true)).unwrap_err();
    assert_ne!(err.exit_code(), 0);
    let msg = err.to_string();
    assert!(msg.contains("id-old is still stored and was not revoked"), "{msg}");
    assert!(msg.contains("revoke --force -- id-2"), "{msg}");
    assert_eq!(stored(&vault).token.expose(), "M.V1.test-old");
    assert!(script.calls().iter().all(|c| !c.starts_with("revoke")), "{:?}", script.calls());
}

#[test]
fn rotate_keeps_description_and_lifetime_of_the_old_token() {
    let (_d, vault, script) = setup(SignedDuration::from_hours(48));
    let mut e = stored(&vault);
    e.description = Some("ci runner 7".into());
    e.created_at = Timestamp::now() - SignedDuration::from_hours(30 * 24);
    e.expires_at = Some(Timestamp::now() + SignedDuration::from_hours(24));
    vault.put(e, Some(StoreKind::Memory)).unwrap();
    let keep = Plan { ttl: None, description: None, ..plan(true) };
    rotate(&vault, &script, &keep).unwrap();
    let new = stored(&vault);
    assert_eq!(new.description.as_deref(), Some("ci runner 7"));
    let lifetime = new.expires_at.unwrap().duration_since(Timestamp::now());
    let days = lifetime.as_secs() / 86_400;
    assert_eq!(days, 30, "31 days of lifetime, less a moment: {lifetime:?}");
}

#[test]
fn rotate_refuses_a_stored_id_that_looks_like_a_flag() {
    let (_d, vault, script) = setup(SignedDuration::from_hours(48));
    let store = vault.store(StoreKind::Memory).unwrap();
    let mut e = stored(&vault);
    e.token_id = Some("--help".into());
    store.set(&e).unwrap();
    let err = rotate(&vault, &script, &plan(true)).unwrap_err();
    assert_ne!(err.exit_code(), 0);
    assert!(script.calls().is_empty(), "{:?}", script.calls());
}

#[test]
fn rotate_revoke_failure_keeps_the_new_token_and_names_the_old_one() {
    let (_d, vault, script) = setup(SignedDuration::from_hours(48));
    script.fail_revoke.set(true);
    let err = rotate(&vault, &script, &plan(true)).unwrap_err();
    assert_eq!(err.exit_code(), 8);
    assert!(err.to_string().contains("old token id-old was not revoked"), "{err}");
    assert_eq!(stored(&vault).token.expose(), "M.V1.test-new-2");
}

#[test]
fn rotate_without_old_token_id_stores_the_new_one_and_fails() {
    let (_d, vault, script) = setup(SignedDuration::from_hours(48));
    let mut e = stored(&vault);
    e.token_id = None;
    vault.put(e, Some(StoreKind::Memory)).unwrap();
    let err = rotate(&vault, &script, &plan(true)).unwrap_err();
    assert_ne!(err.exit_code(), 0);
    assert!(err.to_string().contains("has no token id"), "{err}");
    assert_eq!(stored(&vault).token.expose(), "M.V1.test-new-2");
    assert!(script.calls().iter().all(|c| !c.starts_with("revoke")));
}

#[test]
fn create_token_finds_the_id_of_the_older_form_in_the_list() {
    let script = Script::default();
    script.old_form.set(true);
    let at = Timestamp::now() + SignedDuration::from_hours(1);
    let c = create_token(&script, "p", &Cluster::default(), Auth::OAuth, "d", at).unwrap();
    assert_eq!(c.id.as_deref(), Some("id-1"));
    assert_eq!(script.calls(), ["create oauth", "list oauth"]);
}

#[test]
fn create_token_finds_the_id_when_influxctl_shows_a_longer_prefix_than_ours() {
    let script = Script::default();
    script.old_form.set(true);
    script.prefix_len.set(14);
    let at = Timestamp::now() + SignedDuration::from_hours(1);
    let c = create_token(&script, "p", &Cluster::default(), Auth::OAuth, "d", at).unwrap();
    assert_eq!(c.id.as_deref(), Some("id-1"));
}

#[test]
fn auto_rotate_is_single_flight_and_skips_fresh_tokens() {
    let (_d, vault, script) = setup(SignedDuration::from_hours(48));
    let seen = vault.find("prod").unwrap();
    auto_rotate_with(&vault, &vault.snapshot().unwrap(), &script, &seen, None).unwrap();
    assert_eq!(stored(&vault).token.expose(), "M.V1.test-new-2");
    // A second run that saw the old token finds it replaced, and creates nothing.
    auto_rotate_with(&vault, &vault.snapshot().unwrap(), &script, &seen, None).unwrap();
    let fresh = vault.find("prod").unwrap();
    auto_rotate_with(&vault, &vault.snapshot().unwrap(), &script, &fresh, None).unwrap();
    assert_eq!(script.calls().iter().filter(|c| c.starts_with("create")).count(), 1);
}

#[test]
fn auto_rotate_off_or_outside_renew_before_does_nothing() {
    let (_d, mut vault, _script) = setup(SignedDuration::from_hours(30 * 24));
    // Far from expiry: nothing to do, and no influxctl is needed.
    auto_rotate(&vault, &vault.snapshot().unwrap(), "prod", None).unwrap();
    vault.settings.auto_rotate = false;
    auto_rotate(
        &vault,
        &vault.snapshot().unwrap(),
        "prod",
        Some(SignedDuration::from_hours(60 * 24)),
    )
    .unwrap();
    assert_eq!(stored(&vault).token.expose(), "M.V1.test-old");
}

#[test]
fn expiry_checks_grade_each_entry() {
    let (_d, vault, _script) = setup(SignedDuration::from_hours(50));
    let checks = expiry_checks(&vault);
    assert_eq!(checks.len(), 1);
    assert_eq!(checks[0].status, Status::Warn);
    assert!(checks[0].detail.contains("expires in 2d"), "{}", checks[0].detail);
    let mut e = stored(&vault);
    e.expires_at = Some(Timestamp::now() - SignedDuration::from_secs(5));
    vault.put(e, Some(StoreKind::Memory)).unwrap();
    assert_eq!(expiry_checks(&vault)[0].status, Status::Fail);
}

#[test]
fn online_checks_report_revoked_missing_and_unlistable_tokens() {
    let (_d, vault, script) = setup(SignedDuration::from_hours(48));
    let online = |s: &Script| doctor::online_checks_with(&vault, &vault.snapshot().unwrap(), s);
    assert_eq!(online(&script)[0].status, Status::Ok);
    script.revoke("p", &Cluster::default(), Auth::OAuth, "id-old").unwrap();
    let c = &online(&script)[0];
    assert!(c.status == Status::Fail && c.detail.contains("revoked"), "{}", c.detail);
    script.tokens.borrow_mut().clear();
    let c = &online(&script)[0];
    assert!(c.detail.contains("no longer lists"), "{}", c.detail);
    script.fail_list.set(true);
    let c = &online(&script)[0];
    assert!(c.status == Status::Fail && c.detail.contains("could list"), "{}", c.detail);
}

#[test]
fn default_description_names_user_host_and_date() {
    let d = default_description("2026-03-04T05:06:07Z".parse().unwrap());
    assert!(d.starts_with("influxctl-cred ") && d.ends_with(" 2026-03-04"), "{d}");
    assert!(d.contains('@'));
}

#[test]
fn expiry_after_rounds_and_refuses_zero() {
    let now: Timestamp = "2026-01-01T00:00:00.75Z".parse().unwrap();
    let at = expiry_after(now, SignedDuration::from_hours(1)).unwrap();
    assert_eq!(at.to_string(), "2026-01-01T01:00:00Z");
    assert_eq!(expiry_after(now, SignedDuration::ZERO).unwrap_err().exit_code(), 2);
}

/// A vault holding `M.V1.test-old` without an id, as `import` leaves it.
fn setup_unidentified() -> (tempfile::TempDir, Vault, Script) {
    let (dir, vault, script) = setup(SignedDuration::from_hours(24 * 30));
    let mut e = stored(&vault);
    e.token_id = None;
    e.expires_at = None;
    e.origin = Origin::Imported;
    vault.store(StoreKind::Memory).unwrap().set(&e).unwrap();
    (dir, vault, script)
}

fn fill(vault: &Vault, script: &Script, oauth_fallback: bool) -> ids::Lookup {
    let at = ids::Target { profile: "prod", store: None };
    ids::fill_with(vault, &vault.snapshot().unwrap(), script, at, false, oauth_fallback).unwrap()
}

#[test]
fn fill_token_id_records_the_one_live_match_and_keeps_the_token() {
    let (_d, vault, script) = setup_unidentified();
    // A revoked token with the same prefix does not count.
    script.seed("id-gone", "M.V1.test-gone");
    script.revoke("prod", &Cluster::default(), Auth::OAuth, "id-gone").unwrap();
    let found = fill(&vault, &script, true);
    assert_eq!((found.outcome, found.token_id.as_deref()), ("found", Some("id-old")));
    let e = stored(&vault);
    assert_eq!(e.token_id.as_deref(), Some("id-old"));
    assert_eq!((e.token.expose(), e.origin), ("M.V1.test-old", Origin::Imported));
    assert_eq!(script.calls().last().map(String::as_str), Some("list token:id-old"));
    // Asked again: known, no second run.
    let again = fill(&vault, &script, false);
    assert_eq!(again.outcome, "known");
    assert_eq!(script.calls().iter().filter(|c| c.starts_with("list")).count(), 1);
}

#[test]
fn fill_token_id_with_several_or_no_match_leaves_the_id_empty() {
    let (_d, vault, script) = setup_unidentified();
    script.seed("id-other", "M.V1.test-other");
    let several = fill(&vault, &script, false);
    assert_eq!((several.outcome, several.token_id), ("ambiguous", None));
    assert!(several.hint.unwrap().contains("annotate -p prod --token-id"));
    // The stored token could list: no OAuth login was tried, even with a person at hand.
    assert_eq!(script.calls().last().map(String::as_str), Some("list token:id-old"));
    assert_eq!(stored(&vault).token_id, None);

    script.tokens.borrow_mut().clear();
    let none = fill(&vault, &script, false);
    assert_eq!((none.outcome, none.token_id), ("no-match", None));
    assert_eq!(stored(&vault).token_id, None);
}

#[test]
fn fill_token_id_failing_influxctl_is_an_outcome_not_an_error() {
    let (_d, vault, script) = setup_unidentified();
    script.fail_list.set(true);
    let failed = fill(&vault, &script, false);
    assert_eq!(failed.outcome, "failed");
    assert!(failed.hint.unwrap().contains("--lookup-id"));
    assert_eq!(stored(&vault).token.expose(), "M.V1.test-old");
}

#[test]
fn fill_token_id_tries_the_oauth_login_only_when_the_stored_token_cannot_list() {
    let (_d, vault, script) = setup_unidentified();
    script.fail_token_list.set(true);
    // Without a person at hand: no OAuth login; the hint names what works.
    let failed = fill(&vault, &script, false);
    assert_eq!(failed.outcome, "failed");
    let hint = failed.hint.unwrap();
    assert!(
        hint.contains("stored token could not list") && hint.contains("--token-id ID"),
        "{hint}"
    );
    assert!(!script.calls().iter().any(|c| c == "list oauth"), "{:?}", script.calls());
    // With one: the login lists after the token could not.
    let found = fill(&vault, &script, true);
    assert_eq!((found.outcome, found.token_id.as_deref()), ("found", Some("id-old")));
    let calls = script.calls();
    assert_eq!(calls[calls.len() - 2..], ["list token:id-old", "list oauth"]);
    // Neither works: the hint says to set the id by hand, not to run the same command again.
    script.fail_list.set(true);
    let at = ids::Target { profile: "prod", store: None };
    let snap = vault.snapshot().unwrap();
    let neither = ids::fill_with(&vault, &snap, &script, at, true, true).unwrap();
    let hint = neither.hint.unwrap();
    assert!(hint.contains("nor your OAuth login") && hint.contains("--token-id ID"), "{hint}");
    assert!(!hint.contains("--lookup-id"), "{hint}");
}

#[test]
fn matching_ignores_expired_records_and_bare_prefixes() {
    let token = Token::new("M.V1.abcdEFGH".into()).unwrap();
    let now = Timestamp::now();
    let rec = |id: &str, prefix: &str, expires: Option<Timestamp>| Listed {
        id: id.into(),
        account_id: None,
        token_prefix: Some(prefix.into()),
        description: None,
        created_at: None,
        expires_at: expires,
        revoked_at: None,
        created_by: None,
    };
    let listed = vec![
        rec("bare", "M.V1.", None),
        rec("expired", "M.V1.abcd", Some(now - SignedDuration::from_secs(1))),
        rec("other", "M.V1.abce", None),
        rec("live", "M.V1.abcd", Some(now + SignedDuration::from_hours(1))),
    ];
    let hits: Vec<&str> =
        ids::matching(&token, &listed, now).iter().map(|l| l.id.as_str()).collect();
    assert_eq!(hits, ["live"]);
}
