//! The `file` store end to end: age files in the store folder, identities, recipients, `rekey`,
//! interop with the reference `age` CLI, permissions, corruption, concurrency and killed writers.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Stdio};

use age::secrecy::ExposeSecret;

use crate::util::{TOKEN, TestEnv, text};

mod concurrency;

const TOKEN2: &str = "M.V1.test-second-token-value";

/// Runs `influxctl-cred ARGS` with `stdin`; answers (exit code, stdout, stderr).
fn run(env: &TestEnv, args: &[&str], stdin: &str, vars: &[(&str, &str)]) -> (i32, String, String) {
    let mut c = env.cmd();
    c.args(args).write_stdin(stdin.to_owned());
    for (k, v) in vars {
        c.env(k, v);
    }
    let out = c.output().expect("run");
    (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
}

fn store(env: &TestEnv, profile: &str, token: &str) -> (i32, String, String) {
    run(env, &["--store", "file", "store", "-p", profile], &format!("{token}\n"), &[])
}

fn get(env: &TestEnv, profile: &str) -> (i32, String, String) {
    run(env, &["get", "-p", profile], "", &[])
}

fn age_file(env: &TestEnv, profile: &str) -> PathBuf {
    env.store_dir().join(format!("{profile}.age"))
}

fn identity_path(env: &TestEnv) -> PathBuf {
    env.cred_home().join("identity.txt")
}

fn write_settings(env: &TestEnv, text: &str) {
    std::fs::write(env.cred_home().join("config.toml"), text).unwrap();
}

#[cfg(unix)]
fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A fresh identity, written 0600 at `path`; answers its secret and public strings.
fn new_identity(path: &Path) -> (String, String) {
    let id = age::x25519::Identity::generate();
    let secret = id.to_string().expose_secret().to_owned();
    std::fs::write(path, format!("{secret}\n")).unwrap();
    #[cfg(unix)]
    chmod(path, 0o600);
    (secret, id.to_public().to_string())
}

/// The JSON of an entry, as the store keeps it inside the encryption.
fn entry_json(profile: &str, token: &str) -> String {
    format!(
        r#"{{"profile":"{profile}","token":"{token}","token_id":null,"description":"made outside","created_at":"2026-01-02T03:04:05Z","expires_at":null,"origin":"stored","cluster":{{}}}}"#
    )
}

fn decrypt_with(secret: &str, bytes: &[u8]) -> Option<String> {
    let id: age::x25519::Identity = secret.parse().ok()?;
    let r = age::Decryptor::new_buffered(age::armor::ArmoredReader::new(bytes)).ok()?;
    let mut out = String::new();
    std::io::Read::read_to_string(&mut r.decrypt(std::iter::once(&id as _)).ok()?, &mut out)
        .ok()?;
    Some(out)
}

#[test]
fn store_get_list_erase_round_trip_in_file_store() {
    let env = TestEnv::new();
    let (code, _, err) = store(&env, "prod", TOKEN);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("file store"), "{err}");
    assert!(age_file(&env, "prod").is_file());
    assert_eq!(get(&env, "prod").1, format!("{TOKEN}\n"));
    let (code, out, _) = run(&env, &["list", "--format", "json"], "", &[]);
    assert_eq!(code, 0);
    let rows: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(rows[0]["profile"], "prod");
    assert_eq!(rows[0]["store"], "file");
    let (code, _, err) = run(&env, &["erase", "-p", "prod"], "", &[]);
    assert_eq!(code, 0, "{err}");
    assert!(!age_file(&env, "prod").exists());
    assert!(!env.store_dir().join("prod.meta.json").exists());
    assert_ne!(get(&env, "prod").0, 0);
    let (_, out, _) = run(&env, &["list", "--format", "json"], "", &[]);
    assert_eq!(out.trim(), "[]");
}

