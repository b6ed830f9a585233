//! https with a private CA (`bao server -dev-tls`) and a namespace: the `ca` and `namespace`
//! settings and their `BAO_CACERT` / `BAO_NAMESPACE` overrides; an untrusted certificate is
//! refused (exit 5), never skipped. The token of `auth = "token"`: `BAO_TOKEN`, `VAULT_TOKEN`,
//! `~/.vault-token`.

use super::Machine;
use crate::openbao::Bao;
use crate::util::TOKEN;

#[test]
#[ignore = "needs OpenBao (bao)"]
fn https_with_a_private_ca_and_a_namespace_round_trips_and_an_unknown_ca_is_refused() {
    let bao = Bao::dev_tls();
    assert!(bao.addr.starts_with("https://127.0.0.1:"), "{}", bao.addr);
    bao.ok(&["namespace", "create", "team-a"]);
    bao.ok(&["secrets", "enable", "-namespace=team-a", "-path=secret", "-version=2", "kv"]);
    let ca = bao.ca();

    // ca and namespace in the settings.
    let vault = format!("ca = \"{}\"\nnamespace = \"team-a\"", ca.display());
    let m = Machine::with(std::slice::from_ref(&bao.addr), Some(&bao.root), "", &vault);
    let r = m.store("prod", TOKEN, &["--token-id", "tok-ns"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(m.get("prod").map_err(|r| r.stderr), Ok(TOKEN.to_owned()));
    let path = "secret/influxctl-cred/prod";
    let in_ns = bao.ok(&["kv", "get", "-namespace=team-a", "-field=token", path]);
    assert_eq!(in_ns.trim(), TOKEN, "the entry is in the namespace");
    assert!(
        !bao.cli(&["kv", "get", path]).status.success(),
        "the entry leaked into the root namespace"
    );

    // doctor and the helper's hello see the server through the namespace too.
    let r = m.run(&["doctor"]);
    let line = r.stdout.lines().chain(r.stderr.lines()).find(|l| l.contains("store vault"));
    let line = line.unwrap_or_else(|| panic!("no vault line in doctor: {}{}", r.stdout, r.stderr));
    assert!(line.contains("unsealed") && line.starts_with("ok"), "{line}");
    let r = m.run_in(&["helper"], Some("{\"v\":1,\"id\":1,\"kind\":\"hello\"}\n"), &[]);
    let hello: serde_json::Value = serde_json::from_str(r.stdout.trim()).unwrap();
    assert!(hello["ok"]["stores"].to_string().contains("vault"), "{hello}");

    // The same from the environment of the bao CLI.
    let plain = Machine::with(std::slice::from_ref(&bao.addr), Some(&bao.root), "", "");
    let ca_s = ca.to_str().unwrap();
    let r = plain.run_in(
        &["get", "-p", "prod"],
        None,
        &[("BAO_CACERT", ca_s), ("BAO_NAMESPACE", "team-a")],
    );
    assert_eq!((r.code, r.stdout.trim()), (0, TOKEN), "{}", r.stderr);
    // BAO_* win over VAULT_*.
    let r = plain.run_in(
        &["get", "-p", "prod"],
        None,
        &[("BAO_CACERT", ca_s), ("BAO_NAMESPACE", "team-a"), ("VAULT_NAMESPACE", "nowhere")],
    );
    assert_eq!((r.code, r.stdout.trim()), (0, TOKEN), "{}", r.stderr);

    // Without the CA the server's certificate is not trusted: refused, not skipped.
    let r = plain.run_in(&["get", "-p", "prod"], None, &[("BAO_NAMESPACE", "team-a")]);
    assert_eq!(r.code, 5, "{}", r.stderr);
    assert!(r.stdout.is_empty());
    assert!(r.stderr.to_lowercase().contains("certificate"), "says why: {}", r.stderr);
}

#[test]
#[ignore = "needs OpenBao (bao)"]
fn token_from_bao_token_then_vault_token_then_the_vault_token_file() {
    let bao = Bao::dev();
    let admin = Machine::new(&bao.addr, &bao.root);
    assert_eq!(admin.store("prod", TOKEN, &[]).code, 0);
    let m = Machine::with(std::slice::from_ref(&bao.addr), None, "", "");
    let bogus = "s.not-a-token-of-this-server";
    let get = |env: &[(&str, &str)]| m.run_in(&["get", "-p", "prod"], None, env);

    // BAO_TOKEN wins over VAULT_TOKEN…
    let r = get(&[("BAO_TOKEN", &bao.root), ("VAULT_TOKEN", bogus)]);
    assert_eq!((r.code, r.stdout.trim()), (0, TOKEN), "{}", r.stderr);
    // …VAULT_TOKEN is used without it…
    let r = get(&[("VAULT_TOKEN", &bao.root)]);
    assert_eq!((r.code, r.stdout.trim()), (0, TOKEN), "{}", r.stderr);
    // …and ~/.vault-token (as `bao login` leaves it, 0600) without either.
    let file = m.s.env.path().join("home/.vault-token");
    std::fs::write(&file, &bao.root).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let r = get(&[]);
    assert_eq!((r.code, r.stdout.trim()), (0, TOKEN), "{}", r.stderr);
    // A token the server does not know is a refusal, not "no entry".
    let r = get(&[("BAO_TOKEN", bogus)]);
    assert_eq!(r.code, 5, "{}", r.stderr);
    assert!(!r.stderr.contains(bogus), "the token was printed: {}", r.stderr);
}
