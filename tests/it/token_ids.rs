//! Token ids that look like flags (`--help`, `-rf`) are refused wherever an id enters (docs/spec.md §8):
//! `store --token-id`, the helper's `store`, `management create` / `list` output, and an id
//! already in the store (planted) is never passed to `erase --revoke` or `rotate`. A token id
//! of `--help` once made `erase --revoke` report "revoked" while the token stayed live.

#![cfg(unix)]

use crate::lifecycle::Setup;
use crate::util::{TOKEN, TestEnv, text};

const BAD: [&str; 2] = ["--help", "-rf"];

#[test]
fn store_token_id_like_a_flag_is_refused_and_nothing_is_stored() {
    let env = TestEnv::new();
    for bad in BAD {
        let out = env
            .cmd()
            .args(["--store", "file", "store", "-p", "prod"])
            .arg(format!("--token-id={bad}"))
            .write_stdin(format!("{TOKEN}\n"))
            .output()
            .unwrap();
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{bad}: {stderr}");
        assert!(stderr.contains("token id"), "{bad}: {stderr}");
        assert!(!stderr.contains(TOKEN) && !text(&out.stdout).contains(TOKEN));
        let get = env.cmd().args(["get", "-p", "prod"]).output().unwrap();
        assert_eq!(get.status.code(), Some(3), "{bad}: something was stored");
    }
    // The id as a separate word is not taken as a value, let alone stored.
    let out = env
        .cmd()
        .args(["--store", "file", "store", "-p", "prod", "--token-id", "-rf"])
        .write_stdin(format!("{TOKEN}\n"))
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(env.cmd().args(["get", "-p", "prod"]).output().unwrap().status.code(), Some(3));
    assert!(env.files_containing(TOKEN).is_empty());
}

#[test]
fn helper_store_token_id_like_a_flag_is_refused_and_nothing_is_stored() {
    let env = TestEnv::new();
    let lines: String = BAD
        .iter()
        .enumerate()
        .map(|(i, bad)| {
            format!(
                "{{\"v\":1,\"id\":{i},\"kind\":\"store\",\"profile\":\"prod\",\"token\":\"{TOKEN}\",\"token_id\":\"{bad}\",\"store\":\"file\"}}\n"
            )
        })
        .collect();
    let out = env.cmd().arg("helper").write_stdin(lines).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let answers: Vec<serde_json::Value> =
        text(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(answers.len(), BAD.len(), "{}", text(&out.stdout));
    for a in &answers {
        assert!(a.get("ok").is_none(), "stored: {a}");
        assert!(a["error"].to_string().contains("token id"), "{a}");
    }
    assert!(!text(&out.stderr).contains(TOKEN) && !text(&out.stdout).contains(TOKEN));
    assert_eq!(env.cmd().args(["get", "-p", "prod"]).output().unwrap().status.code(), Some(3));
    assert!(env.files_containing(TOKEN).is_empty());
}

/// `management create` printing a flag-like id: refused, nothing stored. Printing no id, with
/// `management list` then naming a flag-like one: the id is not taken.
#[test]
fn create_output_with_a_flag_like_id_is_refused() {
    let s = Setup::new();
    for bad in BAD {
        let r = s.run(
            &["create", "-p", "prod", "--ttl", "30d"],
            &[("FAKE_INFLUXCTL_OAUTH", "1"), ("FAKE_INFLUXCTL_ID", bad)],
        );
        assert_eq!(r.code, 8, "{bad}: {}", r.stderr);
        assert!(r.stderr.contains("not a plain id") && r.stderr.contains("nothing was stored"));
        assert_eq!(s.stored("prod"), Err(3), "{bad}: stored");
    }
    let r = s.run(
        &["create", "-p", "prod", "--ttl", "30d"],
        &[
            ("FAKE_INFLUXCTL_OAUTH", "1"),
            ("FAKE_INFLUXCTL_ID", "-rf"),
            ("FAKE_INFLUXCTL_FORM", "old"),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("token_id: unknown"), "{}", r.stdout);
    let json = s.cmd(&[]).args(["get", "-p", "prod", "--format", "json"]).output().unwrap();
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert!(json["token_id"].is_null(), "a flag-like id from `management list` was kept: {json}");
    assert_eq!(s.calls("list").len(), 1, "the id was not looked up");
}

/// An id planted in the store (an older version, a hand-edited file): `erase --revoke` and
/// `rotate` refuse before running influxctl; the entry stays, the token stays valid.
#[test]
fn planted_flag_like_id_is_never_passed_to_revoke() {
    let s = Setup::new();
    let id = s.create("prod", "30d");
    let secret = s.secret_of(&id);
    for bad in BAD {
        crate::planted::edit(&s.env, "prod", |e| e["token_id"] = bad.into());
        let erase = s.run(&["erase", "-p", "prod", "--revoke"], &[]);
        assert_eq!(erase.code, 2, "{bad}: {}", erase.stderr);
        assert!(erase.stderr.contains("not a plain id"), "{}", erase.stderr);
        assert!(!erase.stderr.contains("revoked the"), "{}", erase.stderr);
        let rotate = s.run(&["rotate", "-p", "prod"], &[("FAKE_INFLUXCTL_OAUTH", "1")]);
        assert_ne!(rotate.code, 0, "{bad}: {}", rotate.stderr);
        assert!(rotate.stderr.contains("not a plain id"), "{}", rotate.stderr);
        assert_eq!(s.stored("prod"), Ok(secret.clone()), "{bad}: the entry is gone");
    }
    assert!(s.calls("revoke").is_empty(), "influxctl was asked to revoke");
    assert_eq!(s.calls("create").len(), 1, "rotate created a token");
    assert!(s.works(&id));
}
