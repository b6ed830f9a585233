use std::path::PathBuf;

use super::*;

fn outer(dir: &std::path::Path) -> Outer {
    let source = dir.join("config.toml");
    std::fs::write(&source, "").unwrap();
    Outer {
        config: dir.join("derived"),
        real: None,
        source,
        profile: "prod".into(),
        derived: Derivation {
            store: "file".into(),
            expires: Some(1_000_000 + 23 * 3600),
            inject: "memfd".into(),
            database_token: String::new(),
            binding: Some(crate::exec::shim::Bound {
                account_id: Some("acc-1".into()),
                cluster_id: None,
            }),
        },
    }
}

fn opts() -> ExecOptions {
    ExecOptions {
        program: "influxctl".into(),
        args: Vec::new(),
        profile_flag: None,
        influxctl_config: None,
        inject: None,
        min_ttl: None,
        store: None,
        allow_missing: false,
        non_interactive: true,
        database_token: None,
        database_token_ttl: SignedDuration::from_hours(1),
    }
}

fn verdict(o: &Outer, opts: &ExecOptions) -> std::result::Result<(), String> {
    let now = Timestamp::from_second(1_000_000).unwrap();
    check_at(o, opts, now).map_err(|e| e.to_string())
}

#[test]
fn nothing_asked_or_the_same_passes() {
    let dir = tempfile::tempdir().unwrap();
    let o = outer(dir.path());
    assert_eq!(verdict(&o, &opts()), Ok(()));
    let same = ExecOptions {
        profile_flag: Some("prod".into()),
        store: Some(crate::settings::StoreKind::File),
        influxctl_config: Some(o.source.clone()),
        inject: Some(Inject::Memfd),
        min_ttl: Some(SignedDuration::from_hours(22)),
        ..opts()
    };
    assert_eq!(verdict(&o, &same), Ok(()));
}

#[test]
fn each_flag_that_asks_for_more_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let o = outer(dir.path());
    let cases = [
        (ExecOptions { profile_flag: Some("staging".into()), ..opts() }, "-p \"staging\""),
        (ExecOptions { store: Some(crate::settings::StoreKind::Env), ..opts() }, "--store env"),
        (
            ExecOptions { influxctl_config: Some(PathBuf::from("/elsewhere.toml")), ..opts() },
            "--influxctl-config",
        ),
        (ExecOptions { inject: Some(Inject::File), ..opts() }, "--inject file"),
        (ExecOptions { min_ttl: Some(SignedDuration::from_hours(24 * 30)), ..opts() }, "23h"),
    ];
    for (asked, needle) in cases {
        let e = verdict(&o, &asked).unwrap_err();
        assert!(e.contains(needle) && e.contains("inside another exec"), "{needle}: {e}");
    }
}

#[test]
fn database_token_must_be_the_outer_one() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = outer(dir.path());
    let spec: crate::api::DatabaseTokenSpec = "read=db".parse().unwrap();
    let asked = ExecOptions { database_token: Some(spec), ..opts() };
    assert!(verdict(&o, &asked).unwrap_err().contains("none"));
    o.derived.database_token = database_token_mark(&asked);
    assert_eq!(verdict(&o, &asked), Ok(()));
    // Asking for none inside a run that has one: nothing else asked.
    assert_eq!(verdict(&o, &opts()), Ok(()));
}

#[test]
fn a_token_that_never_expires_meets_any_min_ttl() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = outer(dir.path());
    o.derived.expires = None;
    let asked = ExecOptions { min_ttl: Some(SignedDuration::from_hours(24 * 365)), ..opts() };
    assert_eq!(verdict(&o, &asked), Ok(()));
}

fn call(
    o: &Outer,
    args: &[&str],
    env: Option<&str>,
) -> std::result::Result<Option<String>, String> {
    let args: Vec<std::ffi::OsString> = args.iter().map(Into::into).collect();
    let parsed = InfluxArgs::parse(&args).unwrap();
    check_call_with(o, &parsed, env.map(str::to_owned)).map_err(|e| e.to_string())
}

#[test]
fn a_call_names_the_outer_profile_or_none() {
    let dir = tempfile::tempdir().unwrap();
    let o = outer(dir.path());
    assert_eq!(call(&o, &["database", "list"], None), Ok(Some("prod".into())));
    assert_eq!(call(&o, &["--profile", "prod", "database", "list"], None), Ok(None));
    assert_eq!(call(&o, &["database", "list"], Some("prod")), Ok(None));
    let err = call(&o, &["--profile=staging", "database", "list"], Some("prod")).unwrap_err();
    assert!(err.contains("--profile names profile \"staging\""), "{err}");
    let err = call(&o, &["database", "list"], Some("default")).unwrap_err();
    assert!(err.contains("$INFLUXCTL_PROFILE names profile \"default\""), "{err}");
}

#[test]
fn a_call_names_only_the_bound_account_and_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = outer(dir.path());
    assert!(call(&o, &["--account", "acc-1", "database", "list"], None).is_ok());
    for args in [&["--account=evil", "database", "list"][..], &["-cluster", "clu-9", "database"]] {
        let err = call(&o, args, None).unwrap_err();
        assert!(err.contains("evil") || err.contains("clu-9"), "{args:?}: {err}");
    }
    // Bound to no cluster (an env token): nothing to check, as at top level.
    o.derived.binding = None;
    assert!(call(&o, &["--account=evil", "database", "list"], None).is_ok());
}
