//! The client against scripted HTTP servers on loopback: retries across addresses, redirects,
//! the size cap. (The real OpenBao tests are in tests/it.)

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::*;

/// One scripted answer: status, extra header lines, body.
#[derive(Clone)]
struct Answer(u16, String, Vec<u8>);

/// A server on 127.0.0.1 that gives `answers` in turn (the last one again and again) and
/// records each request's head.
struct Scripted {
    url: Url,
    seen: Arc<Mutex<Vec<String>>>,
}

fn serve(answers: Vec<Answer>) -> Scripted {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    std::thread::spawn(move || {
        for (i, conn) in listener.incoming().enumerate() {
            let Ok(mut conn) = conn else { return };
            let mut reader = BufReader::new(conn.try_clone().unwrap());
            let mut head = String::new();
            let mut length = 0usize;
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
            let _ = std::io::Read::read_exact(&mut reader, &mut body);
            log.lock().unwrap().push(head);
            let Answer(status, headers, body) = answers[i.min(answers.len() - 1)].clone();
            let _ = write!(
                conn,
                "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n{headers}\r\n",
                body.len()
            );
            let _ = conn.write_all(&body);
        }
    });
    Scripted { url, seen }
}

fn client(addrs: &[&Url], timeout: Duration) -> Client {
    let target = VaultTarget {
        addrs: addrs.iter().map(|u| (*u).clone()).collect(),
        addrs_from: "[vault] addr",
        namespace: Some("team-a".into()),
        ca: None,
    };
    Client::new(target, timeout).unwrap()
}

fn token() -> Token {
    Token::new("s.test-vault-token".into()).unwrap()
}

