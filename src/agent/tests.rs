use std::io::{Cursor, Read};
use std::os::unix::fs::PermissionsExt;

use std::path::Path;

use super::*;

fn chmod(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn runtime_dir_missing_is_no_agent_and_a_private_one_passes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    assert!(!check_runtime_dir(&dir).unwrap());
    std::fs::create_dir(&dir).unwrap();
    chmod(&dir, 0o700);
    assert!(check_runtime_dir(&dir).unwrap());
}

#[test]
fn runtime_dir_open_to_others_or_a_symlink_is_refused_with_the_fix() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    std::fs::create_dir(&dir).unwrap();
    for mode in [0o755, 0o710, 0o701] {
        chmod(&dir, mode);
        let e = check_runtime_dir(&dir).unwrap_err().to_string();
        assert!(e.contains("open to others") && e.contains("chmod 700"), "{mode:o}: {e}");
    }
    chmod(&dir, 0o700);
    let link = tmp.path().join("link");
    std::os::unix::fs::symlink(&dir, &link).unwrap();
    let e = check_runtime_dir(&link).unwrap_err().to_string();
    assert!(e.contains("not a folder"), "{e}");
}

#[test]
fn runtime_dir_of_another_user_is_refused() {
    if peer::own_uid() != 0 {
        eprintln!("skipped: needs root to give a folder to another uid");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    std::fs::create_dir(&dir).unwrap();
    chmod(&dir, 0o700);
    std::os::unix::fs::chown(&dir, Some(65534), Some(65534)).unwrap();
    let e = check_runtime_dir(&dir).unwrap_err().to_string();
    assert!(e.contains("belongs to uid 65534"), "{e}");
}

#[test]
fn runtime_dir_follows_the_home_then_xdg() {
    // Only the shape: the process environment is shared by the test threads.
    let dir = runtime_dir().unwrap();
    assert!(dir.is_absolute());
    assert_eq!(socket_path().unwrap(), dir.join(SOCKET));
}

#[test]
fn header_is_read_to_the_newline_and_capped() {
    let mut r = Cursor::new(b"{\"v\":1}\nSECRET".to_vec());
    assert_eq!(read_header(&mut r).unwrap(), b"{\"v\":1}");
    let mut rest = Vec::new();
    r.read_to_end(&mut rest).unwrap();
    assert_eq!(rest, b"SECRET", "nothing after the header was consumed");
    let long = vec![b'a'; MAX_HEADER + 10];
    assert!(read_header(&mut Cursor::new(long)).is_err());
    assert!(read_header(&mut Cursor::new(b"no newline".to_vec())).is_err());
}

#[test]
fn payload_is_capped_and_must_be_complete() {
    assert!(read_payload(&mut Cursor::new(vec![0u8; 10]), MAX_PAYLOAD + 1).is_err());
    assert!(read_payload(&mut Cursor::new(vec![0u8; 10]), 11).is_err());
    assert_eq!(&*read_payload(&mut Cursor::new(vec![7u8; 10]), 10).unwrap(), &[7u8; 10]);
}

#[test]
fn requests_parse_strictly() {
    let ok: Request = serde_json::from_slice(br#"{"v":1,"op":"decrypt","len":3}"#).unwrap();
    assert_eq!((ok.op, ok.len), (Op::Decrypt, 3));
    let put: Request =
        serde_json::from_slice(br#"{"v":1,"op":"login-put","len":2,"key":"ab"}"#).unwrap();
    assert_eq!((put.op, put.key.as_deref()), (Op::LoginPut, Some("ab")));
    for (op, name) in
        [(Op::LoginGet, "login-get"), (Op::LoginDrop, "login-drop"), (Op::Logins, "logins")]
    {
        let req = Request { v: 1, op, len: 0, ttl_secs: None, key: None };
        assert_eq!(
            serde_json::to_string(&req).unwrap(),
            format!(r#"{{"v":1,"op":"{name}","len":0}}"#)
        );
    }
    for bad in [&br#"{"v":1,"op":"export"}"#[..], br#"{"v":1,"op":"status","x":1}"#, b"nonsense"] {
        assert!(serde_json::from_slice::<Request>(bad).is_err());
    }
}

#[test]
fn a_message_is_its_header_line_then_the_payload() {
    let mut out = Vec::new();
    let r = Response { ok: true, len: 3, ..Response::default() };
    write_message(&mut out, &r, b"abc").unwrap();
    let mut c = Cursor::new(out);
    let head: Response = serde_json::from_slice(&read_header(&mut c).unwrap()).unwrap();
    assert!(head.ok && head.len == 3);
    assert_eq!(&*read_payload(&mut c, head.len).unwrap(), b"abc");
}

#[test]
fn peer_uid_of_our_own_socket_pair_is_ours() {
    let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
    assert_eq!(peer::peer_uid(&a).unwrap(), peer::own_uid());
}

#[test]
fn client_sees_no_agent_in_a_missing_or_socketless_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    assert!(client::status_at(&dir.join(SOCKET)).is_none());
    std::fs::create_dir(&dir).unwrap();
    chmod(&dir, 0o700);
    assert!(client::status_at(&dir.join(SOCKET)).is_none());
    // A plain file where the socket should be is not an agent.
    std::fs::write(dir.join(SOCKET), b"").unwrap();
    assert!(client::status_at(&dir.join(SOCKET)).is_none());
}

/// The properties of fuzz/fuzz_targets/agent_message.rs, on its seeds and random bytes.
fn message_properties(data: &[u8]) {
    let mut c = Cursor::new(data);
    if let Ok((req, payload)) = read_request(&mut c) {
        assert_eq!(payload.len(), req.len);
        assert!(req.len <= MAX_PAYLOAD);
        let newline = data.iter().position(|&b| b == b'\n').unwrap();
        assert!(newline <= MAX_HEADER);
        assert_eq!(c.position() as usize, newline + 1 + req.len);
    }
    match read_response(&mut Cursor::new(data)) {
        Ok((resp, body)) => assert!(resp.ok && body.len() == resp.len),
        Err(why) => assert!(why.len() < MAX_HEADER + 64),
    }
}

#[test]
fn wire_format_properties_hold_on_the_fuzz_seeds() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/agent_message");
    let mut seen = 0;
    for item in std::fs::read_dir(dir).unwrap() {
        let bytes = std::fs::read(item.unwrap().path()).unwrap();
        message_properties(&bytes);
        for cut in 0..bytes.len() {
            message_properties(&bytes[..cut]);
        }
        seen += 1;
    }
    assert!(seen >= 5);
    let decrypt = b"{\"v\":1,\"op\":\"decrypt\",\"len\":5}\nabcdeXYZ";
    let (req, payload) = read_request(&mut Cursor::new(&decrypt[..])).unwrap();
    assert_eq!((req.op, &payload[..]), (Op::Decrypt, &b"abcde"[..]));
    let huge = format!("{{\"v\":1,\"op\":\"add\",\"len\":{}}}\n", MAX_PAYLOAD + 1);
    assert_eq!(
        read_request(&mut Cursor::new(huge.as_bytes())).unwrap_err(),
        Some("payload too large or cut short")
    );
    let v2 = b"{\"v\":2,\"op\":\"lock\"}\n";
    assert_eq!(read_request(&mut Cursor::new(&v2[..])).unwrap_err(), Some("unsupported version"));
    let refused = b"{\"ok\":false,\"error\":\"no-match\"}\n";
    assert_eq!(read_response(&mut Cursor::new(&refused[..])).unwrap_err(), "no-match");
}

proptest::proptest! {
    #[test]
    fn wire_format_properties_hold_on_random_bytes(data in proptest::collection::vec(proptest::num::u8::ANY, 0..256)) {
        message_properties(&data);
    }
}

/// A connection for [`server::Agent::answer`]: reads the request bytes, collects the answer.
struct Conn {
    input: Cursor<Vec<u8>>,
    output: Vec<u8>,
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.input.read(buf)
    }
}

impl std::io::Write for Conn {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.output.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Sends one request (header JSON and payload) to `agent`; the answer's header and payload.
fn ask(agent: &server::Agent, header: &str, payload: &[u8]) -> (Response, Vec<u8>) {
    let mut input = header.as_bytes().to_vec();
    input.push(b'\n');
    input.extend_from_slice(payload);
    let mut conn = Conn { input: Cursor::new(input), output: Vec::new() };
    assert!(!agent.answer(&mut conn), "{header}: the agent would stop");
    let mut out = Cursor::new(conn.output);
    let resp: Response = serde_json::from_slice(&read_header(&mut out).unwrap()).unwrap();
    let mut rest = Vec::new();
    out.read_to_end(&mut rest).unwrap();
    assert_eq!(rest.len(), resp.len);
    (resp, rest)
}

fn options() -> server::Options {
    server::Options { ttl: Duration::from_secs(3600), idle: Duration::from_secs(600) }
}

fn a_key() -> (String, String) {
    let key = age::x25519::Identity::generate();
    let secret = age::secrecy::ExposeSecret::expose_secret(&key.to_string()).to_owned();
    (secret, key.to_public().to_string())
}

#[test]
fn hostile_ttls_and_sizes_never_stop_the_agent() {
    let agent = server::Agent::new(options());
    let (secret, _) = a_key();
    let add =
        |ttl: &str| format!(r#"{{"v":1,"op":"add","len":{},"ttl_secs":{ttl}}}"#, secret.len() + 1);
    let line = format!("{secret}\n");
    // The most a TTL can be, and more than `Instant` can add: held at most MAX_TTL.
    for ttl in [u64::MAX.to_string(), (u64::MAX / 2).to_string(), (1u64 << 40).to_string()] {
        let (resp, _) = ask(&agent, &add(&ttl), line.as_bytes());
        assert!(resp.ok, "{ttl}: {resp:?}");
        let left = resp.status.unwrap().ttl_left;
        assert!(left <= server::MAX_TTL.as_secs() && left > 99 * 365 * 86_400, "{ttl}: {left}");
    }
    assert!(!agent.expired());
    let (resp, _) = ask(&agent, &add("0"), line.as_bytes());
    assert_eq!(resp.error.as_deref(), Some("invalid ttl"));
    for bad in [
        r#"{"v":1,"op":"add","ttl_secs":-1}"#.to_owned(),
        r#"{"v":1,"op":"add","ttl_secs":18446744073709551616}"#.to_owned(),
        format!(r#"{{"v":1,"op":"decrypt","len":{}}}"#, u64::MAX),
        format!(r#"{{"v":1,"op":"decrypt","len":{}}}"#, MAX_PAYLOAD + 1),
        r#"{"v":4294967295,"op":"status"}"#.to_owned(),
        format!(r#"{{"v":1,"op":"recipients","key":"{}"}}"#, "a".repeat(3000)),
    ] {
        let (resp, _) = ask(&agent, &bad, &[]);
        assert!(!resp.ok, "{bad}");
    }
    // Too much key text is refused before it is parsed.
    let many = line.repeat(2000);
    let header = format!(r#"{{"v":1,"op":"add","len":{}}}"#, many.len());
    let (resp, _) = ask(&agent, &header, many.as_bytes());
    assert_eq!(resp.error.as_deref(), Some("too many identities"));
    let (resp, _) = ask(&agent, r#"{"v":1,"op":"status"}"#, &[]);
    assert_eq!(resp.status.unwrap().identities, 1);
}

#[test]
fn recipients_request_is_pinned_and_answers_public_keys_only() {
    let req = Request { v: 1, op: Op::Recipients, len: 0, ttl_secs: None, key: Some("ab".into()) };
    assert_eq!(
        serde_json::to_string(&req).unwrap(),
        r#"{"v":1,"op":"recipients","len":0,"key":"ab"}"#
    );
    let agent = server::Agent::new(options());
    let (secret, public) = a_key();
    let file = "c0ffee".repeat(10) + "beef";
    let ask_recipients =
        |file: &str| ask(&agent, &format!(r#"{{"v":1,"op":"recipients","key":"{file}"}}"#), &[]);
    assert_eq!(ask_recipients(&file).0.error.as_deref(), Some("none"));
    let line = format!("{secret}\n");
    let header =
        format!(r#"{{"v":1,"op":"add","len":{},"ttl_secs":60,"key":"{file}"}}"#, line.len());
    assert!(ask(&agent, &header, line.as_bytes()).0.ok);
    let (resp, body) = ask_recipients(&file);
    assert!(resp.ok, "{resp:?}");
    assert_eq!(body, format!(r#"["{public}"]"#).as_bytes());
    assert!(!String::from_utf8_lossy(&body).contains("SECRET-KEY"));
    // Another file's digest, or none: nothing.
    assert_eq!(ask_recipients(&"0".repeat(64)).0.error.as_deref(), Some("none"));
    let (resp, _) = ask(&agent, r#"{"v":1,"op":"recipients"}"#, &[]);
    assert_eq!(resp.error.as_deref(), Some("invalid identity file key"));
    // An add whose file key is not a digest holds nothing.
    let header = format!(r#"{{"v":1,"op":"add","len":{},"key":"../x"}}"#, line.len());
    assert!(!ask(&agent, &header, line.as_bytes()).0.ok);
}
