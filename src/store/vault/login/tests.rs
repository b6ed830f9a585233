use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
#[cfg(unix)]
use std::path::Path;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use super::cache::{self, Cache, Key, LoginToken};
use super::source::{self, JwtSource};
use super::*;
use crate::settings::{VaultSettings, VaultTarget};

const JWT: &str = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOmEvYiJ9.c2lnbmF0dXJlLXNlY3JldC1wYXJ0";
const SECRET_ID: &str = "5e1f0a2c-secret-id-test-0f3a";

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: HashMap<String, String> =
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    move |name: &str| map.get(name).cloned()
}

fn target(addr: &str, ns: Option<&str>) -> VaultTarget {
    VaultTarget {
        addrs: vec![addr.parse().unwrap()],
        addrs_from: "[vault] addr",
        namespace: ns.map(str::to_owned),
        ca: None,
    }
}

/// The vault client, for its HTTP client (the TLS provider is installed there).
fn client() -> Client {
    Client::new(target("http://127.0.0.1:1", None), Duration::from_secs(5)).unwrap()
}

fn jwt_cfg() -> VaultSettings {
    VaultSettings { auth: VaultAuth::Jwt, role: Some("ci".into()), ..VaultSettings::default() }
}

fn vault_token(s: &str) -> Token {
    Token::new(format!("s.test-login-{s}")).unwrap()
}

