use super::*;

fn echoed(chunks: &[&str]) -> (String, String) {
    let mut tee = Tee::to(Some(Vec::new()));
    for c in chunks {
        tee.feed(c.as_bytes());
    }
    tee.finish();
    let out = String::from_utf8(tee.out.take().unwrap()).unwrap();
    let kept = tee.into_text("x").unwrap().to_string();
    (out, kept)
}

#[test]
fn tee_withholds_the_token_line_and_keeps_everything() {
    let all = "| id | 1 |\nwarn copy it\nM.V1.test-secret-1\n";
    let (out, kept) = echoed(&[all]);
    assert_eq!(out, "| id | 1 |\nwarn copy it\n");
    assert_eq!(kept, all);
}

#[test]
fn tee_withholds_a_token_split_across_chunks() {
    for at in 1..30 {
        let all = "visit https://x/device\nM.V1.test-split-secret\nafter\n";
        let (out, kept) = echoed(&[&all[..at], &all[at..]]);
        assert!(!out.contains("test-split"), "split at {at}: {out:?}");
        assert!(!out.contains("M.V"), "split at {at}: {out:?}");
        assert_eq!(out, "visit https://x/device\nafter\n", "split at {at}");
        assert_eq!(kept, all);
    }
}

#[test]
fn tee_passes_a_prompt_without_newline_at_once() {
    let mut tee = Tee::to(Some(Vec::new()));
    tee.feed(b"Enter the code ABCD-EFGH: ");
    assert_eq!(tee.out.as_ref().unwrap().as_slice(), b"Enter the code ABCD-EFGH: ");
    // A mark in the middle of a line: what comes before it is shown, the rest is not.
    tee.feed(b"\ntoken: M.V1.test-inline\nM.V");
    tee.finish();
    let out = String::from_utf8(tee.out.take().unwrap()).unwrap();
    assert_eq!(out, "Enter the code ABCD-EFGH: \ntoken: \nM.V");
}

#[test]
fn derived_config_drops_plaintext_token_for_oauth_and_sets_ours_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("config.toml");
    let config =
        "[[profile]]\nname = \"prod\"\nproduct = \"dedicated\"\nmgmt_token = \"M.V1.test-plain\"\n";
    std::fs::write(&config_path, config).unwrap();
    let snap = Snapshot::read(Some(config_path.clone())).unwrap();
    let runner = Runner {
        program: "influxctl".into(),
        config_path,
        base: snap.config.as_deref().cloned(),
        stdin: false,
    };
    let oauth = runner.derived_text("prod", &Cluster::default(), Auth::OAuth).unwrap();
    assert!(!oauth.contains("mgmt_token") && oauth.contains("product"), "{}", *oauth);
    let ours = crate::secret::Token::new("M.V1.test-ours".into()).unwrap();
    let text = runner.derived_text("prod", &Cluster::default(), Auth::Token(&ours)).unwrap();
    assert!(text.contains("mgmt_token = \"M.V1.test-ours\"") && !text.contains("plain"));
    // A profile the config lacks is built from the binding; without one it is an error.
    let cluster = Cluster { product: Some("clustered".into()), ..Cluster::default() };
    assert!(runner.derived_text("other", &cluster, Auth::OAuth).unwrap().contains("other"));
    let err = runner.derived_text("other", &Cluster::default(), Auth::OAuth).unwrap_err();
    assert_eq!(err.exit_code(), 2);
}

#[test]
fn tee_overflow_is_influxctl_failed() {
    let mut tee: Tee<Vec<u8>> = Tee::to(None);
    let big = vec![b'x'; 64 * 1024];
    for _ in 0..20 {
        tee.feed(&big);
    }
    assert_eq!(tee.into_text("x").unwrap_err().exit_code(), 8);
}
