//! The vault store without a server: when it takes part, bad settings, the token file's strict
//! modes. (Tests against a real OpenBao are in `vault/`.)

use crate::util::{TOKEN, TestEnv, text};

/// An address where nothing listens (bound, then closed).
fn dead_addr() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    format!("http://{}", l.local_addr().expect("addr"))
}

fn write_settings(env: &TestEnv, text: &str) {
    std::fs::write(env.cred_home().join("config.toml"), text).expect("settings");
}

#[test]
fn bao_addr_alone_does_not_send_tokens_to_the_vault() {
    let env = TestEnv::new();
    let out = env
        .cmd()
        .args(["store", "-p", "prod"])
        .env("BAO_ADDR", dead_addr())
        .env("BAO_TOKEN", "s.offline-test-token")
        .write_stdin(format!("{TOKEN}\n"))
        .assert()
        .success();
    let err = text(&out.get_output().stderr);
    assert!(err.contains("in the file store"), "{err}");
    assert!(!err.contains("vault"), "{err}");
    let listed = env.cmd().args(["list"]).env("BAO_ADDR", dead_addr()).assert().success();
    let all = format!("{}{}", text(&listed.get_output().stdout), text(&listed.get_output().stderr));
    assert!(!all.contains("vault"), "{all}");
}

#[test]
fn unknown_vault_keys_and_remote_plain_http_are_usage_errors() {
    for settings in [
        "[vault]\naddr = \"https://bao.example:8200\"\ncolour = \"red\"\n",
        "[vault]\naddr = \"http://bao.example:8200\"\n",
        "[vault]\nprefix = \"../sys\"\n",
    ] {
        let env = TestEnv::new();
        write_settings(&env, settings);
        env.cmd().args(["get", "-p", "prod"]).assert().code(2);
    }
}

#[test]
fn a_dead_vault_named_with_store_is_unavailable_and_names_the_address() {
    let env = TestEnv::new();
    let addr = dead_addr();
    write_settings(&env, "[vault]\nvault_timeout = \"1s\"\n");
    let out = env
        .cmd()
        .args(["get", "-p", "prod", "--store", "vault"])
        .env("BAO_ADDR", &addr)
        .env("BAO_TOKEN", "s.offline-test-token")
        .assert()
        .code(5);
    let err = text(&out.get_output().stderr);
    assert!(err.contains(&addr), "{err}");
    assert!(!err.contains("s.offline-test-token"), "{err}");
}

#[cfg(unix)]
#[test]
fn a_vault_token_file_others_can_read_is_refused_with_the_chmod_and_not_sent() {
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::new();
    let token_file = env.path().join("home").join(".vault-token");
    std::fs::write(&token_file, "s.too-open-vault-token").expect("token file");
    std::fs::set_permissions(&token_file, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let out = env
        .cmd()
        .args(["get", "-p", "prod", "--store", "vault"])
        .env("BAO_ADDR", dead_addr())
        .assert()
        .code(5);
    let err = text(&out.get_output().stderr);
    assert!(err.contains("chmod 600") && err.contains(".vault-token"), "{err}");
    assert!(!err.contains("s.too-open-vault-token"), "{err}");
}

/// A loopback listener that never answers; `contacted` says whether anyone connected.
struct Recorder(std::net::TcpListener);

impl Recorder {
    fn new() -> Recorder {
        Recorder(std::net::TcpListener::bind("127.0.0.1:0").expect("bind"))
    }

    fn addr(&self) -> String {
        format!("http://{}", self.0.local_addr().expect("addr"))
    }

    /// A connection waits in the backlog until accepted, so one made during the run is seen.
    fn contacted(&self) -> bool {
        self.0.set_nonblocking(true).expect("nonblocking");
        self.0.accept().is_ok()
    }
}

#[test]
fn an_env_token_answers_without_contacting_a_configured_vault() {
    for var in ["INFLUXCTL_CRED_TOKEN_PROD", "INFLUXCTL_CRED_TOKEN"] {
        let env = TestEnv::new();
        let vault = Recorder::new();
        write_settings(
            &env,
            &format!("[vault]\naddr = \"{}\"\nvault_timeout = \"2s\"\n", vault.addr()),
        );
        let out = env
            .cmd()
            .args(["get", "-p", "prod"])
            .env("BAO_TOKEN", "s.offline-test-token")
            .env(var, TOKEN)
            .assert()
            .success();
        assert_eq!(text(&out.get_output().stdout).trim(), TOKEN);
        assert!(!vault.contacted(), "{var}: the vault was contacted");
    }
}

/// A plain-http server on loopback that answers every request 404 `{"errors":[]}` (a KV v2
/// read of a secret that does not exist), until the test binary ends.
fn answering_404() -> String {
    use std::io::{BufRead, BufReader, Write};
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = format!("http://{}", l.local_addr().expect("addr"));
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(mut conn) = conn else { return };
            let mut reader = BufReader::new(conn.try_clone().expect("clone"));
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 0 && line != "\r\n" {
                line.clear();
            }
            let body = br#"{"errors":[]}"#;
            let _ = write!(
                conn,
                "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = conn.write_all(body);
        }
    });
    addr
}

