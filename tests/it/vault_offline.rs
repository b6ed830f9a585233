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
