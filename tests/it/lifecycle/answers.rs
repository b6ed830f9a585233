//! `--format json` answers (issue #14 item 5): each command that changes something prints one
//! JSON object on stdout with the documented fields (docs/commands.md) and never a token; the
//! messages for people stay on stderr. `list` marks the row `get` would use.

use serde_json::{Value, json};

use super::{Run, Setup};
use crate::util::TOKEN;

const OAUTH: (&str, &str) = ("FAKE_INFLUXCTL_OAUTH", "1");

/// The one JSON object of `r`'s stdout; no token anywhere in what was printed.
fn answer(r: &Run) -> Value {
    assert_eq!(r.code, 0, "{}", r.stderr);
    for printed in [&r.stdout, &r.stderr] {
        assert!(!printed.contains(TOKEN), "the token was printed: {printed}");
    }
    assert_eq!(r.stdout.lines().count(), 1, "not one line: {}", r.stdout);
    let v: Value = serde_json::from_str(&r.stdout).expect("JSON on stdout");
    assert!(v.is_object(), "{v}");
    assert!(!v.to_string().contains("M.V1."), "{v}");
    v
}

fn store_json(s: &Setup, extra: &[&str]) -> Value {
    let mut c = s.cmd(&[]);
    c.args(["store", "-p", "prod", "--format", "json"])
        .args(extra)
        .write_stdin(format!("{TOKEN}\n"));
    let out = c.output().unwrap();
    let r = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: crate::util::text(&out.stdout),
        stderr: crate::util::text(&out.stderr),
    };
    answer(&r)
}

#[test]
fn store_and_erase_answer_in_json() {
    let s = Setup::new();
    let first = store_json(&s, &["--token-id", "id-1", "--description", "ci"]);
    assert_eq!(
        first,
        json!({"profile": "prod", "store": "file", "replaced": false, "token_id": "id-1",
               "description": "ci", "expires_at": null})
    );
    assert_eq!(store_json(&s, &[])["replaced"], true);
    let erased = answer(&s.run(&["erase", "-p", "prod", "--format", "json"], &[]));
    assert_eq!(
        erased,
        json!({"profile": "prod", "existed": true, "stores": ["file"], "revoked": null})
    );
    let again = answer(&s.run(&["erase", "-p", "prod", "--format", "json"], &[]));
    assert_eq!(again, json!({"profile": "prod", "existed": false, "stores": [], "revoked": null}));
}

#[test]
fn create_and_rotate_answer_in_json_without_the_token() {
    let s = Setup::new();
    let created =
        answer(&s.run(&["create", "-p", "prod", "--ttl", "30d", "--format", "json"], &[OAUTH]));
    let id = created["token_id"].as_str().unwrap().to_owned();
    assert!(s.works(&id));
    assert_eq!(
        (created["profile"].as_str(), created["store"].as_str()),
        (Some("prod"), Some("file"))
    );
    assert!(created["expires_at"].as_str().unwrap().parse::<jiff::Timestamp>().is_ok());
    s.assert_no_token_in(&created.to_string());
    let rotated =
        answer(&s.run(&["rotate", "-p", "prod", "--keep-old", "--format", "json"], &[OAUTH]));
    assert_eq!(
        (rotated["old_token_id"].as_str(), rotated["revoked_old"].as_bool()),
        (Some(id.as_str()), Some(false))
    );
    assert!(s.works(&id));
    s.assert_no_token_in(&rotated.to_string());
}

#[test]
fn rebind_answers_old_and_new_endpoint() {
    let s = Setup::new();
    s.store("prod", TOKEN, &[]);
    let same = answer(&s.run(&["rebind", "-p", "prod", "--format", "json"], &[]));
    assert_eq!(
        (same["changed"].as_bool(), same["cluster"]["cluster_id"].as_str()),
        (Some(false), Some("clu-1"))
    );
    let moved = super::CONFIG.replacen("clu-1", "clu-9", 1);
    s.env.write_influxctl_config(&moved);
    let r = answer(&s.run(&["rebind", "-p", "prod", "--yes", "--format", "json"], &[]));
    assert_eq!(r["changed"], true);
    assert_eq!(
        (r["previous"]["cluster_id"].as_str(), r["cluster"]["cluster_id"].as_str()),
        (Some("clu-1"), Some("clu-9"))
    );
}

#[test]
fn list_marks_the_row_get_would_use() {
    let s = Setup::new();
    s.store("prod", TOKEN, &[]);
    s.store("stage", TOKEN, &[]);
    let env = [("INFLUXCTL_CRED_TOKEN_PROD", "M.V1.test-from-the-environment")];
    let r = s.run(&["list", "--format", "json"], &env);
    let rows: Value = serde_json::from_str(&r.stdout).unwrap();
    let active = |profile: &str, store: &str| {
        rows.as_array()
            .unwrap()
            .iter()
            .find(|r| r["profile"] == profile && r["store"] == store)
            .map(|r| r["active"].clone())
    };
    assert_eq!(active("prod", "env"), Some(json!(true)));
    assert_eq!(active("prod", "file"), Some(json!(false)));
    assert_eq!(active("stage", "file"), Some(json!(true)));
    // get agrees.
    let got = s.run_get(&["get", "-p", "prod", "--format", "json"], &env);
    assert_eq!(serde_json::from_str::<Value>(&got.stdout).unwrap()["store"], "env");
    let table = s.run(&["list"], &env);
    let header = table.stdout.lines().next().unwrap();
    assert!(header.contains("ACTIVE"), "{header}");
    let prod_file =
        table.stdout.lines().find(|l| l.starts_with("prod ") && l.contains(" file ")).unwrap();
    assert!(prod_file.contains(" - "), "{prod_file}");
    assert!(!table.stdout.contains(TOKEN));
}
