//! Drives [`serve`] over in-memory buffers with a vault of memory and env stores.

use std::cell::Cell;
use std::io::BufReader;
use std::rc::Rc;
use std::time::Duration;

use jiff::Timestamp;
use serde_json::json;

use super::*;
use crate::app::Options;
use crate::entry::EntryMeta;
use crate::paths::Paths;
use crate::settings::Settings;
use crate::store::Store;
use crate::store::env::EnvStore;
use crate::store::memory::MemoryStore;

const TOKEN: &str = "M.V1.test-helper-0123456789";

/// A memory store the test keeps a handle on: to make the next call fail, to make `get`
/// panic, and to see whether prompts were allowed when `get` ran.
#[derive(Clone, Default)]
struct Shared {
    mem: Rc<MemoryStore>,
    panic: Rc<Cell<bool>>,
    prompts_seen: Rc<Cell<Option<bool>>>,
}

impl Store for Shared {
    fn kind(&self) -> StoreKind {
        StoreKind::Memory
    }
    fn probe(&self) -> Result<()> {
        self.mem.probe()
    }
    fn get(&self, profile: &str) -> Result<Option<Entry>> {
        self.prompts_seen.set(Some(crate::ui::prompts_allowed()));
        assert!(!self.panic.get(), "test store told to panic");
        self.mem.get(profile)
    }
    fn set(&self, entry: &Entry) -> Result<bool> {
        self.mem.set(entry)
    }
    fn erase(&self, profile: &str) -> Result<bool> {
        self.mem.erase(profile)
    }
    fn list(&self) -> Result<Vec<EntryMeta>> {
        self.mem.list()
    }
}

fn vault(stores: Vec<Box<dyn Store>>) -> (tempfile::TempDir, Vault) {
    let dir = tempfile::tempdir().unwrap();
    let settings = Settings { lock_timeout: Duration::from_millis(50), ..Settings::default() };
    let opts = Options {
        non_interactive: true,
        influxctl_config: Some(dir.path().join("influxctl.toml")),
    };
    let v = Vault::with_stores(Paths::under(dir.path().to_owned()), settings, opts, stores);
    (dir, v)
}

fn memory() -> (tempfile::TempDir, Vault, Shared) {
    let mem = Shared::default();
    let (dir, v) = vault(vec![Box::new(mem.clone())]);
    (dir, v, mem)
}

fn env(vars: &[(&str, &str)]) -> EnvStore {
    EnvStore::from_vars(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())))
}

