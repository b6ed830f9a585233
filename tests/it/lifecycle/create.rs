//! `create`: both output forms, the device prompt passed on, failures that store nothing.

use super::{Setup, assert_config_private};

#[test]
fn create_table_form_stores_token_and_prints_only_id_and_expiry() {
    let s = Setup::new();
    let r = s.run(&["create", "-p", "prod", "--ttl", "30d"], &[("FAKE_INFLUXCTL_OAUTH", "1")]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let tokens = s.tokens();
    assert_eq!(tokens.len(), 1);
    let id = tokens[0]["id"].as_str().unwrap();
    assert!(r.stdout.contains(&format!("token_id: {id}\n")), "{}", r.stdout);
    let expires = r.stdout.lines().find_map(|l| l.strip_prefix("expires_at: ")).unwrap();
    let expires: jiff::Timestamp = expires.parse().unwrap();
    assert_eq!(Some(expires.as_second()), tokens[0]["expires_at"].as_i64());
    let left = expires.as_second() - jiff::Timestamp::now().as_second();
    assert!((29 * 86_400..=30 * 86_400).contains(&left), "{left}");
    assert!(r.stderr.contains("stored the new token of profile \"prod\" in the file store"));

    // Stored with its id, expiry, description and the profile's cluster.
    assert_eq!(s.stored("prod").unwrap(), tokens[0]["token"].as_str().unwrap());
    let json = s.cmd(&[]).args(["get", "-p", "prod", "--format", "json"]).output().unwrap();
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(json["token_id"], id);
    assert_eq!(json["origin"], "created");
    assert_eq!(json["cluster"]["cluster_id"], "clu-1");
    let description = json["description"].as_str().unwrap();
    assert!(description.starts_with("influxctl-cred ") && description.contains('@'));
    assert_eq!(tokens[0]["description"], description);

    // influxctl used the OAuth login, through a private derived config that is gone now.
    let call = &s.calls("create")[0];
    assert_eq!(call["auth"], "oauth:fake-user");
    assert_config_private(call);
    assert!(s.leftovers().is_empty(), "{:?}", s.leftovers());
    let token = tokens[0]["token"].as_str().unwrap();
    assert!(s.env.files_containing(token).iter().all(|p| !p.starts_with(s.run_dir())));
}

#[test]
fn create_parses_the_older_form_and_warnings_on_stderr() {
    let s = Setup::new();
    let old = [("FAKE_INFLUXCTL_OAUTH", "1"), ("FAKE_INFLUXCTL_FORM", "old")];
    let r = s.run(&["create", "-p", "prod", "--description", "older form"], &old);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let t = &s.tokens()[0];
    // The id comes from `management list` (matched by prefix and description).
    assert!(r.stdout.contains(&format!("token_id: {}", t["id"].as_str().unwrap())));
    assert_eq!(s.stored("prod").unwrap(), t["token"].as_str().unwrap());
    assert!(r.stderr.contains("only time"), "the warnings are passed on: {}", r.stderr);

    let quiet = [("FAKE_INFLUXCTL_OAUTH", "1"), ("FAKE_INFLUXCTL_WARN_STDERR", "1")];
    let r = s.run(&["create", "-p", "stage", "--description", "stderr warnings"], &quiet);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let t = s.tokens().into_iter().find(|t| t["description"] == "stderr warnings").unwrap();
    assert_eq!(s.stored("stage").unwrap(), t["token"].as_str().unwrap());
}

#[test]
fn create_passes_a_device_prompt_printed_on_stdout_to_stderr() {
    let s = Setup::new();
    let r = s.run(&["create", "-p", "prod"], &[("FAKE_INFLUXCTL_OAUTH", "device")]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("enter WDJB-MJHT"), "{}", r.stderr);
    assert!(!r.stdout.contains("WDJB"), "stdout is ours: {}", r.stdout);
}

#[test]
fn create_failure_or_garbage_is_influxctl_failed_and_stores_nothing() {
    let s = Setup::new();
    let cases: [(&[(&str, &str)], &str); 4] = [
        (
            &[("FAKE_INFLUXCTL_OAUTH", "1"), ("FAKE_INFLUXCTL_FAIL", "create:3")],
            "exited with status 3",
        ),
        (
            &[("FAKE_INFLUXCTL_OAUTH", "1"), ("FAKE_INFLUXCTL_GARBAGE", "create")],
            "unexpected output",
        ),
        (&[("FAKE_INFLUXCTL_OAUTH", "1"), ("FAKE_INFLUXCTL_GARBAGE", "create:2")], "status 2"),
        (&[], "exited with status 1"),
    ];
    for (env, says) in cases {
        let r = s.run(&["create", "-p", "prod"], env);
        assert_eq!(r.code, 8, "{env:?}: {}", r.stderr);
        assert!(r.stderr.contains("kind: influxctl-failed"), "{}", r.stderr);
        assert!(r.stderr.contains(says), "{env:?}: {}", r.stderr);
        assert_eq!(s.stored("prod"), Err(3), "nothing stored after {env:?}");
        assert!(s.leftovers().is_empty());
    }
    assert!(s.tokens().is_empty());
    let store = std::fs::read_dir(s.env.store_dir()).map(|d| d.count()).unwrap_or(0);
    assert!(store <= 1, "only the lock file may exist in the store folder");
}

#[test]
fn create_refuses_to_replace_a_stored_token_and_bad_input() {
    let s = Setup::new();
    let id = s.create("prod", "30d");
    let r = s.run(&["create", "-p", "prod"], &[("FAKE_INFLUXCTL_OAUTH", "1")]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("rotate -p prod") && r.stderr.contains(&id), "{}", r.stderr);
    let oauth = [("FAKE_INFLUXCTL_OAUTH", "1")];
    for args in [
        &["create", "-p", "stage", "--description", " "][..],
        &["create", "-p", "stage", "--expires-at", "2001-01-01T00:00:00Z"],
        &["create", "-p", "stage", "--ttl", "1d", "--expires-at", "2099-01-01T00:00:00Z"],
        &["create", "-p", "nowhere"],
    ] {
        assert_eq!(s.run(args, &oauth).code, 2, "{args:?}");
    }
    assert_eq!(s.tokens().len(), 1, "no token was created for refused input");
}

/// Two `create` runs for one profile at once: the second waits for the store lock, sees the
/// entry the first stored and refuses (use `rotate`) before asking influxctl for anything, so
/// exactly one token exists on the server and it is the stored one: none is created and lost.
#[test]
fn create_twice_in_parallel_stores_one_token_and_orphans_none() {
    let s = Setup::new();
    let oauth = [("FAKE_INFLUXCTL_OAUTH", "1")];
    let runs: Vec<_> = std::thread::scope(|scope| {
        let a = scope.spawn(|| s.run(&["create", "-p", "prod", "--ttl", "30d"], &oauth));
        let b = scope.spawn(|| s.run(&["create", "-p", "prod", "--ttl", "30d"], &oauth));
        vec![a.join().unwrap(), b.join().unwrap()]
    });
    let codes: Vec<i32> = runs.iter().map(|r| r.code).collect();
    assert_eq!(codes.iter().filter(|c| **c == 0).count(), 1, "{codes:?}: {runs:?}");
    let refused = runs.iter().find(|r| r.code != 0).unwrap();
    assert!(refused.stderr.contains("rotate"), "{}", refused.stderr);
    let tokens = s.tokens();
    assert_eq!(tokens.len(), 1, "a token was created and lost: {tokens:?}");
    assert_eq!(s.stored("prod").unwrap(), tokens[0]["token"].as_str().unwrap());
}
