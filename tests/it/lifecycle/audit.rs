//! `create` and `rotate` each write one audit line (docs/spec.md §13) naming the new token's id, and
//! never a token.

use super::Setup;

#[test]
fn create_and_rotate_are_audited_without_the_token() {
    let s = Setup::new();
    let first = s.create("prod", "30d");
    let r = s.run(&["rotate", "-p", "prod", "--ttl", "10d"], &[("FAKE_INFLUXCTL_OAUTH", "1")]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let second = s.stored_id("prod").unwrap();
    let raw = std::fs::read_to_string(s.env.cred_home().join("audit.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> =
        raw.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    // `stored_id` reads through `get`, which is audited too: only create and rotate count here.
    let ours: Vec<_> =
        lines.iter().filter(|l| l["command"] == "create" || l["command"] == "rotate").collect();
    assert_eq!(ours.len(), 2, "{raw}");
    assert_eq!(ours[0]["command"], "create");
    assert_eq!(ours[0]["token_id"], first.as_str());
    assert_eq!(ours[1]["command"], "rotate");
    assert_eq!(ours[1]["token_id"], second.as_str());
    for l in &ours {
        assert_eq!(l["store"], "file");
        assert_eq!(l["profile"], "prod");
        assert!(l["cluster"].is_string(), "{l}");
    }
    for id in [&first, &second] {
        assert!(!raw.contains(&s.secret_of(id)), "a token in the audit log");
    }
}