#[test]
fn store_without_keyring_uses_file_store_and_says_so() {
    let env = TestEnv::new();
    let (code, _, err) = run(&env, &["store", "-p", "prod"], &format!("{TOKEN}\n"), &[]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("in the file store"), "{err}");
    assert!(err.contains("created the age identity"), "{err}");
    assert!(age_file(&env, "prod").is_file());
    assert_eq!(get(&env, "prod").1, format!("{TOKEN}\n"));
}

#[test]
#[ignore = "needs the age CLI"]
fn store_writes_files_the_age_cli_decrypts() {
    let env = TestEnv::new();
    assert_eq!(store(&env, "prod", TOKEN).0, 0);
    let out = StdCommand::new("age")
        .arg("-d")
        .arg("-i")
        .arg(identity_path(&env))
        .arg(age_file(&env, "prod"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let entry: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(entry["token"], TOKEN);
    assert_eq!(entry["profile"], "prod");
}

#[test]
#[ignore = "needs the age CLI"]
fn get_reads_binary_and_armored_files_the_age_cli_wrote() {
    let env = TestEnv::new();
    std::fs::create_dir_all(env.store_dir()).unwrap();
    #[cfg(unix)]
    chmod(&env.store_dir(), 0o700);
    let (_, public) = new_identity(&identity_path(&env));
    for (profile, armor) in [("bin", false), ("armored", true)] {
        let mut cmd = StdCommand::new("age");
        cmd.arg("-r").arg(&public).arg("-o").arg(age_file(&env, profile));
        if armor {
            cmd.arg("-a");
        }
        let mut child = cmd.stdin(Stdio::piped()).spawn().unwrap();
        let json = entry_json(profile, TOKEN);
        child.stdin.take().unwrap().write_all(json.as_bytes()).unwrap();
        assert!(child.wait().unwrap().success());
        #[cfg(unix)]
        chmod(&age_file(&env, profile), 0o600);
        let (code, out, err) = get(&env, profile);
        assert_eq!((code, out.as_str()), (0, format!("{TOKEN}\n").as_str()), "{profile}: {err}");
    }
    let (code, out, _) = run(&env, &["list"], "", &[]);
    assert_eq!(code, 0);
    assert!(out.contains("armored") && out.contains("made outside"), "{out}");
}

#[test]
fn get_reads_an_armored_file() {
    let env = TestEnv::new();
    std::fs::create_dir_all(env.store_dir()).unwrap();
    #[cfg(unix)]
    chmod(&env.store_dir(), 0o700);
    let (_, public) = new_identity(&identity_path(&env));
    let recipient: age::x25519::Recipient = public.parse().unwrap();
    let armored = age::encrypt_and_armor(&recipient, entry_json("prod", TOKEN).as_bytes()).unwrap();
    std::fs::write(age_file(&env, "prod"), armored).unwrap();
    #[cfg(unix)]
    chmod(&age_file(&env, "prod"), 0o600);
    let (code, out, err) = get(&env, "prod");
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, format!("{TOKEN}\n"));
}

#[test]
fn env_identity_and_identity_file_are_used() {
    let env = TestEnv::new();
    let path = env.path().join("ci-identity.txt");
    let (secret, _) = new_identity(&path);
    let with_env = [("INFLUXCTL_CRED_AGE_IDENTITY", secret.as_str())];
    let args = ["--store", "file", "store", "-p", "ci"];
    assert_eq!(run(&env, &args, &format!("{TOKEN}\n"), &with_env).0, 0);
    assert!(!identity_path(&env).exists(), "no default identity when one is given");
    assert_eq!(run(&env, &["get", "-p", "ci"], "", &with_env).1, format!("{TOKEN}\n"));
    let with_file = [("INFLUXCTL_CRED_AGE_IDENTITY_FILE", path.to_str().unwrap())];
    assert_eq!(run(&env, &["get", "-p", "ci"], "", &with_file).1, format!("{TOKEN}\n"));
    let (code, _, err) = get(&env, "ci");
    assert_eq!(code, 5, "without the identity: {err}");
}

#[test]
fn malformed_env_identity_is_not_echoed() {
    let env = TestEnv::new();
    assert_eq!(store(&env, "prod", TOKEN).0, 0);
    let bad = [("INFLUXCTL_CRED_AGE_IDENTITY", "AGE-SECRET-KEY-1SECRETBUTBROKEN")];
    let (code, _, err) = run(&env, &["-v", "get", "-p", "prod"], "", &bad);
    assert_eq!(code, 5, "{err}");
    assert!(!err.contains("SECRETBUTBROKEN"), "{err}");
}

#[test]
fn wrong_identity_exits_5_and_leaves_the_file_unchanged() {
    let env = TestEnv::new();
    assert_eq!(store(&env, "prod", TOKEN).0, 0);
    let before = std::fs::read(age_file(&env, "prod")).unwrap();
    new_identity(&identity_path(&env));
    let (code, _, err) = get(&env, "prod");
    assert_eq!(code, 5, "{err}");
    assert!(err.contains("INFLUXCTL_CRED_AGE_IDENTITY"), "hint names the lookup: {err}");
    assert_eq!(std::fs::read(age_file(&env, "prod")).unwrap(), before);
}

#[test]
fn corrupt_and_truncated_files_fail_typed_and_others_still_read() {
    let env = TestEnv::new();
    for p in ["good", "trunc", "junk"] {
        assert_eq!(store(&env, p, TOKEN).0, 0);
    }
    let bytes = std::fs::read(age_file(&env, "trunc")).unwrap();
    std::fs::write(age_file(&env, "trunc"), &bytes[..bytes.len() - 7]).unwrap();
    std::fs::write(age_file(&env, "junk"), b"age-encryption.org/v1\n-> X25519 zz\n").unwrap();
    for p in ["trunc", "junk"] {
        let (code, out, err) = get(&env, p);
        assert_eq!(code, 1, "{p}: {err}");
        assert!(out.is_empty());
        assert!(err.contains(&format!("{p}.age")) && err.contains("kind: other"), "{err}");
    }
    assert_eq!(get(&env, "good").1, format!("{TOKEN}\n"));
    let (_, out, _) = run(&env, &["list", "--format", "json"], "", &[]);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&out).unwrap().as_array().unwrap().len(),
        3
    );
}