#[cfg(unix)]
fn write_mode(path: &Path, text: &str, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A key for `cfg` at `addr`, for JWT identity `who`.
fn key_of(cfg: &VaultSettings, addr: &str, ns: Option<&str>, who: &str) -> Key {
    Key::new(cfg, &target(addr, ns), who)
}

/// A key no login of these tests makes.
fn some_key(name: &str) -> Key {
    key_of(&jwt_cfg(), "https://cache.example:8200", None, name)
}

#[test]
fn cache_key_changes_with_every_setting_and_identity_that_picks_the_token() {
    const A: &str = "https://a.example:8200";
    let base = key_of(&jwt_cfg(), A, None, "sub-x");
    assert_eq!(base, key_of(&jwt_cfg(), A, None, "sub-x"));
    assert_eq!((base.full.len(), base.server.len()), (64, 64));
    let approle = VaultSettings {
        auth: VaultAuth::Approle,
        role: None,
        role_id: Some("ci".into()),
        ..jwt_cfg()
    };
    let others = [
        key_of(&jwt_cfg(), "https://b.example:8200", None, "sub-x"),
        key_of(&jwt_cfg(), A, Some("team-a"), "sub-x"),
        key_of(&VaultSettings { role: Some("other".into()), ..jwt_cfg() }, A, None, "sub-x"),
        key_of(&VaultSettings { auth_mount: Some("gitlab".into()), ..jwt_cfg() }, A, None, "sub-x"),
        key_of(&approle, A, None, "sub-x"),
        key_of(&jwt_cfg(), A, None, "sub-y"),
    ];
    for (i, k) in others.iter().enumerate() {
        assert_ne!(base.full, k.full, "setting {i} must change the key");
    }
    // Where the token may be sent depends on the server and namespace only.
    assert_eq!(others[2].server, base.server);
    assert_eq!(others[5].server, base.server);
    assert_ne!(others[0].server, base.server);
    assert_ne!(others[1].server, base.server);
}

#[test]
fn jwt_who_reads_issuer_subject_and_audience() {
    // {"iss":"https://gh","sub":"repo:a/b:ref:refs/heads/main","aud":["bao"],"jti":"1"}
    let a = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJodHRwczovL2doIiwic3ViIjoicmVwbzphL2I6cmVmOnJlZnMvaGVhZHMvbWFpbiIsImF1ZCI6WyJiYW8iXSwianRpIjoiMSJ9.c2ln";
    assert_eq!(jwt_who(a), r#"["https://gh","repo:a/b:ref:refs/heads/main",["bao"]]"#);
    // The same identity in a later JWT (other jti, exp) keys alike; another subject does not.
    // {"iss":"https://gh","sub":"repo:a/b:ref:refs/heads/main","aud":["bao"],"jti":"2"}
    let later = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJodHRwczovL2doIiwic3ViIjoicmVwbzphL2I6cmVmOnJlZnMvaGVhZHMvbWFpbiIsImF1ZCI6WyJiYW8iXSwianRpIjoiMiJ9.c2ln";
    assert_eq!(jwt_who(later), jwt_who(a));
    assert_ne!(jwt_who(JWT), jwt_who(a));
    assert_eq!(jwt_who("eyJ.!!!.x"), "");
    assert_eq!(jwt_who("eyJhbGciOiJSUzI1NiJ9.bm90IGpzb24.c2ln"), "", "not JSON");
}

#[test]
fn login_token_is_used_until_a_margin_before_its_ttl() {
    let now = Timestamp::now();
    let t = LoginToken::new(vault_token("a"), now, 3600, true);
    assert_eq!(t.expires_at, now + SignedDuration::from_secs(3600));
    assert_eq!(t.margin(), Duration::from_secs(300));
    assert!(t.usable(now));
    assert!(t.usable(now + SignedDuration::from_secs(3299)));
    assert!(!t.usable(now + SignedDuration::from_secs(3300)));
    let short = LoginToken::new(vault_token("b"), now, 20, false);
    assert_eq!(short.margin(), Duration::from_secs(5));
    assert!(!short.usable(now + SignedDuration::from_secs(15)));
    let forever = LoginToken::new(vault_token("c"), now, 0, false);
    assert_eq!(forever.expires_at, now + SignedDuration::from_secs(3600), "kept an hour");
}

/// A home with a default identity (no passphrase) and its cache.
fn home_with_identity() -> (tempfile::TempDir, Cache) {
    let dir = tempfile::tempdir().unwrap();
    let identity = dir.path().join("identity.txt");
    crate::identity::generate_default(&identity).unwrap();
    let cache = Cache::new(&dir.path().join("store"), &identity, &[]);
    (dir, cache)
}

#[test]
fn cache_round_trips_encrypted_and_private_and_only_for_its_key() {
    let (_dir, cache) = home_with_identity();
    let now = Timestamp::now();
    let login = LoginToken::new(vault_token("cached"), now, 3600, true);
    cache.save(&some_key("1"), &login);
    let bytes = std::fs::read(&cache.path).unwrap();
    assert!(bytes.starts_with(b"age-encryption.org/v1"), "an age file");
    let needle = vault_token("cached");
    assert!(!bytes.windows(needle.expose().len()).any(|w| w == needle.expose().as_bytes()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&cache.path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    assert_eq!(cache.load(&some_key("1"), now), Some(login.clone()));
    assert_eq!(cache.load(&some_key("2"), now), None, "other settings never reuse it");
    assert_eq!(
        cache.load(&some_key("1"), now + SignedDuration::from_secs(3500)),
        None,
        "near its end"
    );
    assert_eq!(cache.any().unwrap(), Some((login, some_key("1").server)));
    assert!(cache.remove().unwrap());
    assert!(!cache.path.exists());
    assert!(!cache.remove().unwrap());
}

#[cfg(unix)]
#[test]
fn cache_is_never_written_into_a_folder_others_may_use() {
    use std::os::unix::fs::PermissionsExt;
    let (dir, cache) = home_with_identity();
    let store = dir.path().join("store");
    std::fs::create_dir(&store).unwrap();
    std::fs::set_permissions(&store, std::fs::Permissions::from_mode(0o755)).unwrap();
    cache.save(&some_key("k"), &LoginToken::new(vault_token("x"), Timestamp::now(), 3600, true));
    assert!(!cache.path.exists());
}

#[test]
fn cache_is_not_listed_as_an_entry_of_the_file_store() {
    assert!(!cache::FILE_NAME.ends_with(".age"));
}

#[test]
fn cache_without_an_identity_keeps_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::new(&dir.path().join("store"), &dir.path().join("identity.txt"), &[]);
    cache.save(&some_key("k"), &LoginToken::new(vault_token("x"), Timestamp::now(), 3600, true));
    assert!(!cache.path.exists(), "no identity: no cache, and never plaintext");
    assert!(!dir.path().join("identity.txt").exists(), "no identity is made for a cache");
    assert_eq!(cache.load(&some_key("k"), Timestamp::now()), None);
}

#[test]
fn cache_of_another_identity_or_damaged_is_a_fresh_login() {
    let (_dir, cache) = home_with_identity();
    let now = Timestamp::now();
    cache.save(&some_key("k"), &LoginToken::new(vault_token("x"), now, 3600, true));
    let (_other, theirs) = home_with_identity();
    crate::fsutil::write_atomic(&theirs.path, &std::fs::read(&cache.path).unwrap()).unwrap();
    assert_eq!(theirs.load(&some_key("k"), now), None);
    crate::fsutil::write_atomic(&cache.path, b"age-encryption.org/v1\n-> garbage").unwrap();
    assert_eq!(cache.load(&some_key("k"), now), None);
}

#[test]
fn github_oidc_url_gets_the_audience_and_must_be_https_or_loopback() {
    let url = source::github_url(
        "https://pipelines.actions.githubusercontent.com/abc/idtoken?api-version=2.0",
        Some("https://bao.example.com"),
    )
    .unwrap();
    assert_eq!(
        url.as_str(),
        "https://pipelines.actions.githubusercontent.com/abc/idtoken?api-version=2.0&audience=https%3A%2F%2Fbao.example.com"
    );
    let plain = source::github_url("https://x.example/t", Some("a b&c")).unwrap();
    assert_eq!(plain.query(), Some("audience=a+b%26c"));
    let none = source::github_url("https://x.example/t?api-version=2.0", None).unwrap();
    assert_eq!(none.query(), Some("api-version=2.0"));
    assert!(source::github_url("http://127.0.0.1:9/t?x=1", Some("a")).is_ok());
    for bad in ["http://actions.example/t", "ftp://x/t", "not a url", "https://u:p@x.example/t"] {
        assert_eq!(source::github_url(bad, None).unwrap_err().exit_code(), 5, "{bad}");
    }
}

#[test]
fn jwt_source_prefers_file_then_env_then_github_actions() {
    let gh = env(&[(source::GITHUB_URL, "https://x.example/t?v=1"), (source::GITHUB_TOKEN, "rt")]);
    let file = VaultSettings { jwt_file: Some("/run/jwt".into()), ..jwt_cfg() };
    assert!(matches!(source::jwt_source(&file, &gh).unwrap(), JwtSource::File(_)));
    let var = VaultSettings { jwt_env: Some("CI_JOB_JWT".into()), ..jwt_cfg() };
    assert!(
        matches!(source::jwt_source(&var, &gh).unwrap(), JwtSource::Env(v) if v == "CI_JOB_JWT")
    );
    let aud = VaultSettings { audience: Some("bao".into()), ..jwt_cfg() };
    match source::jwt_source(&aud, &gh).unwrap() {
        JwtSource::GitHub(url) => assert_eq!(url.as_str(), "https://x.example/t?v=1&audience=bao"),
        other => panic!("{other:?}"),
    }
    // Only one of GitHub's two variables (no `id-token: write`), or none: no JWT, and why.
    let half = env(&[(source::GITHUB_URL, "https://x.example/t")]);
    let err = source::jwt_source(&jwt_cfg(), &half).unwrap_err();
    assert_eq!(err.exit_code(), 5);
    assert!(err.hint().unwrap().contains("id-token: write"), "{:?}", err.hint());
}

#[test]
fn jwt_from_env_is_trimmed_and_checked_without_echoing_it() {
    let http = client().http().clone();
    let t = Duration::from_secs(1);
    let from = JwtSource::Env("GL_TOKEN".into());
    let got = source::read_jwt(&from, &env(&[("GL_TOKEN", &format!(" {JWT}\n"))]), &http, t);
    assert_eq!(got.unwrap().as_str(), JWT);
    let err = source::read_jwt(&from, &env(&[]), &http, t).unwrap_err();
    assert!(err.to_string().contains("$GL_TOKEN") && err.exit_code() == 5, "{err}");
    let not_jwt = "M.V1.test-not-a-jwt-0123456789abcdef";
    let err = source::read_jwt(&from, &env(&[("GL_TOKEN", not_jwt)]), &http, t).unwrap_err();
    assert!(err.to_string().contains("does not hold a JWT"), "{err}");
    assert!(!err.to_string().contains("test-not-a-jwt"), "{err}");
}

#[cfg(unix)]
#[test]
fn secret_id_file_is_trimmed_and_strict_modes_refuse_an_open_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secret-id");
    let cfg = VaultSettings {
        auth: VaultAuth::Approle,
        role_id: Some("r".into()),
        secret_id_file: Some(path.clone()),
        ..VaultSettings::default()
    };
    write_mode(&path, &format!("{SECRET_ID}\n"), 0o600);
    assert_eq!(source::secret_id(&cfg).unwrap().as_str(), SECRET_ID);
    write_mode(&path, SECRET_ID, 0o644);
    let err = source::secret_id(&cfg).unwrap_err();
    let all = format!("{err} {}", err.hint().unwrap_or_default());
    assert_eq!(err.exit_code(), 5);
    assert!(all.contains("chmod 600"), "{all}");
    for bad in ["", "  \n", "two words"] {
        write_mode(&path, bad, 0o600);
        let err = source::secret_id(&cfg).unwrap_err();
        assert_eq!(err.exit_code(), 5, "{bad:?}: {err}");
    }
    write_mode(&path, &format!("{SECRET_ID} {SECRET_ID}"), 0o600);
    assert!(!source::secret_id(&cfg).unwrap_err().to_string().contains(SECRET_ID));
    let unset = VaultSettings { secret_id_file: None, ..cfg };
    assert_eq!(source::secret_id(&unset).unwrap_err().exit_code(), 2);
}

#[test]
fn refused_login_names_the_login_and_reasons_without_the_credentials() {
    for (method, secret) in [(VaultAuth::Approle, SECRET_ID), (VaultAuth::Jwt, JWT)] {
        // A server that quotes what it was sent, whole or in parts.
        let errors = vec![
            format!("invalid credential {secret}"),
            format!("error validating token: invalid subject (sub) claim in {JWT}"),
            format!("bad part {} of {}", secret.rsplit('.').next().unwrap(), &secret[..12]),
            "role \"ci\" could not be found".to_owned(),
        ];
        let err = refusal(method, "auth/m/login", 400, &errors, secret);
        let all = format!("{err} {}", err.hint().unwrap_or_default());
        assert_eq!(err.exit_code(), 5);
        assert!(all.contains("auth/m/login") && all.contains("HTTP 400"), "{all}");
        assert!(all.contains("could not be found"), "{all}");
        assert!(!all.contains(SECRET_ID) && !all.contains("c2lnbmF0dXJl"), "{all}");
        assert!(!all.contains("eyJzdWIi"), "{all}");
    }
    let err = refusal(VaultAuth::Jwt, "auth/jwt/login", 403, &[], JWT);
    assert!(err.to_string().contains("jwt login") && err.to_string().contains("no reason given"));
}

#[test]
fn mask_removes_jwt_shaped_words_and_the_secret() {
    assert_eq!(mask(&format!("bad ({JWT})"), "unrelated"), "bad <redacted jwt>");
    assert_eq!(mask("id abcd1234efgh and more", "abcd1234efgh"), "id <redacted> and more");
    assert_eq!(mask("starts (abcd1234…)", "abcd1234efgh"), "starts <redacted>");
    assert_eq!(mask("pin 4711 ok", "4711"), "pin <redacted> ok");
    assert_eq!(mask("plain words stay", "xyz"), "plain words stay");
}

fn reply(status: u16, body: &str) -> Reply {
    Reply { status, body: SecretBytes::new(body.as_bytes().to_vec()) }
}

#[test]
fn login_answer_gives_the_token_and_its_ttl() {
    let now = Timestamp::now();
    let ok = reply(
        200,
        r#"{"auth":{"client_token":"s.test-login-new","lease_duration":1200,"renewable":true,"policies":["r"]}}"#,
    );
    let t = answer(VaultAuth::Approle, "auth/approle/login", &ok, SECRET_ID, now).unwrap();
    assert_eq!((t.token.expose(), t.lease_secs, t.renewable), ("s.test-login-new", 1200, true));
    assert_eq!(t.expires_at, now + SignedDuration::from_secs(1200));
    for bad in [r#"{"auth":null}"#, r#"{"auth":{"client_token":"has space"}}"#, "not json"] {
        let err = answer(VaultAuth::Jwt, "auth/jwt/login", &reply(200, bad), JWT, now).unwrap_err();
        assert_eq!(err.exit_code(), 5, "{bad}");
    }
    let refused = reply(400, r#"{"errors":["invalid role or secret ID"]}"#);
    let err =
        answer(VaultAuth::Approle, "auth/approle/login", &refused, SECRET_ID, now).unwrap_err();
    assert!(err.to_string().contains("invalid role or secret ID"), "{err}");
}

/// A one-request HTTP server on loopback answering `body`; hands back the request it got.
fn serve_once(status: u16, body: &'static str) -> (String, std::thread::JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = format!("http://{}", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut head = String::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
                break;
            }
            head.push_str(&line);
        }
        let mut out = stream;
        write!(
            out,
            "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        head
    });
    (addr, handle)
}

