//! Unit tests of identity lookup, identity-file formats, recipients and age files.

use super::*;
use std::io::Write;
use std::str::FromStr;

use age::x25519;

use crate::error::ErrorKind;

/// Throwaway age keys, generated once per test run: no key material is committed.
fn key_a() -> &'static str {
    static KEY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    KEY.get_or_init(new_key)
}

fn key_b() -> &'static str {
    static KEY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    KEY.get_or_init(new_key)
}

fn new_key() -> String {
    age::secrecy::ExposeSecret::expose_secret(&x25519::Identity::generate().to_string()).to_owned()
}

/// A throwaway OpenSSH ed25519 key pair made with `ssh-keygen -N ""` for this test run:
/// (private key file text, public key line).
fn ssh_pair() -> (String, String) {
    // Under Wine no ssh-keygen can run: scripts/test-windows makes the pair on the host and
    // names its private key file here.
    if let Some(given) = std::env::var_os("INFLUXCTL_CRED_TEST_SSH_KEY") {
        let path = std::path::PathBuf::from(given);
        let private = std::fs::read_to_string(&path).unwrap();
        let public = std::fs::read_to_string(path.with_extension("pub")).unwrap();
        return (private, public.trim().to_owned());
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("id_ed25519");
    let st = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "test", "-f"])
        .arg(&path)
        .status()
        .expect("ssh-keygen (openssh-client) is needed for this test");
    assert!(st.success());
    let private = std::fs::read_to_string(&path).unwrap();
    let public = std::fs::read_to_string(path.with_extension("pub")).unwrap();
    (private, public.trim().to_owned())
}

fn public_of(secret: &str) -> String {
    x25519::Identity::from_str(secret).unwrap().to_public().to_string()
}

fn no_env(_: &str) -> Option<OsString> {
    None
}

/// Writes a private (0600) file.
fn private_file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    crate::fsutil::write_atomic(&p, bytes).unwrap();
    p
}

fn find(
    env: &dyn Fn(&str) -> Option<OsString>,
    dir: &Path,
    configured: &[PathBuf],
    prompt: Option<Prompt>,
) -> Result<Option<Identities>> {
    Identities::find_with(env, &dir.join("identity.txt"), configured, prompt)
}

fn fixed(pass: &'static str) -> Option<Prompt> {
    Some(Box::new(move |_: &Path| Ok(SecretString::from(pass.to_owned()))))
}

/// A passphrase-encrypted identity file as `age -p` makes it, at a low pinned work factor.
fn passphrase_file(plain: &str, pass: &str, armor: bool) -> Vec<u8> {
    let mut r = age::scrypt::Recipient::new(SecretString::from(pass.to_owned()));
    r.set_work_factor(10);
    let enc = age::Encryptor::with_recipients(std::iter::once(&r as &dyn age::Recipient)).unwrap();
    let mut out = Vec::new();
    if armor {
        let a = age::armor::ArmoredWriter::wrap_output(&mut out, age::armor::Format::AsciiArmor)
            .unwrap();
        let mut w = enc.wrap_output(a).unwrap();
        w.write_all(plain.as_bytes()).unwrap();
        w.finish().unwrap().finish().unwrap();
    } else {
        let mut w = enc.wrap_output(&mut out).unwrap();
        w.write_all(plain.as_bytes()).unwrap();
        w.finish().unwrap();
    }
    out
}

fn encrypt_to(recipients: &[&str], plain: &[u8]) -> Vec<u8> {
    let rs: Vec<Recipient> = recipients.iter().map(|r| Recipient::parse(r).unwrap()).collect();
    encrypt(&rs, plain).unwrap()
}

#[test]
fn find_without_any_identity_is_none() {
    let dir = tempfile::tempdir().unwrap();
    assert!(find(&no_env, dir.path(), &[], None).unwrap().is_none());
}

#[test]
fn find_env_identity_wins_over_files() {
    let dir = tempfile::tempdir().unwrap();
    private_file(dir.path(), "identity.txt", key_b().as_bytes());
    let env = |k: &str| (k == IDENTITY_ENV).then(|| OsString::from(key_a()));
    let ids = find(&env, dir.path(), &[], None).unwrap().unwrap();
    assert_eq!(ids.source, Source::Env);
    assert_eq!(ids.recipients().unwrap(), vec![public_of(key_a())]);
}

