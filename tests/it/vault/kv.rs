//! Round trip, `bao kv` interop in both directions, and two writers at once (check-and-set).

use std::process::Stdio;

use serde_json::json;

use super::{Machine, stored_entry};
use crate::openbao::Bao;
use crate::util::TOKEN;

#[test]
#[ignore = "needs OpenBao (bao)"]
fn round_trip_store_get_list_erase_and_bao_kv_get_reads_the_entry() {
    let bao = Bao::dev();
    let m = Machine::new(&bao.addr, &bao.root);
    let r = m.store("prod", TOKEN, &["--token-id", "tok-1", "--description", "team token"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("vault"), "the store written is named: {}", r.stderr);
    assert_eq!(m.get("prod").map_err(|r| r.stderr), Ok(TOKEN.to_owned()));

    // The entry JSON of docs/spec.md §4 is the secret's data, readable by the bao CLI.
    let entry = stored_entry(&bao, "prod").expect("bao kv get reads our entry");
    assert_eq!(entry["token"], TOKEN);
    assert_eq!(entry["profile"], "prod");
    assert_eq!(entry["token_id"], "tok-1");
    assert_eq!(entry["description"], "team token");
    assert_eq!(entry["cluster"]["cluster_id"], "clu-1");
    // …and the token-less metadata is its custom_metadata.
    let meta = bao.json(&["kv", "metadata", "get", "-format=json", "secret/influxctl-cred/prod"]);
    let custom = &meta["data"]["custom_metadata"];
    assert!(custom.is_object(), "custom_metadata written: {meta}");
    assert!(!custom.to_string().contains(TOKEN), "the token is in custom_metadata: {custom}");
    assert!(custom.to_string().contains("tok-1"), "{custom}");

    let r = m.run(&["list", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let list: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let rows = list.as_array().cloned().or_else(|| list["entries"].as_array().cloned()).unwrap();
    let prod = rows.iter().find(|e| e["profile"] == "prod").expect("prod listed");
    assert_eq!(prod["store"], "vault");
    assert_eq!(prod["token_id"], "tok-1");

    // A second store replaces it (a new version, read first: cas), never a second secret.
    let second = "M.V1.test-second-0123456789abcdef";
    assert_eq!(m.store("prod", second, &[]).code, 0);
    assert_eq!(m.get("prod").ok().as_deref(), Some(second));
    assert_eq!(meta_version(&bao, "prod"), Some(2));

    let r = m.run(&["erase", "-p", "prod"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(stored_entry(&bao, "prod").is_none(), "erase left the secret");
    assert_eq!(m.get("prod").map_err(|r| r.code), Err(3));
    let r = m.run(&["erase", "-p", "prod"]);
    assert_eq!(r.code, 0, "erase is idempotent: {}", r.stderr);
}

/// The current version of the secret of `profile`, from its metadata.
fn meta_version(bao: &Bao, profile: &str) -> Option<u64> {
    let path = format!("secret/influxctl-cred/{profile}");
    let out = bao.cli(&["kv", "metadata", "get", "-format=json", &path]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    v["data"]["current_version"].as_u64()
}

#[test]
#[ignore = "needs OpenBao (bao)"]
fn secret_put_by_bao_kv_put_in_the_documented_shape_is_read() {
    let bao = Bao::dev();
    let entry = json!({
        "profile": "stage",
        "token": TOKEN,
        "token_id": "tok-by-hand",
        "description": "written with bao kv put",
        "created_at": "2026-12-01T00:00:00Z",
        "expires_at": null,
        "origin": "stored",
        "cluster": {"product": "dedicated", "account_id": "acc-1", "cluster_id": "clu-2",
                    "host": null, "port": null},
    });
    let file = bao.file("entry.json", &entry.to_string());
    bao.ok(&["kv", "put", "secret/influxctl-cred/stage", &format!("@{}", file.display())]);
    std::fs::remove_file(file).unwrap();

    let m = Machine::new(&bao.addr, &bao.root);
    assert_eq!(m.get("stage").map_err(|r| r.stderr), Ok(TOKEN.to_owned()));
    let r = m.run(&["get", "-p", "stage", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let got: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(got["token_id"], "tok-by-hand");
    assert_eq!(got["store"], "vault");
    // Put under another profile's path it is refused: it names another profile…
    let put = |entry: &serde_json::Value| {
        let file = bao.file("entry.json", &entry.to_string());
        bao.ok(&["kv", "put", "secret/influxctl-cred/prod", &format!("@{}", file.display())]);
        std::fs::remove_file(file).unwrap();
    };
    put(&entry);
    let r = m.get("prod").expect_err("the entry of another profile was served");
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("stage"), "{}", r.stderr);
    // …and renamed, it is bound to clu-2, not to prod's clu-1: cluster-mismatch.
    let mut renamed = entry.clone();
    renamed["profile"] = json!("prod");
    put(&renamed);
    let r = m.get("prod").expect_err("a token bound to another cluster was served");
    assert_eq!(r.code, 7, "cluster-mismatch: {}", r.stderr);
}

#[test]
#[ignore = "needs OpenBao (bao)"]
fn the_hand_made_entry_recipe_of_the_docs_reads_and_a_bad_token_file_is_named() {
    let bao = Bao::dev();
    let m = Machine::new(&bao.addr, &bao.root);
    // docs/vault.md's recipe, with a token file as an editor or `echo` writes it.
    let put = |token_file: &str| {
        let file = bao.file("token.txt", token_file);
        let at = format!("token=@{}", file.display());
        bao.ok(&[
            "kv",
            "put",
            "secret/influxctl-cred/prod",
            "profile=prod",
            &at,
            "origin=stored",
            "created_at=2026-12-01T00:00:00Z",
        ]);
        std::fs::remove_file(file).unwrap();
    };
    put(&format!("{TOKEN}\n"));
    assert_eq!(m.get("prod").map_err(|r| r.stderr), Ok(TOKEN.to_owned()));
    // A token with a space inside (a paste of two lines, say) is a typed error naming the
    // field and the fix, not a JSON position; the secret stays as it was.
    put("M.V1.test-two words-0123456789\n");
    let r = m.get("prod").expect_err("a token with a space inside was served");
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("field `token`") && r.stderr.contains("whitespace"), "{}", r.stderr);
    assert!(
        r.stderr.contains("bao kv patch secret/influxctl-cred/prod "),
        "says how to fix it, naming the secret: {}",
        r.stderr
    );
    assert!(!r.stderr.contains("column"), "{}", r.stderr);
    assert!(!r.stderr.contains("test-two"), "{}", r.stderr);
}

#[test]
#[ignore = "needs OpenBao (bao)"]
fn writers_on_eight_machines_at_once_never_overwrite_each_other_silently() {
    let bao = Bao::dev();
    let machines: Vec<Machine> = (0..8).map(|_| Machine::new(&bao.addr, &bao.root)).collect();
    let mut conflicts = 0;
    let mut versions = 0;
    for round in 0..10 {
        let tokens: Vec<String> =
            (0..8).map(|i| format!("M.V1.test-writer-{round}-{i}-0123456789abcdef")).collect();
        let children: Vec<_> = machines
            .iter()
            .zip(&tokens)
            .map(|(m, t)| {
                let mut child = m
                    .std_cmd(&[])
                    .args(["store", "-p", "prod"])
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap();
                (child.stdin.take().unwrap(), child, t)
            })
            .collect();
        // Every writer is started before any gets its token: they race for real.
        let children: Vec<_> = children
            .into_iter()
            .map(|(mut stdin, child, t)| {
                use std::io::Write;
                stdin.write_all(format!("{t}\n").as_bytes()).unwrap();
                drop(stdin);
                (child, t)
            })
            .collect();
        let mut won = Vec::new();
        for (child, t) in children {
            let out = child.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
            assert!(!stderr.contains("M.V1."), "a token on stderr: {stderr}");
            assert!(!stderr.contains(&bao.root), "the server token on stderr: {stderr}");
            match out.status.code() {
                Some(0) => won.push(t.clone()),
                Some(75) => {
                    conflicts += 1;
                    assert!(
                        stderr.contains("kind: locked") || stderr.contains("locked"),
                        "{stderr}"
                    );
                }
                code => panic!("a writer exited {code:?}: {stderr}"),
            }
        }
        assert!(!won.is_empty(), "round {round}: no writer won");
        versions += won.len() as u64;
        // Every write that said "ok" is a version of the secret (none was overwritten
        // unseen), and the entry now is one of them, whole.
        assert_eq!(meta_version(&bao, "prod"), Some(versions), "round {round}");
        let now = stored_entry(&bao, "prod").expect("entry");
        assert!(won.iter().any(|t| now["token"] == t.as_str()), "round {round}: {now}");
        assert_eq!(machines[0].get("prod").ok().as_deref(), now["token"].as_str());
        if conflicts > 0 && round >= 2 {
            break;
        }
    }
    assert!(conflicts > 0, "no writer ever lost a race: check-and-set is not in effect");
}

#[test]
#[ignore = "needs OpenBao (bao)"]
fn a_missing_mount_and_a_kv_version_1_mount_are_refused_naming_the_mount() {
    let bao = Bao::dev();
    // No such mount: not "no entry" (exit 3), but the store cannot be used as configured.
    let m =
        Machine::with(std::slice::from_ref(&bao.addr), Some(&bao.root), "", "mount = \"nosuch\"");
    let r = m.get("prod").expect_err("a missing mount served something");
    assert_eq!(r.code, 5, "{}", r.stderr);
    assert!(r.stderr.contains("nosuch"), "names the mount: {}", r.stderr);
    let r = m.store("prod", TOKEN, &[]);
    assert_eq!(r.code, 5, "{}", r.stderr);

    // A KV version 1 mount takes a write without check-and-set: refused, and said where the
    // entry went.
    bao.ok(&["secrets", "enable", "-path=kv1", "-version=1", "kv"]);
    let m = Machine::with(std::slice::from_ref(&bao.addr), Some(&bao.root), "", "mount = \"kv1\"");
    let r = m.store("prod", TOKEN, &[]);
    assert_ne!(r.code, 0, "a store into a KV version 1 mount said ok: {}", r.stderr);
    assert_eq!(r.code, 5, "{}", r.stderr);
    assert!(r.stderr.contains("kv1"), "names the mount: {}", r.stderr);
}

#[test]
#[ignore = "needs OpenBao (bao)"]
fn helper_stores_into_and_gets_from_the_vault_store() {
    let bao = Bao::dev();
    let m = Machine::new(&bao.addr, &bao.root);
    let requests = format!(
        "{{\"v\":1,\"id\":1,\"kind\":\"hello\"}}\n\
         {{\"v\":1,\"id\":2,\"kind\":\"store\",\"profile\":\"stage\",\"token\":\"{TOKEN}\",\"expires_at\":\"2099-01-01T00:00:00Z\",\"store\":\"vault\"}}\n\
         {{\"v\":1,\"id\":3,\"kind\":\"get\",\"profile\":\"stage\"}}\n"
    );
    let r = m.run_in(&["helper"], Some(&requests), &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines: Vec<serde_json::Value> =
        r.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 3, "{}", r.stdout);
    assert!(lines[0]["ok"]["stores"].to_string().contains("vault"), "{}", lines[0]);
    assert_eq!(lines[1]["ok"]["store"], "vault", "{}", lines[1]);
    assert_eq!(lines[2]["ok"]["token"], TOKEN, "{}", lines[2]);
    assert_eq!(lines[2]["ok"]["store"], "vault");
    // A shared token can be rotated or revoked elsewhere at any time, whatever its expiry.
    assert_eq!(lines[2]["ok"]["cache"], "never", "{}", lines[2]);
    assert_eq!(stored_entry(&bao, "stage").unwrap()["token"], TOKEN);
}
