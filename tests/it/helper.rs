//! `influxctl-cred helper` through the real binary: the token comes from the env store
//! (`INFLUXCTL_CRED_TOKEN_PROD`), so these tests need neither the keyring nor the file store,
//! except the round trip through `"store":"file"`.

use std::process::Output;

use serde_json::Value;

use crate::util::{TOKEN, TestEnv, text};

/// Runs `influxctl-cred [args] helper` with `input` on stdin and the prod token in the env.
fn helper(env: &TestEnv, args: &[&str], input: &str) -> Output {
    env.cmd()
        .env("INFLUXCTL_CRED_TOKEN_PROD", TOKEN)
        .args(args)
        .arg("helper")
        .write_stdin(input)
        .output()
        .expect("helper runs")
}

/// stdout as JSON lines; fails on anything that is not one.
fn answers(out: &Output) -> Vec<Value> {
    let stdout = text(&out.stdout);
    assert!(stdout.is_empty() || stdout.ends_with('\n'), "{stdout}");
    stdout.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect()
}

fn requests(lines: &[&str]) -> String {
    lines.iter().map(|l| format!("{l}\n")).collect()
}

#[test]
fn helper_hello_lists_the_env_store() {
    let env = TestEnv::new();
    let out = helper(&env, &[], &requests(&[r#"{"v":1,"id":"h","kind":"hello"}"#]));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let a = &answers(&out)[0];
    assert_eq!(a["id"], "h");
    assert_eq!(a["ok"]["versions"], serde_json::json!([1]));
    let stores = a["ok"]["stores"].as_array().expect("stores");
    assert!(stores.contains(&Value::from("env")), "{a}");
}

#[test]
fn helper_get_answers_the_env_token() {
    let env = TestEnv::new();
    let out = helper(&env, &[], &requests(&[r#"{"v":1,"id":1,"kind":"get","profile":"prod"}"#]));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let ok = &answers(&out)[0]["ok"];
    assert_eq!(ok["token"], TOKEN);
    assert_eq!(ok["store"], "env");
    assert_eq!(ok["cache"], "never");
}

#[test]
fn helper_stdout_has_exactly_one_line_per_request() {
    let env = TestEnv::new();
    let input = requests(&[
        r#"{"v":1,"id":1,"kind":"hello"}"#,
        "not json",
        r#"{"v":1,"id":3,"kind":"get","profile":"prod"}"#,
        "",
        r#"{"v":1,"id":4,"kind":"get"}"#,
        r#"{"v":2,"id":5,"kind":"get","profile":"prod"}"#,
        r#"{"v":1,"id":6,"kind":"rotate","profile":"prod"}"#,
        r#"{"v":1,"id":7,"kind":"list"}"#,
    ]);
    let out = helper(&env, &[], &input);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let a = answers(&out);
    assert_eq!(a.len(), 7, "{}", text(&out.stdout));
    let ids: Vec<Value> = a.iter().map(|x| x["id"].clone()).collect();
    assert_eq!(ids, [1.into(), Value::Null, 3.into(), 4.into(), 5.into(), 6.into(), 7.into()]);
    let kinds: Vec<&str> = a.iter().filter_map(|x| x["error"]["kind"].as_str()).collect();
    assert_eq!(
        kinds,
        ["invalid-request", "invalid-request", "unsupported-version", "operation-not-supported"]
    );
}

#[test]
fn helper_stderr_never_holds_the_token_even_verbose() {
    let env = TestEnv::new();
    let spaced = TOKEN.replacen("test", "te st", 1);
    let store_spaced =
        format!(r#"{{"v":1,"id":3,"kind":"store","profile":"x","token":"{spaced}"}}"#);
    let store_env =
        format!(r#"{{"v":1,"id":4,"kind":"store","profile":"x","token":"{TOKEN}","store":"env"}}"#);
    let input = requests(&[
        r#"{"v":1,"id":1,"kind":"get","profile":"prod"}"#,
        r#"{"v":1,"id":2,"kind":"list"}"#,
        &store_spaced,
        &store_env,
    ]);
    for args in [&[][..], &["-v"][..]] {
        let out = helper(&env, args, &input);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let stderr = text(&out.stderr);
        assert!(!stderr.contains(TOKEN) && !stderr.contains(&spaced), "{stderr}");
        let stdout = text(&out.stdout);
        assert_eq!(stdout.matches(TOKEN).count(), 1, "only the get answer holds it: {stdout}");
        assert!(!stdout.contains(&spaced), "{stdout}");
        if !args.is_empty() {
            assert!(stderr.contains("helper: get: ok"), "-v says what it did: {stderr}");
        }
    }
}

#[test]
fn helper_exits_zero_at_eof() {
    let env = TestEnv::new();
    let out = helper(&env, &[], "");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
    let out = helper(&env, &[], r#"{"v":1,"id":1,"kind":"hello"}"#);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(answers(&out).len(), 1, "a last line without newline is answered");
}

#[test]
fn helper_file_store_round_trip() {
    let env = TestEnv::new();
    let token = "M.V1.test-file-round-trip-42";
    let store = format!(
        r#"{{"v":1,"id":1,"kind":"store","profile":"staging","token":"{token}","token_id":"t-9","store":"file"}}"#
    );
    let input = requests(&[
        &store,
        r#"{"v":1,"id":2,"kind":"get","profile":"staging"}"#,
        r#"{"v":1,"id":3,"kind":"list"}"#,
        r#"{"v":1,"id":4,"kind":"erase","profile":"staging"}"#,
        r#"{"v":1,"id":5,"kind":"list"}"#,
    ]);
    let out = helper(&env, &[], &input);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let a = answers(&out);
    assert_eq!(a.len(), 5);
    assert_eq!(a[0]["ok"], serde_json::json!({"store": "file", "replaced": false}), "{}", a[0]);
    assert_eq!(a[1]["ok"]["token"], token, "{}", a[1]);
    assert_eq!(
        (a[1]["ok"]["store"].as_str(), a[1]["ok"]["cache"].as_str()),
        (Some("file"), Some("session"))
    );
    let rows = a[2]["ok"]["entries"].as_array().expect("entries");
    let row = rows.iter().find(|r| r["profile"] == "staging").expect("staging listed");
    assert_eq!((row["store"].as_str(), row["token_id"].as_str()), (Some("file"), Some("t-9")));
    assert!(!a[2].to_string().contains(token));
    assert_eq!(a[3]["ok"]["existed"], true);
    let rows = a[4]["ok"]["entries"].as_array().expect("entries after erase");
    assert!(!rows.iter().any(|r| r["profile"] == "staging"), "{}", a[4]);
    assert!(!text(&out.stderr).contains(token));
    assert!(env.files_containing(token).is_empty(), "no plaintext on disk");
}