#[test]
fn find_env_file_then_settings_then_default() {
    let dir = tempfile::tempdir().unwrap();
    let a = private_file(dir.path(), "a.txt", key_a().as_bytes());
    let b = private_file(dir.path(), "b.txt", key_b().as_bytes());
    private_file(dir.path(), "identity.txt", key_b().as_bytes());
    let env = |k: &str| (k == IDENTITY_FILE_ENV).then(|| a.clone().into_os_string());
    let ids = find(&env, dir.path(), std::slice::from_ref(&b), None).unwrap().unwrap();
    assert_eq!(ids.source, Source::EnvFile(a.clone()));
    let ids = find(&no_env, dir.path(), &[a.clone(), b.clone()], None).unwrap().unwrap();
    assert_eq!(ids.source, Source::Settings(vec![a, b]));
    assert_eq!(ids.recipients().unwrap(), vec![public_of(key_a()), public_of(key_b())]);
    let ids = find(&no_env, dir.path(), &[], None).unwrap().unwrap();
    assert_eq!(ids.source, Source::Default(dir.path().join("identity.txt")));
}

#[test]
fn identity_file_with_comments_and_several_keys_parses() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "# created: 2026-01-01T00:00:00Z\r\n# public key: x\r\n{}\r\n\n{}\n",
        key_a(),
        key_b()
    );
    let p = private_file(dir.path(), "ids.txt", text.as_bytes());
    let ids = find(&no_env, dir.path(), &[p], None).unwrap().unwrap();
    assert_eq!(ids.recipients().unwrap().len(), 2);
    let file = encrypt_to(&[&public_of(key_b())], b"hello");
    assert_eq!(&ids.decrypt(&file).unwrap()[..], b"hello");
}

#[test]
fn malformed_env_identity_error_does_not_echo_it() {
    let dir = tempfile::tempdir().unwrap();
    let secret = "AGE-SECRET-KEY-1NOTAREALKEYBUTSECRETLOOKING";
    let env = |k: &str| (k == IDENTITY_ENV).then(|| OsString::from(secret));
    let err = find(&env, dir.path(), &[], None).err().unwrap();
    assert_eq!(err.kind(), ErrorKind::StoreUnavailable);
    let shown = format!("{err} {:?} {}", err, err.hint().unwrap_or_default());
    assert!(!shown.contains("NOTAREALKEY"), "{shown}");
    assert!(shown.contains(IDENTITY_ENV) && shown.contains("line 1"), "{shown}");
}

#[test]
fn malformed_identity_file_names_file_and_line_only() {
    let dir = tempfile::tempdir().unwrap();
    let p =
        private_file(dir.path(), "ids.txt", format!("{}\nsecret-garbage\n", key_a()).as_bytes());
    let err = find(&no_env, dir.path(), std::slice::from_ref(&p), None).err().unwrap();
    let shown = err.to_string();
    assert!(shown.contains("ids.txt") && shown.contains("line 2"), "{shown}");
    assert!(!shown.contains("garbage"), "{shown}");
}

#[test]
fn missing_configured_identity_is_an_error_not_a_fallback() {
    let dir = tempfile::tempdir().unwrap();
    private_file(dir.path(), "identity.txt", key_a().as_bytes());
    let err = find(&no_env, dir.path(), &[dir.path().join("gone.txt")], None).err().unwrap();
    assert_eq!(err.kind(), ErrorKind::StoreUnavailable);
    assert!(err.to_string().contains("gone.txt"));
}

#[cfg(unix)]
#[test]
fn too_open_identity_is_refused_with_chmod_hint() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let p = private_file(dir.path(), "identity.txt", key_a().as_bytes());
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = find(&no_env, dir.path(), &[], None).err().unwrap();
    assert_eq!(err.exit_code(), 5);
    assert!(err.hint().unwrap().contains("chmod 600"));
}