#[cfg(unix)]
#[test]
fn too_open_identity_or_store_file_exits_5_naming_chmod() {
    let env = TestEnv::new();
    assert_eq!(store(&env, "prod", TOKEN).0, 0);
    chmod(&identity_path(&env), 0o644);
    let (code, _, err) = get(&env, "prod");
    assert_eq!(code, 5, "{err}");
    assert!(err.contains("chmod") && err.contains("identity.txt"), "{err}");
    chmod(&identity_path(&env), 0o600);
    chmod(&age_file(&env, "prod"), 0o644);
    let (code, _, err) = get(&env, "prod");
    assert_eq!(code, 5, "{err}");
    assert!(err.contains("chmod") && err.contains("prod.age"), "{err}");
    let (code, out, _) = run(&env, &["doctor"], "", &[]);
    assert_eq!(code, 1);
    assert!(out.contains("fail") && out.contains("chmod 600"), "{out}");
}

#[test]
fn passphrase_identity_without_tty_exits_6() {
    let env = TestEnv::new();
    let key = age::x25519::Identity::generate();
    let mut r = age::scrypt::Recipient::new("correct horse".to_owned().into());
    r.set_work_factor(10);
    let locked = age::encrypt(&r, key.to_string().expose_secret().as_bytes()).unwrap();
    let id_path = env.cred_home().join("locked.age");
    std::fs::write(&id_path, locked).unwrap();
    #[cfg(unix)]
    chmod(&id_path, 0o600);
    write_settings(&env, "identities = [\"locked.age\"]\n");
    let (code, _, err) = store(&env, "prod", TOKEN);
    assert_eq!(code, 6, "{err}");
    assert!(!age_file(&env, "prod").exists());
    // A file encrypted to the locked key cannot be read without a terminal either.
    std::fs::create_dir_all(env.store_dir()).unwrap();
    #[cfg(unix)]
    chmod(&env.store_dir(), 0o700);
    let file = age::encrypt(&key.to_public(), entry_json("prod", TOKEN).as_bytes()).unwrap();
    std::fs::write(age_file(&env, "prod"), file).unwrap();
    #[cfg(unix)]
    chmod(&age_file(&env, "prod"), 0o600);
    let (code, _, err) = get(&env, "prod");
    assert_eq!(code, 6, "{err}");
}

