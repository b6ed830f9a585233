//! What a policy or a login does not allow is refused with a typed error (exit 5) that names
//! what is missing, never with a token in it: a list-only token, a read-only token and AppRole
//! asked to write, a JWT of another subject.

use super::{Machine, stored_entry};
use crate::openbao::Bao;
use crate::openbao::jwt::{Signer, claims};
use crate::util::TOKEN;

/// The policies of docs/vault.md.
pub const LIST_ONLY: &str = r#"path "secret/metadata/influxctl-cred/*" {
  capabilities = ["read", "list"]
}"#;
pub const READER: &str = r#"path "secret/data/influxctl-cred/*" {
  capabilities = ["read"]
}
path "secret/metadata/influxctl-cred/*" {
  capabilities = ["read", "list"]
}"#;
pub const ROTATOR: &str = r#"path "secret/data/influxctl-cred/*" {
  capabilities = ["create", "read", "update"]
}
path "secret/metadata/influxctl-cred/*" {
  capabilities = ["create", "read", "update", "list", "delete"]
}"#;

/// A dev server with the three policies and prod stored (as root).
fn server_with_prod() -> Bao {
    let bao = Bao::dev();
    bao.policy("list-only", LIST_ONLY);
    bao.policy("reader", READER);
    bao.policy("rotator", ROTATOR);
    let admin = Machine::new(&bao.addr, &bao.root);
    let r = admin.store("prod", TOKEN, &["--token-id", "tok-1"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    bao
}

#[test]
#[ignore = "needs OpenBao (bao)"]
fn list_only_policy_lists_but_get_is_refused_naming_path_and_capability() {
    let bao = server_with_prod();
    let token = bao.token(&["list-only"]);
    let m = Machine::new(&bao.addr, &token);
    let r = m.run(&["list", "--format", "json"]);
    assert_eq!(r.code, 0, "list with metadata permission only: {}", r.stderr);
    assert!(r.stdout.contains("\"prod\"") && r.stdout.contains("tok-1"), "{}", r.stdout);

    let r = m.get("prod").expect_err("a list-only token read the token");
    assert_eq!(r.code, 5, "{}", r.stderr);
    assert!(r.stderr.contains("secret/data/influxctl-cred/prod"), "names the path: {}", r.stderr);
    assert!(r.stderr.contains("read"), "names the capability: {}", r.stderr);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
}

#[test]
#[ignore = "needs OpenBao (bao)"]
fn reader_token_reads_but_is_refused_a_write_and_the_entry_stays() {
    let bao = server_with_prod();
    let token = bao.token(&["reader"]);
    let m = Machine::new(&bao.addr, &token);
    assert_eq!(m.get("prod").map_err(|r| r.stderr), Ok(TOKEN.to_owned()));
    let r = m.store("prod", "M.V1.test-intruder-0123456789abcdef", &[]);
    assert_eq!(r.code, 5, "{}", r.stderr);
    assert!(r.stderr.contains("secret/data/influxctl-cred/prod"), "{}", r.stderr);
    assert!(r.stderr.contains("update") || r.stderr.contains("create"), "{}", r.stderr);
    let r = m.run(&["erase", "-p", "prod", "--store", "vault"]);
    assert_eq!(r.code, 5, "{}", r.stderr);
    assert_eq!(stored_entry(&bao, "prod").expect("kept")["token"], TOKEN);
}

#[test]
#[ignore = "needs OpenBao (bao)"]
fn doctor_sees_the_list_the_docs_policies_grant() {
    let bao = server_with_prod();
    for (policy, access) in [("reader", "read only"), ("list-only", "neither read nor write")] {
        // As `bao token create -policy=…` makes it: with the `default` policy (lookup-self).
        let flag = format!("-policy={policy}");
        let token = bao.ok(&["token", "create", "-field=token", "-ttl=1h", &flag]);
        let m = Machine::new(&bao.addr, token.trim());
        assert_eq!(m.run(&["list"]).code, 0, "{policy}: list works");
        let r = m.run(&["doctor"]);
        let line = r.stdout.lines().find(|l| l.contains("store vault")).unwrap_or_default();
        assert!(
            line.contains(&format!("policy on secret/data/influxctl-cred/default: {access}")),
            "{policy}: {}",
            r.stdout
        );
        assert!(line.contains("list on secret/metadata/influxctl-cred/: yes"), "{policy}: {line}");
    }
}

/// A machine logging in with `vault` (the login lines of `[vault]`), whose secret is `secret`.
fn login_machine(bao: &Bao, vault: &str, secret: &str) -> Machine {
    let mut m = Machine::with(std::slice::from_ref(&bao.addr), None, "", vault);
    m.secrets.push(secret.to_owned());
    m
}

#[test]
#[ignore = "needs OpenBao (bao)"]
fn read_only_approle_reads_and_is_refused_a_write_without_its_secret_in_the_message() {
    let bao = server_with_prod();
    let (role_id, secret_id) = bao.approle("ci-reader", &["reader"]);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("secret-id");
    std::fs::write(&file, &secret_id).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let vault = format!(
        "auth = \"approle\"\nrole_id = \"{role_id}\"\nsecret_id_file = \"{}\"",
        file.display()
    );
    let m = login_machine(&bao, &vault, &secret_id);

    assert_eq!(m.get("prod").map_err(|r| r.stderr), Ok(TOKEN.to_owned()));
    let r = m.store("prod", "M.V1.test-intruder-0123456789abcdef", &[]);
    assert_eq!(r.code, 5, "{}", r.stderr);
    assert!(r.stderr.contains("secret/data/influxctl-cred/prod"), "{}", r.stderr);
    assert_eq!(stored_entry(&bao, "prod").expect("kept")["token"], TOKEN);
    // The login token (cached for its TTL) is never on disk or on stderr in plaintext.
    let logins = bao.issued_tokens("auth/approle/login");
    assert!(!logins.is_empty(), "no approle login was made");
    for t in &logins {
        assert!(m.s.env.files_containing(t).is_empty(), "a login token on disk in plaintext");
        assert!(!r.stderr.contains(t.as_str()), "a login token on stderr: {}", r.stderr);
    }
    assert!(m.s.env.files_containing(TOKEN).is_empty(), "the token on disk in plaintext");

    // A wrong secret id (on a machine with no cached login) is a typed refusal naming the
    // login, not the secret.
    std::fs::write(&file, "0000-not-the-secret-id").unwrap();
    let other = login_machine(&bao, &vault, "0000-not-the-secret-id");
    let r = other.get("prod").expect_err("a wrong secret id logged in");
    assert_eq!(r.code, 5, "{}", r.stderr);
    assert!(r.stderr.contains("approle"), "{}", r.stderr);
}

#[test]
#[ignore = "needs OpenBao (bao)"]
fn jwt_for_the_wrong_subject_is_refused_and_the_right_one_reads() {
    let bao = server_with_prod();
    let signer = Signer::new(&bao);
    bao.enable_jwt(&signer);
    let subject = "repo:example-org/app:ref:refs/heads/main";
    bao.jwt_role("ci", subject, &["reader"]);

    let wrong = signer.sign(&claims("repo:example-org/fork:ref:refs/heads/main"));
    let mut m = login_machine(&bao, "", &wrong);
    let file = m.secret_file("jwt", &wrong);
    let vault = format!("auth = \"jwt\"\nrole = \"ci\"\njwt_file = \"{}\"", file.display());
    m.s.settings(&super::settings(std::slice::from_ref(&bao.addr), "", &vault));

    let r = m.get("prod").expect_err("a JWT for another subject logged in");
    assert_eq!(r.code, 5, "{}", r.stderr);
    assert!(r.stderr.contains("jwt"), "names the login: {}", r.stderr);
    assert!(r.stdout.is_empty());

    // The same machine with the right subject's JWT (from an environment variable, as GitLab's
    // id_tokens give it) reads the token.
    let right = signer.sign(&claims(subject));
    m.secrets.push(right.clone());
    let vault = "auth = \"jwt\"\nrole = \"ci\"\njwt_env = \"TEST_ID_TOKEN\"";
    m.s.settings(&super::settings(std::slice::from_ref(&bao.addr), "", vault));
    let r = m.run_in(&["get", "-p", "prod"], None, &[("TEST_ID_TOKEN", &right)]);
    assert_eq!((r.code, r.stdout.trim()), (0, TOKEN), "{}", r.stderr);
}

#[test]
#[ignore = "needs OpenBao (bao)"]
fn approle_login_is_cached_encrypted_and_lock_revokes_it_on_the_server() {
    let bao = server_with_prod();
    let (role_id, secret_id) = bao.approle("ci-reader", &["reader"]);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("secret-id");
    std::fs::write(&file, &secret_id).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let vault = format!(
        "auth = \"approle\"\nrole_id = \"{role_id}\"\nsecret_id_file = \"{}\"",
        file.display()
    );
    let m = login_machine(&bao, &vault, &secret_id);
    // An identity of this user (made by a first write to the file store) to encrypt the cache.
    let r = m.store("other", "M.V1.test-local-0123456789abcdef", &["--store", "file"]);
    assert_eq!(r.code, 0, "{}", r.stderr);

    for _ in 0..3 {
        assert_eq!(m.get("prod").map_err(|r| r.stderr), Ok(TOKEN.to_owned()));
    }
    let logins = bao.issued_tokens("auth/approle/login");
    assert_eq!(logins.len(), 1, "three gets, one login: the login token is cached");
    let cache = m.s.env.store_dir().join("vault-login.cache");
    assert!(cache.is_file(), "no login cache at {}", cache.display());
    assert!(m.s.env.files_containing(&logins[0]).is_empty(), "the login token in plaintext");
    let alive = |t: &str| bao.cli_as(t, &["token", "lookup"], None).status.success();
    assert!(alive(&logins[0]));

    let r = m.run(&["lock"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!cache.exists(), "lock left the cache");
    assert!(!alive(&logins[0]), "lock did not revoke the login token on the server");
    // The next use logs in afresh.
    assert_eq!(m.get("prod").map_err(|r| r.stderr), Ok(TOKEN.to_owned()));
    assert_eq!(bao.issued_tokens("auth/approle/login").len(), 2);
}

/// An `agent` of machine `m`, killed (by its pid) when dropped, should `lock` not stop it.
struct Agent(std::process::Child);

impl Agent {
    fn start(m: &Machine) -> Agent {
        let child = m
            .std_cmd(&[])
            .args(["agent", "--ttl", "10m", "--idle", "10m"])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let socket = m.s.env.cred_home().join("run").join("agent.sock");
        let until = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !socket.exists() {
            assert!(std::time::Instant::now() < until, "the agent did not start");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        Agent(child)
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
#[ignore = "needs OpenBao (bao)"]
fn with_an_agent_the_approle_login_is_held_in_memory_and_lock_revokes_it() {
    let bao = server_with_prod();
    let (role_id, secret_id) = bao.approle("ci-agent", &["reader"]);
    let m = login_machine(&bao, "", &secret_id);
    let file = m.secret_file("secret-id", &secret_id);
    let vault = format!(
        "auth = \"approle\"\nrole_id = \"{role_id}\"\nsecret_id_file = \"{}\"",
        file.display()
    );
    m.s.settings(&super::settings(std::slice::from_ref(&bao.addr), "", &vault));
    let mut agent = Agent::start(&m);
    // An identity without passphrase: without the agent, the login would be cached in a file.
    let r = m.store("other", "M.V1.test-local-0123456789abcdef", &["--store", "file"]);
    assert_eq!(r.code, 0, "{}", r.stderr);

    for _ in 0..2 {
        assert_eq!(m.get("prod").map_err(|r| r.stderr), Ok(TOKEN.to_owned()));
    }
    let logins = bao.issued_tokens("auth/approle/login");
    assert_eq!(logins.len(), 1, "a store and two gets, one login: the agent holds the token");
    let cache = m.s.env.store_dir().join("vault-login.cache");
    assert!(!cache.exists(), "a login cache file was written although an agent runs");
    assert!(m.s.env.files_containing(&logins[0]).is_empty(), "the login token on disk");
    let status = m.run(&["doctor"]);
    assert!(status.stdout.contains("1 vault login held"), "{}", status.stdout);
    let alive = |t: &str| bao.cli_as(t, &["token", "lookup"], None).status.success();
    assert!(alive(&logins[0]));

    let r = m.run(&["lock"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("held by the agent: revoked it"), "{}", r.stderr);
    assert!(!alive(&logins[0]), "lock did not revoke the agent's login token on the server");
    let stopped = agent.0.wait().unwrap();
    assert!(stopped.success(), "the agent did not stop on lock: {stopped:?}");
    // Without the agent, the next use logs in afresh and caches in the file as before.
    assert_eq!(m.get("prod").map_err(|r| r.stderr), Ok(TOKEN.to_owned()));
    assert_eq!(bao.issued_tokens("auth/approle/login").len(), 2);
    assert!(cache.is_file(), "without an agent the login is cached in the file again");
}