#[test]
fn passphrase_identity_without_prompt_needs_interaction() {
    for armor in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let p = private_file(dir.path(), "id.age", &passphrase_file(key_a(), "pw", armor));
        let ids = find(&no_env, dir.path(), std::slice::from_ref(&p), None).unwrap().unwrap();
        assert_eq!(ids.known_public_keys(), (vec![], 1));
        assert_eq!(ids.recipients().unwrap_err().kind(), ErrorKind::InteractionRequired);
        let file = encrypt_to(&[&public_of(key_a())], b"x");
        match ids.decrypt(&file) {
            Err(Failure::Identity(e)) => assert_eq!(e.exit_code(), 6),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn passphrase_identity_unlocks_with_the_right_passphrase_only() {
    let dir = tempfile::tempdir().unwrap();
    let p = private_file(dir.path(), "id.age", &passphrase_file(key_a(), "right", false));
    let file = encrypt_to(&[&public_of(key_a())], b"payload");
    let ids = find(&no_env, dir.path(), std::slice::from_ref(&p), fixed("right")).unwrap().unwrap();
    assert_eq!(ids.recipients().unwrap(), vec![public_of(key_a())]);
    assert_eq!(&ids.decrypt(&file).unwrap()[..], b"payload");
    let ids = find(&no_env, dir.path(), &[p], fixed("wrong")).unwrap().unwrap();
    match ids.decrypt(&file) {
        Err(Failure::Identity(e)) => assert!(e.to_string().contains("wrong passphrase"), "{e}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn locked_identity_is_not_asked_when_a_plain_one_matches() {
    let dir = tempfile::tempdir().unwrap();
    let locked = private_file(dir.path(), "id.age", &passphrase_file(key_a(), "pw", false));
    let plain = private_file(dir.path(), "b.txt", key_b().as_bytes());
    let asked: Option<Prompt> = Some(Box::new(|_: &Path| panic!("prompted")));
    let ids = find(&no_env, dir.path(), &[locked, plain], asked).unwrap().unwrap();
    let file = encrypt_to(&[&public_of(key_b())], b"ok");
    assert_eq!(&ids.decrypt(&file).unwrap()[..], b"ok");
}

#[test]
fn ssh_ed25519_identity_and_recipient_work() {
    let (ssh_key, ssh_pub) = ssh_pair();
    let dir = tempfile::tempdir().unwrap();
    let p = private_file(dir.path(), "id_ed25519", ssh_key.as_bytes());
    let ids = find(&no_env, dir.path(), &[p], None).unwrap().unwrap();
    let public = ids.recipients().unwrap();
    assert_eq!(public.len(), 1);
    assert!(ssh_pub.starts_with(&public[0]), "{public:?}");
    let file = encrypt_to(&[&ssh_pub], b"via ssh");
    assert_eq!(&ids.decrypt(&file).unwrap()[..], b"via ssh");
}

#[test]
fn recipients_parse_and_bad_ones_name_their_position() {
    assert!(Recipient::parse(&public_of(key_a())).is_ok());
    assert!(Recipient::parse(&ssh_pair().1).is_ok());
    for bad in ["age1nope", "ssh-ed25519 AAAA", "ssh-dss AAAAB3NzaC1kc3MAAACBAP", "hello", ""] {
        assert!(Recipient::parse(bad).is_err(), "{bad}");
    }
    let list = vec![public_of(key_a()), "age1-broken".to_owned()];
    let err = configured_recipients(&list, Path::new("/x/config.toml")).err().unwrap();
    assert_eq!(err.exit_code(), 2);
    assert!(err.to_string().contains("entry 2"), "{err}");
}

#[test]
fn merged_recipients_are_unique() {
    let configured = configured_recipients(&[public_of(key_a())], Path::new("c")).unwrap();
    let merged =
        merge_recipients(vec![public_of(key_a()), public_of(key_b())], configured).unwrap();
    assert_eq!(merged.len(), 2);
}

#[test]
fn open_classifies_damage_and_wrong_keys() {
    let key = x25519::Identity::from_str(key_a()).unwrap();
    let ids = [&key as &dyn age::Identity];
    let file = encrypt_to(&[&public_of(key_a())], b"entry");
    assert_eq!(&open(&file, ids.into_iter()).unwrap()[..], b"entry");
    for (i, broken) in
        [&file[..file.len() - 5], &file[..40], b"not age at all", b""].into_iter().enumerate()
    {
        match open(broken, ids.into_iter()) {
            Err(Failure::Corrupt(_)) => {}
            other => panic!("case {i}: {other:?}"),
        }
    }
    let mut flipped = file.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 1;
    assert!(matches!(open(&flipped, ids.into_iter()), Err(Failure::Corrupt(_))));
    let other = encrypt_to(&[&public_of(key_b())], b"entry");
    assert!(matches!(open(&other, ids.into_iter()), Err(Failure::NoMatch)));
}

#[test]
fn open_reads_armored_files() {
    let key = x25519::Identity::from_str(key_a()).unwrap();
    let enc = age::Encryptor::with_recipients(std::iter::once(&key.to_public() as _)).unwrap();
    let mut out = Vec::new();
    let a =
        age::armor::ArmoredWriter::wrap_output(&mut out, age::armor::Format::AsciiArmor).unwrap();
    let mut w = enc.wrap_output(a).unwrap();
    w.write_all(b"armored").unwrap();
    w.finish().unwrap().finish().unwrap();
    assert!(out.starts_with(b"-----BEGIN AGE ENCRYPTED FILE-----"));
    let got = open(&out, std::iter::once(&key as &dyn age::Identity)).unwrap();
    assert_eq!(&got[..], b"armored");
}

#[cfg(unix)]
#[test]
fn generate_default_makes_a_private_keygen_style_file_once() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub").join("identity.txt");
    let public = generate_default(&path).unwrap().unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("# created: "), "{text}");
    assert_eq!(lines[1], format!("# public key: {public}"));
    assert_eq!(public_of(lines[2]), public);
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(generate_default(&path).unwrap(), None);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text, "never replaced");
}

#[test]
fn unlockable_gives_the_keys_of_a_locked_file_and_the_agent_opens_with_them() {
    let dir = tempfile::tempdir().unwrap();
    let key = age::x25519::Identity::generate();
    let mut r = age::scrypt::Recipient::new("pw".to_owned().into());
    r.set_work_factor(10);
    let secret = age::secrecy::ExposeSecret::expose_secret(&key.to_string()).to_owned();
    let locked = age::encrypt(&r, secret.as_bytes()).unwrap();
    let path = dir.path().join("locked.age");
    std::fs::write(&path, &locked).unwrap();
    #[cfg(unix)]
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let prompt: Prompt = Box::new(|_| Ok(SecretString::from("pw".to_owned())));
    let ids = Identities::find_with(&|_| None, &dir.path().join("none"), &[path], Some(prompt))
        .unwrap()
        .unwrap();
    let found = ids.unlockable().unwrap();
    assert_eq!(found.count, 1);
    let [held] = &found.keys[..] else { panic!("one file") };
    assert_eq!(held.sha256, held::file_sha256(&locked));
    assert_eq!(held.sha256.len(), 64);
    assert_eq!(count_keys(&held.keys).unwrap(), 1);
    assert_eq!(public_keys(&held.keys).unwrap(), [key.to_public().to_string()]);
    let file = age::encrypt(&key.to_public(), b"entry").unwrap();
    assert_eq!(&*open_with_keys(&held.keys, &file).unwrap(), b"entry");
    let other = age::x25519::Identity::generate().to_public();
    let file = age::encrypt(&other, b"entry").unwrap();
    assert!(matches!(open_with_keys(&held.keys, &file), Err(Failure::NoMatch)));
}

/// An agent that answers public keys for one identity file only.
struct Publics(String, Vec<String>);

impl Agent for Publics {
    fn decrypt(&self, _: &[u8]) -> Option<crate::secret::SecretBytes> {
        None
    }
    fn recipients(&self, sha256: &str) -> Option<Vec<String>> {
        (sha256 == self.0).then(|| self.1.clone())
    }
}

#[test]
fn a_write_takes_a_locked_identitys_public_key_from_the_agent_without_a_prompt() {
    let dir = tempfile::tempdir().unwrap();
    let key = age::x25519::Identity::generate();
    let mut r = age::scrypt::Recipient::new("pw".to_owned().into());
    r.set_work_factor(10);
    let secret = age::secrecy::ExposeSecret::expose_secret(&key.to_string()).to_owned();
    let locked = age::encrypt(&r, secret.as_bytes()).unwrap();
    let path = dir.path().join("locked.age");
    std::fs::write(&path, &locked).unwrap();
    #[cfg(unix)]
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let no_tty = || -> Prompt {
        Box::new(|p: &Path| {
            Err(Error::InteractionRequired { what: format!("the passphrase of {}", p.display()) })
        })
    };
    let find = |agent: Publics| {
        Identities::find_with(
            &|_| None,
            &dir.path().join("x"),
            std::slice::from_ref(&path),
            Some(no_tty()),
        )
        .unwrap()
        .unwrap()
        .with_agent(Box::new(agent))
    };
    let public = key.to_public().to_string();
    let ids = find(Publics(held::file_sha256(&locked), vec![public.clone()]));
    assert_eq!(ids.recipients().unwrap(), [public]);
    // Another file's keys, no key, or something that is not a public key: the passphrase is
    // asked as without an agent.
    for agent in [
        Publics("0".repeat(64), vec![key.to_public().to_string()]),
        Publics(held::file_sha256(&locked), Vec::new()),
        Publics(held::file_sha256(&locked), vec![secret.clone()]),
    ] {
        let e = find(agent).recipients().unwrap_err();
        assert!(matches!(e, Error::InteractionRequired { .. }), "{e}");
    }
}

#[test]
fn count_keys_refuses_junk_without_echoing_it() {
    let e = count_keys(b"AGE-SECRET-KEY-1NOTAKEYATALLSECRETSTUFF\n").unwrap_err();
    assert!(!e.contains("SECRETSTUFF") && e.contains("line 1"), "{e}");
}

#[test]
fn a_locked_identity_asks_the_agent_before_it_prompts() {
    let dir = tempfile::tempdir().unwrap();
    let key = age::x25519::Identity::generate();
    let mut r = age::scrypt::Recipient::new("pw".to_owned().into());
    r.set_work_factor(10);
    let secret = age::secrecy::ExposeSecret::expose_secret(&key.to_string()).to_owned();
    let path = dir.path().join("locked.age");
    std::fs::write(&path, age::encrypt(&r, secret.as_bytes()).unwrap()).unwrap();
    #[cfg(unix)]
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let file = age::encrypt(&key.to_public(), b"entry").unwrap();
    let find = |agent: Option<AgentHook>| {
        let prompt: Prompt = Box::new(|_| panic!("prompted although the agent answered"));
        let ids = Identities::find_with(
            &|_| None,
            &dir.path().join("x"),
            std::slice::from_ref(&path),
            Some(prompt),
        )
        .unwrap()
        .unwrap();
        match agent {
            Some(a) => ids.with_agent(a),
            None => ids,
        }
    };
    let keys = secret.clone();
    let ids = find(Some(Box::new(move |c: &[u8]| open_with_keys(keys.as_bytes(), c).ok())));
    assert_eq!(&*ids.decrypt(&file).unwrap(), b"entry");
    // An agent that cannot open it: the prompt is asked (and here refuses, as no terminal).
    let no_tty: Prompt = Box::new(|p: &Path| {
        Err(Error::InteractionRequired { what: format!("the passphrase of {}", p.display()) })
    });
    let ids = Identities::find_with(
        &|_| None,
        &dir.path().join("x"),
        std::slice::from_ref(&path),
        Some(no_tty),
    )
    .unwrap()
    .unwrap()
    .with_agent(Box::new(|_: &[u8]| None));
    assert!(matches!(ids.decrypt(&file), Err(Failure::Identity(_))));
}

#[test]
fn the_agent_refuses_a_header_of_too_many_stanzas_before_any_unwrap() {
    let key = age::x25519::Identity::generate();
    let secret = age::secrecy::ExposeSecret::expose_secret(&key.to_string()).to_owned();
    let file = age::encrypt(&key.to_public(), b"entry").unwrap();
    assert_eq!(&*open_with_keys(secret.as_bytes(), &file).unwrap(), b"entry");
    // A stanza for another key (its line and its body line) repeated past the budget: each
    // one a Diffie-Hellman that does not match.
    let other = age::x25519::Identity::generate().to_public();
    let file = age::encrypt(&other, b"entry").unwrap();
    let text = String::from_utf8_lossy(&file).into_owned();
    let at = text.find("-> X25519 ").unwrap();
    let body_end = at + text[at..].find('\n').unwrap() + 1;
    let stanza_end = body_end + text[body_end..].find('\n').unwrap() + 1;
    let mut hostile = file[..at].to_vec();
    for _ in 0..=held::MAX_UNWRAPS {
        hostile.extend_from_slice(&file[at..stanza_end]);
    }
    hostile.extend_from_slice(&file[stanza_end..]);
    let started = std::time::Instant::now();
    let e = open_with_keys(secret.as_bytes(), &hostile).unwrap_err();
    assert!(matches!(e, Failure::Corrupt("has too many recipients")), "{e:?}");
    assert!(started.elapsed() < std::time::Duration::from_secs(2), "{:?}", started.elapsed());
}
