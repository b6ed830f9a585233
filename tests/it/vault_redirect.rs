//! Where the vault store's requests may go, against small servers on loopback: a redirect to
//! another port of the configured host is not followed (that server never sees the vault
//! token nor what is written), and a plain-http address must be a literal loopback address or
//! exactly `localhost` (docs/vault.md, "Addresses and redirects").

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use crate::util::{TOKEN, TestEnv, text};

const VAULT_TOKEN: &str = "s.redirect-test-vault-token";

/// A server on 127.0.0.1 that records every request (head and body) and answers it with
/// `answer(request line)`: (status, extra header lines, body).
pub struct Recording {
    pub addr: String,
    pub port: u16,
    seen: Arc<Mutex<Vec<String>>>,
}

pub fn recording(answer: impl Fn(&str) -> (u16, String, String) + Send + 'static) -> Recording {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(mut conn) = conn else { return };
            let mut reader = BufReader::new(conn.try_clone().expect("clone"));
            let (mut head, mut length) = (String::new(), 0usize);
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                head.push_str(&line);
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let line = head.lines().next().unwrap_or("").to_owned();
            log.lock().unwrap().push(format!("{head}\n{}", text(&body)));
            let (status, headers, body) = answer(&line);
            let _ = write!(
                conn,
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n{headers}\r\n{body}",
                body.len()
            );
        }
    });
    Recording { addr: format!("http://127.0.0.1:{port}"), port, seen }
}

impl Recording {
    pub fn seen(&self) -> String {
        self.seen.lock().unwrap().join("\n---\n")
    }
}

#[test]
fn a_redirect_to_another_port_of_the_same_host_is_never_followed() {
    // What a server that wants our secrets answers: "nothing stored yet" to a read, "written"
    // to a write, so that a client that follows it hands over the token being stored.
    let hostile = recording(|line| match line.split(' ').next().unwrap_or("") {
        "GET" => (404, String::new(), r#"{"errors":[]}"#.into()),
        _ => (
            200,
            String::new(),
            r#"{"data":{"version":1,"created_time":"2026-12-01T00:00:00Z"}}"#.into(),
        ),
    });
    let port = hostile.port;
    // The configured server redirects every request there: same scheme, same host, another port.
    let configured = recording(move |_| {
        (
            307,
            format!("Location: http://127.0.0.1:{port}/v1/secret/data/influxctl-cred/prod\r\n"),
            String::new(),
        )
    });
    let env = TestEnv::new();
    std::fs::write(
        env.cred_home().join("config.toml"),
        format!("[vault]\naddr = \"{}\"\nvault_timeout = \"1s\"\n", configured.addr),
    )
    .expect("settings");
    let out = env
        .cmd()
        .args(["store", "-p", "prod", "--store", "vault"])
        .env("BAO_TOKEN", VAULT_TOKEN)
        .write_stdin(format!("{TOKEN}\n"))
        .output()
        .expect("run");
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{err}");
    assert!(err.contains("not followed"), "says why: {err}");
    assert!(err.contains(&format!("127.0.0.1:{port}")), "names where it pointed: {err}");
    assert!(!configured.seen().is_empty(), "the configured server was asked");
    let got = hostile.seen();
    assert!(!got.contains(VAULT_TOKEN), "the other port got the vault token: {got}");
    assert!(!got.to_ascii_lowercase().contains("x-vault-token"), "{got}");
    assert!(!got.contains(TOKEN), "the other port got the token being stored: {got}");
    assert!(got.is_empty(), "the other port was contacted at all: {got}");
}

#[test]
fn plain_http_to_a_name_that_goes_to_dns_is_a_usage_error_and_nothing_is_sent() {
    let listener = recording(|_| (404, String::new(), r#"{"errors":[]}"#.into()));
    for host in ["localhost.", "localhost.localdomain"] {
        let env = TestEnv::new();
        let addr = format!("http://{host}:{}", listener.port);
        std::fs::write(
            env.cred_home().join("config.toml"),
            format!("[vault]\naddr = \"{addr}\"\nvault_timeout = \"1s\"\n"),
        )
        .expect("settings");
        for (setting, args) in
            [(None, vec!["get", "-p", "prod", "--store", "vault"]), (Some(&addr), vec!["list"])]
        {
            let mut c = env.cmd();
            c.args(&args).env("BAO_TOKEN", VAULT_TOKEN);
            if let Some(a) = setting {
                // The same refusal for the environment's address.
                c.env("BAO_ADDR", a);
            }
            let out = c.output().expect("run");
            let err = text(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{host} {args:?}: {err}");
            assert!(err.contains("not a loopback address"), "{host}: {err}");
            assert!(!err.contains(VAULT_TOKEN), "{err}");
        }
    }
    assert_eq!(listener.seen(), "", "a request went out");
}