#[test]
fn bad_recipient_is_usage_error_and_writes_nothing() {
    let env = TestEnv::new();
    write_settings(&env, "recipients = [\"age1nonsense\"]\n");
    let (code, _, err) = store(&env, "prod", TOKEN);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("entry 1 of `recipients`"), "{err}");
    assert!(!age_file(&env, "prod").exists() && !identity_path(&env).exists());
}

#[test]
#[ignore = "needs the age CLI"]
fn extra_recipient_in_settings_decrypts_with_age_cli() {
    let env = TestEnv::new();
    let team = env.path().join("team.txt");
    let (_, public) = new_identity(&team);
    write_settings(&env, &format!("recipients = [\"{public}\"]\n"));
    assert_eq!(store(&env, "prod", TOKEN).0, 0);
    let out = StdCommand::new("age")
        .arg("-d")
        .arg("-i")
        .arg(&team)
        .arg(age_file(&env, "prod"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains(TOKEN));
}

#[test]
fn rekey_after_adding_a_recipient_lets_it_decrypt_old_entries() {
    let env = TestEnv::new();
    assert_eq!(store(&env, "a", TOKEN).0, 0);
    assert_eq!(store(&env, "b", TOKEN2).0, 0);
    let (secret, public) = new_identity(&env.path().join("team.txt"));
    assert!(decrypt_with(&secret, &std::fs::read(age_file(&env, "a")).unwrap()).is_none());
    write_settings(&env, &format!("recipients = [\"{public}\"]\n"));
    let (code, _, err) = run(&env, &["rekey"], "", &[]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("re-encrypted 2 of 2"), "{err}");
    for (p, t) in [("a", TOKEN), ("b", TOKEN2)] {
        let plain = decrypt_with(&secret, &std::fs::read(age_file(&env, p)).unwrap()).unwrap();
        assert!(plain.contains(t));
        assert_eq!(get(&env, p).1, format!("{t}\n"));
    }
    // Sidecars follow the new files: list needs no decryption and still sees both.
    let (_, out, _) = run(&env, &["list", "--format", "json"], "", &[]);
    let rows: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 2, "{out}");
    assert!(!out.contains("metadata unavailable"), "{out}");
}

#[test]
fn rekey_reports_an_undecryptable_file_and_leaves_it() {
    let env = TestEnv::new();
    assert_eq!(store(&env, "good", TOKEN).0, 0);
    std::fs::write(age_file(&env, "bad"), b"junk").unwrap();
    #[cfg(unix)]
    chmod(&age_file(&env, "bad"), 0o600);
    let (code, _, err) = run(&env, &["rekey"], "", &[]);
    assert_ne!(code, 0, "{err}");
    assert!(err.contains("bad.age") && err.contains("re-encrypted 1 of 2"), "{err}");
    assert_eq!(std::fs::read(age_file(&env, "bad")).unwrap(), b"junk");
}

#[test]
fn token_never_leaks_to_files_stderr_or_list() {
    let env = TestEnv::new();
    let (_, _, e1) =
        run(&env, &["-v", "--store", "file", "store", "-p", "prod"], &format!("{TOKEN}\n"), &[]);
    let (_, _, e2) = run(&env, &["-v", "get", "-p", "prod"], "", &[]);
    let (_, o3, e3) = run(&env, &["-v", "list"], "", &[]);
    let (_, o4, e4) = run(&env, &["-v", "list", "--format", "json"], "", &[]);
    std::fs::remove_file(env.store_dir().join("prod.meta.json")).unwrap();
    let (_, o5, e5) = run(&env, &["-v", "list"], "", &[]);
    for s in [&e1, &e2, &o3, &e3, &o4, &e4, &o5, &e5] {
        assert!(!s.contains(TOKEN), "{s}");
    }
    let leaks: Vec<PathBuf> = env
        .files_containing(TOKEN)
        .into_iter()
        .filter(|p| p.extension().is_none_or(|e| e != "age"))
        .collect();
    assert!(leaks.is_empty(), "{leaks:?}");
}