#[test]
fn github_actions_oidc_token_is_fetched_with_the_bearer_and_audience() {
    let (addr, server) = serve_once(
        200,
        concat!(
            r#"{"count":1,"value":""#,
            "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOmEvYiJ9.c2lnbmF0dXJlLXNlY3JldC1wYXJ0",
            r#""}"#
        ),
    );
    let url = source::github_url(&format!("{addr}/idtoken?api-version=2.0"), Some("bao")).unwrap();
    let vars = env(&[(source::GITHUB_TOKEN, "request-token-test")]);
    let http = client().http().clone();
    let jwt =
        source::read_jwt(&JwtSource::GitHub(url), &vars, &http, Duration::from_secs(5)).unwrap();
    assert_eq!(jwt.as_str(), JWT);
    let head = server.join().unwrap();
    assert!(head.starts_with("GET /idtoken?api-version=2.0&audience=bao HTTP/1.1"), "{head}");
    assert!(
        head.to_ascii_lowercase().contains("authorization: bearer request-token-test"),
        "{head}"
    );
}

#[test]
fn github_actions_refusal_says_so_without_the_request_token() {
    let (addr, server) = serve_once(403, r#"{"message":"request-token-test is bad"}"#);
    let url = source::github_url(&format!("{addr}/idtoken?api-version=2.0"), None).unwrap();
    let vars = env(&[(source::GITHUB_TOKEN, "request-token-test")]);
    let http = client().http().clone();
    let err = source::read_jwt(&JwtSource::GitHub(url), &vars, &http, Duration::from_secs(5))
        .unwrap_err();
    server.join().unwrap();
    let all = format!("{err} {}", err.hint().unwrap_or_default());
    assert_eq!(err.exit_code(), 5);
    assert!(all.contains("HTTP 403") && all.contains("id-token: write"), "{all}");
    assert!(!all.contains("request-token-test"), "{all}");
}

/// A home with an identity and approle settings for a server that is never reached.
fn approle_home() -> (tempfile::TempDir, Login, Client, Cache) {
    let dir = tempfile::tempdir().unwrap();
    let paths = Paths::under(dir.path().to_owned());
    crate::identity::generate_default(&paths.default_identity()).unwrap();
    let cfg = VaultSettings {
        auth: VaultAuth::Approle,
        role_id: Some("role-test".into()),
        addrs: vec!["http://127.0.0.1:1".into()],
        ..VaultSettings::default()
    };
    let settings = Settings { vault: Some(cfg), ..Settings::default() };
    let login = Login::new(&settings, &paths).with_env(env(&[]));
    let cache = Cache::new(&paths.store_dir(), &paths.default_identity(), &[]);
    (dir, login, client(), cache)
}

#[test]
fn token_comes_from_the_cache_and_a_refused_one_is_dropped_for_a_fresh_login() {
    let (_dir, login, client, cache) = approle_home();
    let key = Key::new(&login.cfg, client.target(), "");
    cache.save(&key, &LoginToken::new(vault_token("kept"), Timestamp::now(), 3600, true));
    // No request: the server address is closed, the cached token answers.
    assert_eq!(login.token(&client).unwrap(), vault_token("kept"));
    assert_eq!(login.token(&client).unwrap(), vault_token("kept"));
    assert!(login.refused(), "a cached token that the server refuses: log in again");
    assert!(!cache.path.exists(), "the refused token is not kept");
    assert!(!login.refused(), "nothing in use any more");
    // The fresh login needs the secret id, which is not configured: that error, not a stale token.
    assert_eq!(login.token(&client).unwrap_err().exit_code(), 2);
}

#[test]
fn logout_never_sends_a_token_to_a_server_it_was_not_made_for() {
    let (_dir, login, client, cache) = approle_home();
    cache.save(
        &some_key("other server"),
        &LoginToken::new(vault_token("x"), Timestamp::now(), 3600, true),
    );
    let said = login.logout(&client).unwrap();
    assert!(said.contains("not revoked") && said.contains("deleted"), "{said}");
    assert!(!cache.path.exists());
    assert_eq!(login.logout(&client).unwrap(), "no vault login was cached");
    cache.save(&some_key("k"), &LoginToken::new(vault_token("y"), Timestamp::now(), 3600, true));
    assert!(login.forget().unwrap());
    assert!(!cache.path.exists());
}

#[test]
fn logout_of_an_expired_or_unreadable_cache_deletes_it_without_a_request() {
    let (_dir, login, client, cache) = approle_home();
    let key = Key::new(&login.cfg, client.target(), "");
    let old = Timestamp::now() - SignedDuration::from_secs(7200);
    cache.save(&key, &LoginToken::new(vault_token("old"), old, 3600, true));
    let said = login.logout(&client).unwrap();
    assert!(said.contains("had expired"), "{said}");
    crate::fsutil::write_atomic(&cache.path, b"not an age file").unwrap();
    let said = login.logout(&client).unwrap();
    assert!(said.contains("nothing was revoked"), "{said}");
    assert!(!cache.path.exists());
}

#[test]
fn a_jwt_login_never_reuses_the_cached_token_of_another_subject() {
    // Same runner, same settings, two repositories' jobs: JWTs with different subjects.
    let repo_a = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJodHRwczovL2doIiwic3ViIjoicmVwbzphL2I6cmVmOnJlZnMvaGVhZHMvbWFpbiIsImF1ZCI6WyJiYW8iXSwianRpIjoiMSJ9.c2ln";
    let dir = tempfile::tempdir().unwrap();
    let paths = Paths::under(dir.path().to_owned());
    crate::identity::generate_default(&paths.default_identity()).unwrap();
    let cfg = VaultSettings { jwt_env: Some("JOB_JWT".into()), ..jwt_cfg() };
    let settings = Settings { vault: Some(cfg.clone()), ..Settings::default() };
    let client =
        Client::new(target("http://127.0.0.1:1", None), Duration::from_millis(300)).unwrap();
    let cache = Cache::new(&paths.store_dir(), &paths.default_identity(), &[]);
    let key_a = Key::new(&cfg, client.target(), &jwt_who(repo_a));
    cache.save(&key_a, &LoginToken::new(vault_token("repo-a"), Timestamp::now(), 3600, true));

    let job_a = Login::new(&settings, &paths).with_env(env(&[("JOB_JWT", repo_a)]));
    assert_eq!(job_a.token(&client).unwrap(), vault_token("repo-a"), "same subject: cached");
    let job_b = Login::new(&settings, &paths).with_env(env(&[("JOB_JWT", JWT)]));
    // Another subject logs in itself (the server is not there: that error, not A's token).
    let err = job_b.token(&client).unwrap_err();
    assert_eq!(err.exit_code(), 5, "{err}");
}