#[test]
fn a_plain_http_vault_needs_no_system_ca_bundle() {
    let env = TestEnv::new();
    write_settings(
        &env,
        &format!("[vault]\naddr = \"{}\"\nvault_timeout = \"2s\"\n", answering_404()),
    );
    // With these, loading the system's roots fails ("no CA certificates were loaded"): a
    // client that still loads them for an http:// address cannot even ask.
    let out = env
        .cmd()
        .args(["get", "-p", "prod", "--store", "vault"])
        .env("BAO_TOKEN", "s.offline-test-token")
        .env("SSL_CERT_FILE", env.path().join("no-such-bundle.pem"))
        .env("SSL_CERT_DIR", env.path().join("no-such-dir"))
        .assert()
        .code(3);
    let err = text(&out.get_output().stderr);
    assert!(err.contains("not-found"), "{err}");
}

#[test]
fn list_of_an_unconfigured_vault_store_is_one_error_saying_how_to_configure_it() {
    let env = TestEnv::new();
    for args in
        [&["--store", "vault", "list"][..], &["list", "--store", "vault", "--format", "json"]]
    {
        let out = env.cmd().args(args).env("BAO_TOKEN", "s.offline-test-token").assert().code(5);
        let (stdout, err) = (text(&out.get_output().stdout), text(&out.get_output().stderr));
        assert_eq!(stdout, "", "{args:?}: a table of nothing: {stdout}");
        assert!(!err.contains("warning"), "{args:?}: {err}");
        assert!(err.contains("not configured") && err.contains("store-unavailable"), "{err}");
        assert!(err.contains("[vault]") && err.contains("addr = "), "says how: {err}");
    }
}

#[test]
fn a_lone_vault_address_that_refuses_is_an_answer_not_a_wait() {
    let env = TestEnv::new();
    let addr = dead_addr();
    write_settings(&env, &format!("[vault]\naddr = \"{addr}\"\nvault_timeout = \"60s\"\n"));
    for args in [&["get", "-p", "prod", "--store", "vault"][..], &["list", "--store", "vault"]] {
        let start = std::time::Instant::now();
        let out = env.cmd().args(args).env("BAO_TOKEN", "s.offline-test-token").assert().code(5);
        let took = start.elapsed();
        let err = text(&out.get_output().stderr);
        // A bound for correctness (it did not wait out the 60 s), not a benchmark.
        assert!(took < std::time::Duration::from_secs(20), "{args:?} waited {took:?}: {err}");
        assert!(err.contains(&addr) && err.contains("refused the connection"), "{err}");
    }
}