/// Each write records the recipients of the age file in its sidecar, so a rewrite from a
/// machine that lacks one of them says so (a warning naming it), and `rekey`, which drops them
/// on purpose, names them in a note. A rewrite that keeps them all says nothing.
#[test]
fn rewrite_names_each_recipient_it_drops() {
    let env = TestEnv::new();
    let (_, team) = new_identity(&env.path().join("team.txt"));
    write_settings(&env, &format!("recipients = [\"{team}\"]\n"));
    assert_eq!(store(&env, "prod", TOKEN).0, 0);
    let sidecar = std::fs::read_to_string(env.store_dir().join("prod.meta.json")).unwrap();
    assert!(sidecar.contains(&team) && !sidecar.contains(TOKEN), "{sidecar}");
    let (code, _, err) = store(&env, "prod", TOKEN2);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("no longer encrypted"), "{err}");

    // Another machine's settings, without the team's key: the rewrite says whom it drops.
    write_settings(&env, "");
    let (code, _, err) = store(&env, "prod", TOKEN);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("warning") && err.contains("no longer encrypted to"), "{err}");
    assert!(err.contains(&team) && err.contains("rekey"), "{err}");
    assert!(!err.contains(TOKEN));

    // rekey, after the key is back and then taken out again: a note, not a warning.
    write_settings(&env, &format!("recipients = [\"{team}\"]\n"));
    assert_eq!(run(&env, &["rekey"], "", &[]).0, 0);
    write_settings(&env, "");
    let (code, _, err) = run(&env, &["rekey"], "", &[]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains(&format!("no longer encrypted to {team}")), "{err}");
    assert!(!err.contains("warning"), "{err}");
}

/// `not-found` names the stores searched (and the ones that could not be), the profiles they
/// hold, and a near name — never "the keyring could not be searched" as if that were why.
#[test]
fn not_found_names_the_stores_searched_and_a_near_profile() {
    let env = TestEnv::new();
    assert_eq!(store(&env, "prod", TOKEN).0, 0);
    assert_eq!(store(&env, "staging", TOKEN2).0, 0);
    let (code, _, err) = get(&env, "nosuch");
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("kind: not-found"), "{err}");
    assert!(err.contains("searched the env and file stores"), "{err}");
    assert!(err.contains("(the keyring store could not be searched)"), "{err}");
    assert!(err.contains("stored profiles: \"prod\", \"staging\""), "{err}");
    assert!(err.contains("no token stored for profile \"nosuch\""), "{err}");
    assert!(!err.contains("did you mean"), "{err}");

    let (code, _, err) = get(&env, "prdo");
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("did you mean \"prod\"?"), "{err}");

    let (code, _, err) = run(&env, &["--store", "file", "get", "-p", "stagign"], "", &[]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("searched the file store;"), "{err}");
    assert!(!err.contains("keyring"), "{err}");
    assert!(err.contains("did you mean \"staging\"?"), "{err}");

    let (code, _, err) = run(&env, &["--store", "env", "get", "-p", "prod"], "", &[]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("searched the env store; it holds no profiles"), "{err}");
    assert!(!err.contains("keyring"), "{err}");
    let vars = [("INFLUXCTL_CRED_TOKEN_STAGING", TOKEN2)];
    let (code, _, err) = run(&env, &["--store", "env", "get", "-p", "stagin"], "", &vars);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("stored profiles: \"staging\" (did you mean \"staging\"?)"), "{err}");
    assert!(!err.contains(TOKEN2), "{err}");
}
