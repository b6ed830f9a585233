//! The agent's request handling (docs/agent.md, docs/fuzzing.md): up to 8 requests, one after
//! the other from the input, each read and answered by `agent::server::Agent::answer` as for a
//! peer of the agent's own uid, against an agent that already holds a key (added, with the
//! SHA-256 of a made-up identity file, before the input runs). Checks: no request panics or
//! stops the agent but `lock`; every answer is one header line and exactly its `len` bytes; the
//! TTL left never exceeds `MAX_TTL`; no answer holds the held secret key.
#![no_main]

use std::io::{Cursor, Read, Write};
use std::sync::OnceLock;
use std::time::Duration;

use influxctl_cred::agent::server::{Agent, MAX_TTL, Options};
use influxctl_cred::agent::{Op, Response, read_header, read_request};
use libfuzzer_sys::fuzz_target;

/// A connection: the input left, and what the agent answered.
struct Conn<'a> {
    input: Cursor<&'a [u8]>,
    output: Vec<u8>,
}

impl Read for Conn<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.input.read(buf)
    }
}

impl Write for Conn<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.output.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The key the agent holds: made at start, so no input can know it.
fn secret() -> &'static String {
    static KEY: OnceLock<String> = OnceLock::new();
    KEY.get_or_init(|| {
        let key = age::x25519::Identity::generate();
        age::secrecy::ExposeSecret::expose_secret(&key.to_string()).to_owned()
    })
}

/// The SHA-256 the held key was added under (the seeds ask `recipients` with it).
const FILE: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn answer(agent: &Agent, data: &[u8]) -> (bool, usize, Vec<u8>) {
    let mut conn = Conn { input: Cursor::new(data), output: Vec::new() };
    let stop = agent.answer(&mut conn);
    (stop, conn.input.position() as usize, conn.output)
}

fuzz_target!(|data: &[u8]| {
    let agent = Agent::new(Options { ttl: Duration::from_secs(3600), idle: Duration::from_secs(60) });
    let key = format!("{}\n", secret());
    let add = format!("{{\"v\":1,\"op\":\"add\",\"len\":{},\"key\":\"{FILE}\"}}\n{key}", key.len());
    let (stop, _, out) = answer(&agent, add.as_bytes());
    assert!(!stop && out.starts_with(b"{\"ok\":true"), "{}", String::from_utf8_lossy(&out));
    let mut rest = data;
    for _ in 0..8 {
        let asked = read_request(&mut Cursor::new(rest)).ok().map(|(req, _)| req.op);
        let (stop, used, out) = answer(&agent, rest);
        assert_eq!(stop, asked == Some(Op::Lock), "only lock stops the agent");
        if !out.is_empty() {
            let mut c = Cursor::new(&out[..]);
            let head: Response = serde_json::from_slice(&read_header(&mut c).unwrap()).unwrap();
            assert_eq!(out.len() - c.position() as usize, head.len, "payload is exactly len");
            assert!(head.ok || head.error.is_some());
        }
        let shown = String::from_utf8_lossy(&out);
        assert!(!shown.contains(secret().as_str()), "a held key in an answer");
        let status = agent.status();
        assert!(status.ttl_left <= MAX_TTL.as_secs());
        if stop || used == 0 || used >= rest.len() {
            break;
        }
        rest = &rest[used..];
    }
});
