//! `rotate` and `erase --revoke`: the order of the steps, how each authenticates, and a
//! working token in the store after a failure at any step.

use super::{Setup, assert_config_private};

const OAUTH: (&str, &str) = ("FAKE_INFLUXCTL_OAUTH", "1");

#[test]
fn rotate_with_oauth_stores_the_new_token_then_revokes_the_old_one() {
    let s = Setup::new();
    let old = s.create("prod", "30d");
    let r = s.run(&["rotate", "-p", "prod", "--ttl", "10d"], &[OAUTH]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let new = s.stored_id("prod").unwrap();
    assert_ne!(new, old);
    assert!(r.stdout.contains(&format!("token_id: {new}")), "{}", r.stdout);
    for step in [
        "1/5 created the token",
        "2/5 the new token",
        "3/5 stored it in the file store",
        "4/5 read it back",
    ] {
        assert!(r.stderr.contains(step), "{step}: {}", r.stderr);
    }
    assert!(r.stderr.contains(&format!("5/5 revoked the old token {old}")), "{}", r.stderr);
    assert!(!s.works(&old) && s.works(&new));
    assert_eq!(s.calls("revoke")[0]["auth"], "oauth:fake-user");
    let json = s.cmd(&[]).args(["get", "-p", "prod", "--format", "json"]).output().unwrap();
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(
        (json["origin"].as_str(), json["token_id"].as_str()),
        (Some("rotated"), Some(&*new))
    );
    assert!(s.leftovers().is_empty());
}

#[test]
fn rotate_with_current_token_needs_no_login_and_revokes_with_the_new_token() {
    let s = Setup::new();
    let old = s.create("prod", "30d");
    let r = s.run(&["rotate", "-p", "prod", "--with-current-token"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let new = s.stored_id("prod").unwrap();
    assert_eq!(s.calls("create")[1]["auth"], format!("token:{old}"));
    assert_eq!(s.calls("revoke")[0]["auth"], format!("token:{new}"));
    assert!(!s.works(&old) && s.works(&new));
    // The tokens were in a derived config only while influxctl ran: on disk now, only in the
    // stand-in's own server state.
    assert!(s.leftovers().is_empty());
    for id in [&old, &new] {
        assert_eq!(s.env.files_containing(&s.secret_of(id)), [s.state_path()]);
    }
    let call = &s.calls("create")[1];
    assert_config_private(call);
}

#[test]
fn rotate_keep_old_leaves_the_old_token_valid() {
    let s = Setup::new();
    let old = s.create("prod", "30d");
    let r = s.run(&["rotate", "-p", "prod", "--keep-old"], &[OAUTH]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("kept the old token"), "{}", r.stderr);
    assert!(s.works(&old) && s.calls("revoke").is_empty());
}

#[test]
fn rotate_create_failure_leaves_the_old_token_stored_and_valid() {
    let s = Setup::new();
    let old = s.create("prod", "30d");
    let r = s.run(&["rotate", "-p", "prod"], &[OAUTH, ("FAKE_INFLUXCTL_FAIL", "create")]);
    assert_eq!(r.code, 8, "{}", r.stderr);
    assert!(r.stderr.contains(&format!("the old token {old} is still stored")), "{}", r.stderr);
    assert_eq!(s.stored_id("prod"), Some(old.clone()));
    assert!(s.works(&old));
    // Not logged in at all: the same.
    assert_eq!(s.run(&["rotate", "-p", "prod"], &[]).code, 8);
    assert_eq!(s.stored_id("prod"), Some(old));
}

#[test]
fn rotate_store_failure_leaves_the_old_token_and_names_the_new_one() {
    let s = Setup::new();
    let old = s.create("prod", "30d");
    // A recipient that cannot be parsed makes every write of the file store fail.
    s.settings("recipients = [\"not-a-recipient\"]");
    let r = s.run(&["rotate", "-p", "prod"], &[OAUTH]);
    assert_ne!(r.code, 0, "{}", r.stderr);
    let new = s.tokens().into_iter().find(|t| t["id"] != old.as_str()).unwrap();
    let new = new["id"].as_str().unwrap();
    assert!(r.stderr.contains(&format!("created the token {new} but it could not be stored")));
    assert!(r.stderr.contains(&format!("management revoke --force -- {new}")), "{}", r.stderr);
    assert_eq!(s.stored_id("prod"), Some(old.clone()));
    assert!(s.works(&old), "the old token was not revoked");
}

#[test]
fn rotate_revoke_failure_keeps_the_new_token_and_names_the_old_one() {
    let s = Setup::new();
    let old = s.create("prod", "30d");
    let r = s.run(&["rotate", "-p", "prod"], &[OAUTH, ("FAKE_INFLUXCTL_FAIL", "revoke:4")]);
    assert_eq!(r.code, 8, "{}", r.stderr);
    let new = s.stored_id("prod").unwrap();
    assert_ne!(new, old);
    assert!(s.works(&new) && s.works(&old));
    assert!(
        r.stderr.contains(&format!("the old token {old} was not revoked and is still valid")),
        "{}",
        r.stderr
    );
}

#[test]
fn rotate_without_token_id_stores_the_new_token_and_says_what_to_do() {
    let s = Setup::new();
    s.create("prod", "30d");
    let token = s.stored("prod").unwrap();
    s.run(&["erase", "-p", "prod"], &[]);
    s.store("prod", &token, &[]);
    let r = s.run(&["rotate", "-p", "prod"], &[OAUTH]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("has no token id") && r.stderr.contains("management list"));
    assert_ne!(s.stored("prod").unwrap(), token);
    assert!(s.calls("revoke").is_empty());
}

#[test]
fn rotate_without_an_entry_is_not_found() {
    let s = Setup::new();
    assert_eq!(s.run(&["rotate", "-p", "prod"], &[OAUTH]).code, 3);
    assert!(s.tokens().is_empty());
}

#[test]
fn erase_revoke_revokes_with_the_token_itself_then_erases() {
    let s = Setup::new();
    let id = s.create("prod", "30d");
    let r = s.run(&["erase", "-p", "prod", "--revoke"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!s.works(&id));
    assert_eq!(s.calls("revoke")[0]["auth"], format!("token:{id}"));
    assert_eq!(s.stored("prod"), Err(3));
    // Nothing stored: nothing to do.
    assert_eq!(s.run(&["erase", "-p", "prod", "--revoke"], &[]).code, 0);
}

#[test]
fn erase_revoke_failure_keeps_the_entry() {
    let s = Setup::new();
    let id = s.create("prod", "30d");
    let r = s.run(&["erase", "-p", "prod", "--revoke"], &[("FAKE_INFLUXCTL_FAIL", "revoke")]);
    assert_eq!(r.code, 8, "{}", r.stderr);
    assert!(r.stderr.contains("was not revoked and is still stored"), "{}", r.stderr);
    assert_eq!(s.stored_id("prod"), Some(id.clone()));
    assert!(s.works(&id));
    // An entry without a token id is refused before anything runs.
    let token = s.stored("prod").unwrap();
    s.run(&["erase", "-p", "prod"], &[]);
    s.store("prod", &token, &[]);
    let r = s.run(&["erase", "-p", "prod", "--revoke"], &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(s.stored("prod").is_ok());
}

/// A new token that never becomes active (the stand-in's server rejects it): rotate tests it
/// (`database list` with it, retried for the short `activation_timeout`), gives up with a
/// clear error naming both tokens, and leaves the old token stored and not revoked; the new
/// one is not stored, and no token reaches stderr.
#[test]
fn rotate_with_a_new_token_that_never_works_keeps_the_old_token_stored_and_unrevoked() {
    let s = Setup::with_settings("activation_timeout = \"1s\"");
    let old = s.create("prod", "30d");
    let old_secret = s.secret_of(&old);
    let r = s.run(&["rotate", "-p", "prod"], &[OAUTH, ("FAKE_INFLUXCTL_INACTIVE", "1")]);
    assert_eq!(r.code, 8, "{}", r.stderr);
    assert!(r.stderr.contains("influxctl-failed"), "{}", r.stderr);
    let new = s.tokens().into_iter().find(|t| t["id"] != old.as_str()).expect("a new token");
    let new = new["id"].as_str().unwrap().to_owned();
    assert!(
        r.stderr.contains(&format!("the new token {new} did not work within 1s"))
            && r.stderr
                .contains(&format!("the old token {old} is still stored and was not revoked"))
            && r.stderr.contains(&format!("management revoke --force -- {new}")),
        "{}",
        r.stderr
    );
    // The test really ran with the new token, and was refused each time.
    let tests = s.calls("database list");
    assert!(!tests.is_empty(), "rotate never tested the new token");
    for t in &tests {
        assert_eq!((&t["auth"], &t["accepted"]), (&format!("token:{new}").into(), &false.into()));
    }
    assert!(s.calls("revoke").is_empty(), "something was revoked");
    assert!(s.works(&old), "the old token was revoked");
    assert_eq!(s.stored("prod"), Ok(old_secret));
    assert!(s.leftovers().is_empty());
}