/// Runs a session; checks that the output is only newline-terminated JSON lines.
fn session_bytes(v: &Vault, input: &[u8]) -> (String, Vec<Value>) {
    let mut out = Vec::new();
    serve(v, input, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(text.is_empty() || text.ends_with('\n'), "{text}");
    let lines = text.lines().map(|l| serde_json::from_str(l).expect(l)).collect();
    (text, lines)
}

fn session(v: &Vault, input: &str) -> Vec<Value> {
    session_bytes(v, input.as_bytes()).1
}

/// The answer to one request line.
fn one(v: &Vault, line: &str) -> Value {
    let mut answers = session(v, &format!("{line}\n"));
    assert_eq!(answers.len(), 1, "{answers:?}");
    answers.remove(0)
}

fn error_kind(answer: &Value) -> &str {
    answer["error"]["kind"].as_str().unwrap_or_else(|| panic!("not an error: {answer}"))
}

fn store_line(id: u32, profile: &str, extra: &str) -> String {
    format!(r#"{{"v":1,"id":{id},"kind":"store","profile":"{profile}","token":"{TOKEN}"{extra}}}"#)
}

#[test]
fn hello_lists_usable_stores() {
    let (_d, v) = vault(vec![
        Box::new(env(&[("INFLUXCTL_CRED_TOKEN_PROD", TOKEN)])),
        Box::new(MemoryStore::unavailable()),
    ]);
    let a = one(&v, r#"{"v":1,"id":"h","kind":"hello"}"#);
    assert_eq!(a["v"], 1);
    assert_eq!(a["id"], "h");
    assert_eq!(a["ok"]["versions"], json!([1]));
    assert_eq!(a["ok"]["name"], "influxctl-cred");
    assert_eq!(a["ok"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(a["ok"]["kinds"], json!(["hello", "get", "store", "erase", "list"]));
    assert_eq!(a["ok"]["stores"], json!(["env"]));
}

#[test]
fn store_get_list_erase_round_trip() {
    let (_d, v, _mem) = memory();
    let answers = session(
        &v,
        &[
            store_line(1, "prod", r#","token_id":"t-1","description":"ci""#),
            store_line(2, "prod", ""),
            r#"{"v":1,"id":3,"kind":"get","profile":"prod"}"#.into(),
            r#"{"v":1,"id":4,"kind":"list"}"#.into(),
            r#"{"v":1,"id":5,"kind":"erase","profile":"prod"}"#.into(),
            r#"{"v":1,"id":6,"kind":"erase","profile":"prod"}"#.into(),
            r#"{"v":1,"id":7,"kind":"get","profile":"prod"}"#.into(),
        ]
        .join("\n"),
    );
    assert_eq!(answers.len(), 7);
    assert_eq!(answers[0]["ok"], json!({"store": "memory", "replaced": false}));
    assert_eq!(answers[1]["ok"], json!({"store": "memory", "replaced": true}));
    let got = &answers[2]["ok"];
    assert_eq!((got["token"].as_str(), got["store"].as_str()), (Some(TOKEN), Some("memory")));
    assert_eq!((got["token_id"].clone(), got["expires_at"].clone()), (Value::Null, Value::Null));
    assert_eq!(got["cache"], "session");
    let rows = answers[3]["ok"]["entries"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0]["profile"].as_str(), rows[0]["store"].as_str()),
        (Some("prod"), Some("memory"))
    );
    assert!(!answers[3].to_string().contains(TOKEN));
    assert_eq!(answers[4]["ok"], json!({"existed": true}));
    assert_eq!(answers[5]["ok"], json!({"existed": false}));
    assert_eq!(error_kind(&answers[6]), "not-found");
    assert!(answers[6]["error"]["hint"].as_str().unwrap().contains("store -p prod"));
    let ids: Vec<Value> = answers.iter().map(|a| a["id"].clone()).collect();
    assert_eq!(ids, (1..=7).map(Value::from).collect::<Vec<_>>());
}

#[test]
fn get_env_token_answers_cache_never() {
    let (_d, v) = vault(vec![Box::new(env(&[("INFLUXCTL_CRED_TOKEN_PROD", TOKEN)]))]);
    let a = one(&v, r#"{"v":1,"id":1,"kind":"get","profile":"prod"}"#);
    assert_eq!((a["ok"]["token"].as_str(), a["ok"]["store"].as_str()), (Some(TOKEN), Some("env")));
    assert_eq!(a["ok"]["cache"], "never");
}

#[test]
fn get_with_min_ttl_longer_than_left_is_expired() {
    let (_d, v, _mem) = memory();
    let at = Timestamp::now() + SignedDuration::from_hours(2);
    one(&v, &store_line(1, "prod", &format!(r#","expires_at":"{at}""#)));
    let a = one(&v, r#"{"v":1,"id":2,"kind":"get","profile":"prod","min_ttl_secs":3600}"#);
    assert_eq!(a["ok"]["cache"], "expires");
    assert_eq!(a["ok"]["expires_at"].as_str().map(|s| s.parse::<Timestamp>().unwrap()), Some(at));
    let a = one(&v, r#"{"v":1,"id":3,"kind":"get","profile":"prod","min_ttl_secs":10800}"#);
    assert_eq!(error_kind(&a), "expired");
    assert!(!a.to_string().contains(TOKEN));
    let a = one(
        &v,
        r#"{"v":1,"id":4,"kind":"get","profile":"prod","min_ttl_secs":18446744073709551615}"#,
    );
    assert_eq!(error_kind(&a), "invalid-request");
}

#[test]
fn get_after_cluster_change_is_cluster_mismatch() {
    let (dir, v, _mem) = memory();
    let config = |cluster: &str| {
        let text = format!(
            "[[profile]]\nname = \"prod\"\nproduct = \"dedicated\"\naccount_id = \"a1\"\ncluster_id = \"{cluster}\"\n"
        );
        std::fs::write(dir.path().join("influxctl.toml"), text).unwrap();
    };
    config("c1");
    one(&v, &store_line(1, "prod", ""));
    let a = one(&v, r#"{"v":1,"id":2,"kind":"get","profile":"prod"}"#);
    assert_eq!(a["ok"]["cluster"]["cluster_id"], "c1");
    config("c2");
    let a = one(&v, r#"{"v":1,"id":3,"kind":"get","profile":"prod"}"#);
    assert_eq!(error_kind(&a), "cluster-mismatch");
    assert!(!a.to_string().contains(TOKEN));
}

#[test]
fn requests_on_unavailable_store_are_store_unavailable() {
    let (_d, mut v) = vault(vec![Box::new(MemoryStore::unavailable())]);
    // The profile's own store is unreachable (an unreachable store that is not the profile's
    // own only turns "absent" into not-found).
    v.settings.profiles.insert(
        "prod".into(),
        crate::settings::ProfileSettings { store: Some(crate::settings::StoreKind::Memory) },
    );
    let answers = session(
        &v,
        &format!(
            "{}\n{}\n",
            r#"{"v":1,"id":1,"kind":"get","profile":"prod"}"#,
            store_line(2, "prod", "")
        ),
    );
    assert_eq!(error_kind(&answers[0]), "store-unavailable");
    assert_eq!(error_kind(&answers[1]), "store-unavailable");
}

#[test]
fn store_failures_map_through_their_kind() {
    let (_d, v, mem) = memory();
    let cases = [
        (Error::Other("disk on fire".into()), "other"),
        (Error::InteractionRequired { what: "a passphrase".into() }, "interaction-required"),
        (Error::TooOpen { path: "/x/store/prod.age".into(), mode: 0o644 }, "store-unavailable"),
    ];
    for (err, kind) in cases {
        let hint = err.hint();
        mem.mem.fail_next(err);
        let a = one(&v, r#"{"v":1,"id":1,"kind":"get","profile":"prod"}"#);
        assert_eq!(error_kind(&a), kind);
        assert_eq!(a["error"]["hint"].as_str().map(str::to_owned), hint);
    }
}

#[test]
fn store_while_lock_held_is_locked() {
    let (_d, v, _mem) = memory();
    let held = v.lock().unwrap();
    let a = one(&v, &store_line(1, "prod", ""));
    assert_eq!(error_kind(&a), "locked");
    drop(held);
    assert_eq!(one(&v, &store_line(2, "prod", ""))["ok"]["replaced"], false);
}

#[test]
fn store_to_env_and_unknown_kind_are_operation_not_supported() {
    let (_d, v) = vault(vec![Box::new(env(&[])), Box::new(MemoryStore::new())]);
    let a = one(&v, &store_line(1, "prod", r#","store":"env""#));
    assert_eq!(error_kind(&a), "operation-not-supported");
    let a = one(&v, r#"{"v":1,"id":2,"kind":"rotate","profile":"prod"}"#);
    assert_eq!((error_kind(&a), a["id"].clone()), ("operation-not-supported", Value::from(2)));
}

#[test]
fn other_version_is_unsupported_version() {
    let (_d, v, _mem) = memory();
    let a = one(&v, r#"{"v":2,"id":"x","kind":"hello"}"#);
    assert_eq!((error_kind(&a), a["id"].as_str()), ("unsupported-version", Some("x")));
}

#[test]
fn bad_lines_are_invalid_request_and_session_goes_on() {
    let (_d, v, _mem) = memory();
    let long = format!(r#"{{"v":1,"id":1,"kind":"hello","pad":"{}"}}"#, "x".repeat(MAX_LINE));
    let input = [
        "not json",
        "[1,2]",
        long.as_str(),
        r#"{"v":1,"id":7,"kind":"get"}"#,
        r#"{"v":1,"id":8,"kind":"hello"}"#,
    ]
    .join("\n");
    let answers = session(&v, &input);
    assert_eq!(answers.len(), 5);
    for a in &answers[..4] {
        assert_eq!(error_kind(a), "invalid-request", "{a}");
    }
    let ids: Vec<Value> = answers.iter().map(|a| a["id"].clone()).collect();
    assert_eq!(ids, [Value::Null, Value::Null, Value::Null, Value::from(7), Value::from(8)]);
    assert_eq!(
        answers[2]["error"]["message"],
        "invalid request: the line is longer than 65536 bytes"
    );
    assert_eq!(answers[3]["error"]["message"], "invalid request: missing field `profile`");
    assert!(answers[4].get("ok").is_some());
}

#[test]
fn line_of_exactly_the_limit_is_read_and_one_more_byte_is_not() {
    let (_d, v, _mem) = memory();
    let head = r#"{"v":1,"id":1,"kind":"hello","pad":""#;
    let pad = |n: usize| format!("{head}{}\"}}", "x".repeat(n - head.len() - 2));
    assert_eq!(pad(MAX_LINE).len(), MAX_LINE);
    assert!(one(&v, &pad(MAX_LINE)).get("ok").is_some());
    assert_eq!(error_kind(&one(&v, &pad(MAX_LINE + 1))), "invalid-request");
}

#[test]
fn read_line_skips_a_huge_line_without_growing_its_buffer() {
    let mut input = "y".repeat(4 * MAX_LINE).into_bytes();
    input.extend_from_slice(b"\nnext\n");
    let mut reader = BufReader::with_capacity(7, input.as_slice());
    let mut line = Vec::with_capacity(MAX_LINE);
    assert_eq!(read_line(&mut reader, &mut line).unwrap(), Read::TooLong);
    assert_eq!((line.len(), line.capacity()), (0, MAX_LINE));
    assert_eq!(read_line(&mut reader, &mut line).unwrap(), Read::Line);
    assert_eq!(line, b"next");
    assert_eq!(line.capacity(), MAX_LINE);
    assert_eq!(read_line(&mut reader, &mut line).unwrap(), Read::Eof);
}

#[test]
fn small_chunks_give_the_same_answers() {
    let (_d, v, _mem) = memory();
    let input = format!(
        "{}\n\n{}\n",
        store_line(1, "prod", ""),
        r#"{"v":1,"id":2,"kind":"get","profile":"prod"}"#
    );
    let mut out = Vec::new();
    serve(&v, BufReader::with_capacity(3, input.as_bytes()), &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert_eq!(text.lines().count(), 2);
    assert!(text.contains(TOKEN));
}

#[test]
fn unknown_fields_and_any_id_type_are_fine() {
    let (_d, v, _mem) = memory();
    for id in [
        json!(null),
        json!(3.5),
        json!("s"),
        json!(false),
        json!([1, {"a": null}]),
        json!({"k": [2]}),
    ] {
        let line = json!({"v": 1, "id": id, "kind": "erase", "profile": "p", "future": {"x": 1}});
        let a = one(&v, &line.to_string());
        assert_eq!(a["id"], id);
        assert_eq!(a["ok"]["existed"], false);
    }
}

#[test]
fn output_is_one_line_per_request_and_blank_lines_get_none() {
    let (_d, v, _mem) = memory();
    let input = "\n{\"v\":1,\"id\":1,\"kind\":\"hello\"}\n   \n\t\r\n{\"v\":1,\"id\":2,\"kind\":\"list\"}\r\nnope\n\n";
    let (text, answers) = session_bytes(&v, input.as_bytes());
    assert_eq!(text.matches('\n').count(), 3);
    assert_eq!(
        answers.iter().map(|a| a["id"].clone()).collect::<Vec<_>>(),
        [json!(1), json!(2), json!(null)]
    );
}

#[test]
fn eof_ends_cleanly_and_a_last_line_without_newline_is_answered() {
    let (_d, v, _mem) = memory();
    assert!(session(&v, "").is_empty());
    let answers = session(&v, r#"{"v":1,"id":1,"kind":"hello"}"#);
    assert_eq!(answers.len(), 1);
}

#[test]
fn store_token_with_whitespace_is_refused_without_echo() {
    let (_d, v, _mem) = memory();
    let line = r#"{"v":1,"id":1,"kind":"store","profile":"prod","token":"M.V1.test SECRETPART"}"#;
    let (text, answers) = session_bytes(&v, format!("{line}\n").as_bytes());
    assert_eq!(error_kind(&answers[0]), "invalid-request");
    assert!(!text.contains("SECRETPART"), "{text}");
    assert_eq!(
        error_kind(&one(&v, r#"{"v":1,"id":2,"kind":"get","profile":"prod"}"#)),
        "not-found"
    );
}

#[test]
fn panic_in_a_store_answers_other_and_session_goes_on() {
    let (_d, v, mem) = memory();
    mem.panic.set(true);
    let answers = session(
        &v,
        "{\"v\":1,\"id\":1,\"kind\":\"get\",\"profile\":\"p\"}\n{\"v\":1,\"id\":2,\"kind\":\"list\"}\n",
    );
    assert_eq!(error_kind(&answers[0]), "other");
    assert_eq!(answers[0]["error"]["message"], "internal error while answering a get request");
    assert_eq!(answers[1]["ok"]["entries"], json!([]));
}

#[test]
fn get_prompts_only_when_asked_and_the_vault_is_interactive() {
    let cases = [(false, true, Some(true)), (false, false, Some(false)), (true, true, Some(false))];
    for (non_interactive, ask, allowed) in cases {
        let (_d, mut v, probe) = memory();
        v.opts.non_interactive = non_interactive;
        let line = format!(r#"{{"v":1,"id":1,"kind":"get","profile":"p","interactive":{ask}}}"#);
        assert_eq!(error_kind(&one(&v, &line)), "not-found");
        assert_eq!(probe.prompts_seen.get(), allowed, "{non_interactive} {ask}");
        assert!(crate::ui::prompts_allowed(), "restored after the request");
    }
}

#[test]
fn list_when_every_store_fails_is_an_error() {
    let (_d, v) = vault(vec![Box::new(env(&[])), Box::new(MemoryStore::unavailable())]);
    let a = one(&v, r#"{"v":1,"id":1,"kind":"list"}"#);
    assert_eq!(error_kind(&a), "store-unavailable");
}

#[test]
fn failing_output_ends_the_session_with_an_error() {
    struct Broken;
    impl Write for Broken {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::from(std::io::ErrorKind::BrokenPipe))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let (_d, v, _mem) = memory();
    let err = serve(&v, &b"{\"v\":1,\"id\":1,\"kind\":\"hello\"}\n"[..], Broken).unwrap_err();
    assert_eq!(err.kind(), crate::error::ErrorKind::Other);
}