#[test]
fn a_sealed_address_is_passed_over_for_the_next_one() {
    let sealed =
        serve(vec![Answer(503, String::new(), br#"{"errors":["Vault is sealed"]}"#.to_vec())]);
    let good = serve(vec![Answer(200, String::new(), br#"{"data":{}}"#.to_vec())]);
    let c = client(&[&sealed.url, &good.url], Duration::from_secs(5));
    let reply = c.get_raw("secret/data/influxctl-cred/prod", Some(&token())).unwrap();
    assert_eq!(reply.status, 200);
    let head = good.seen.lock().unwrap().join("");
    assert!(head.starts_with("GET /v1/secret/data/influxctl-cred/prod "), "{head}");
    assert!(head.to_ascii_lowercase().contains("x-vault-token: s.test-vault-token"), "{head}");
    assert!(head.to_ascii_lowercase().contains("x-vault-namespace: team-a"), "{head}");
}

#[test]
fn a_standby_redirect_is_followed_to_a_configured_address_with_method_and_body() {
    let active = serve(vec![Answer(200, String::new(), br#"{"data":{"version":1}}"#.to_vec())]);
    let loc = format!("Location: {}v1/secret/data/x\r\n", active.url);
    let standby = serve(vec![Answer(307, loc, Vec::new())]);
    let c = client(&[&standby.url, &active.url], Duration::from_secs(5));
    let reply = c.post_raw("secret/data/x", br#"{"data":{}}"#, Some(&token())).unwrap();
    assert_eq!(reply.status, 200);
    let head = active.seen.lock().unwrap().join("");
    assert!(head.starts_with("POST /v1/secret/data/x "), "{head}");
    assert!(head.to_ascii_lowercase().contains("content-length: 11"), "{head}");
}

#[test]
fn a_redirect_to_a_stranger_is_never_followed_and_ends_unavailable() {
    let stranger = TcpListener::bind("[::1]:0").or_else(|_| TcpListener::bind("127.0.0.2:0"));
    let Ok(stranger) = stranger else { return };
    stranger.set_nonblocking(true).unwrap();
    let loc = format!("Location: http://{}/v1/secret/data/x\r\n", stranger.local_addr().unwrap());
    let server = serve(vec![Answer(307, loc, Vec::new())]);
    let c = client(&[&server.url], Duration::from_millis(600));
    let err = c.get_raw("secret/data/x", Some(&token())).unwrap_err();
    assert_eq!(err.exit_code(), 5);
    assert!(err.to_string().contains("not followed"), "{err}");
    assert!(stranger.accept().is_err(), "the stranger was contacted");
}

#[test]
fn an_answer_over_one_mib_is_refused_at_once() {
    let big = serve(vec![Answer(200, String::new(), vec![b' '; (1 << 20) + 10])]);
    let c = client(&[&big.url], Duration::from_secs(30));
    let err = c.get_raw("secret/data/x", Some(&token())).unwrap_err();
    assert_eq!(err.exit_code(), 5);
    assert!(err.to_string().contains("more than 1024 KiB"), "{err}");
    assert_eq!(big.seen.lock().unwrap().len(), 1, "not retried");
}

#[test]
fn dead_addresses_give_store_unavailable_naming_each() {
    // Bound, then closed: nothing listens there.
    let dead = |_| {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        Url::parse(&format!("http://{}/", l.local_addr().unwrap())).unwrap()
    };
    let (a, b) = (dead(1), dead(2));
    let c = client(&[&a, &b], Duration::from_millis(500));
    let err = c.get_raw("sys/health", None).unwrap_err();
    assert_eq!(err.exit_code(), 5);
    let text = err.to_string();
    for u in [&a, &b] {
        assert!(text.contains(&origin(u)), "{text}");
    }
    assert!(!text.contains("s.test-vault-token"));
}

#[test]
fn the_upgrading_answer_is_retried_until_the_mount_answers() {
    let upgrading = br#"{"errors":["Upgrading from non-versioned to versioned data. This backend will be unavailable for a brief period and will resume service shortly."]}"#;
    let s = serve(vec![
        Answer(400, String::new(), upgrading.to_vec()),
        Answer(200, String::new(), br#"{"data":{}}"#.to_vec()),
    ]);
    let c = client(&[&s.url], Duration::from_secs(5));
    assert_eq!(c.get_raw("secret/data/x", Some(&token())).unwrap().status, 200);
    assert_eq!(s.seen.lock().unwrap().len(), 2);
}

#[test]
fn status_endpoints_go_to_the_root_namespace_and_the_rest_to_the_configured_one() {
    let s = serve(vec![Answer(200, String::new(), b"{}".to_vec())]);
    let c = client(&[&s.url], Duration::from_secs(5));
    c.get_raw("sys/health?standbyok=true", None).unwrap();
    c.get_raw("auth/token/lookup-self", Some(&token())).unwrap();
    let seen = s.seen.lock().unwrap();
    assert!(!seen[0].to_ascii_lowercase().contains("x-vault-namespace"), "{}", seen[0]);
    assert!(seen[1].to_ascii_lowercase().contains("x-vault-namespace: team-a"), "{}", seen[1]);
}

#[test]
fn every_address_sealed_is_reported_as_sealed_with_the_unseal_hint() {
    let kv = serve(vec![Answer(503, String::new(), br#"{"errors":["Vault is sealed"]}"#.to_vec())]);
    let health = serve(vec![Answer(
        503,
        String::new(),
        br#"{"initialized":true,"sealed":true,"standby":true}"#.to_vec(),
    )]);
    let c = client(&[&kv.url, &health.url], Duration::from_millis(400));
    let err = c.get_raw("secret/data/x", Some(&token())).unwrap_err();
    assert_eq!(err.exit_code(), 5);
    let text = err.to_string();
    assert!(text.contains("every vault server is sealed"), "{text}");
    assert!(!text.contains("no answer") && !text.contains("answered within"), "{text}");
    for u in [&kv.url, &health.url] {
        assert!(text.contains(&origin(u)), "{text}");
    }
    assert!(err.hint().is_some_and(|h| h.contains("bao operator unseal")), "{:?}", err.hint());
}

#[test]
fn one_sealed_and_one_dead_address_is_not_called_sealed() {
    let sealed =
        serve(vec![Answer(503, String::new(), br#"{"errors":["Vault is sealed"]}"#.to_vec())]);
    let dead = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        Url::parse(&format!("http://{}/", l.local_addr().unwrap())).unwrap()
    };
    let c = client(&[&sealed.url, &dead], Duration::from_millis(400));
    let text = c.get_raw("secret/data/x", Some(&token())).unwrap_err().to_string();
    assert!(text.contains("no vault server answered"), "{text}");
    assert!(text.contains(&format!("{}: sealed", origin(&sealed.url))), "{text}");
}

#[test]
fn a_lone_address_that_refuses_is_an_answer_at_once() {
    let dead = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        Url::parse(&format!("http://{}/", l.local_addr().unwrap())).unwrap()
    };
    let c = client(&[&dead], Duration::from_secs(60));
    let start = std::time::Instant::now();
    let err = c.get_raw("secret/data/x", Some(&token())).unwrap_err();
    assert!(start.elapsed() < Duration::from_secs(20), "waited {:?}", start.elapsed());
    assert_eq!(err.exit_code(), 5);
    assert!(err.to_string().contains("refused the connection"), "{err}");
    assert!(err.to_string().contains(&origin(&dead)), "{err}");
}

#[test]
fn a_redirect_to_a_dead_address_is_reported_as_such_under_the_one_that_redirected() {
    let dead = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        Url::parse(&format!("http://{}/", l.local_addr().unwrap())).unwrap()
    };
    let loc = format!("Location: {}v1/secret/data/x\r\n", dead);
    let standby = serve(vec![Answer(307, loc, Vec::new())]);
    let c = client(&[&dead, &standby.url], Duration::from_millis(500));
    let text = c.get_raw("secret/data/x", Some(&token())).unwrap_err().to_string();
    let expected = format!(
        "{}: 307 redirect to {}, which gave no answer:",
        origin(&standby.url),
        origin(&dead)
    );
    assert!(text.contains(&expected), "{text}");
    assert!(standby.seen.lock().unwrap().len() > 1, "retried until the timeout");
}
