//! The agent's wire format (docs/agent.md): the bytes a peer sends the agent
//! (`agent::read_request`) and the bytes an agent sends a client (`agent::read_response`). A
//! request's header is at most `MAX_HEADER` bytes, its payload exactly its `len` and at most
//! `MAX_PAYLOAD`; nothing after the payload is consumed; an answer's refusal reason never holds
//! payload bytes.
#![no_main]

use std::io::{Cursor, Read};

use influxctl_cred::agent::{MAX_HEADER, MAX_PAYLOAD, read_request, read_response};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut c = Cursor::new(data);
    if let Ok((req, payload)) = read_request(&mut c) {
        assert_eq!(payload.len(), req.len, "payload is exactly len");
        assert!(req.len <= MAX_PAYLOAD);
        let newline = data.iter().position(|&b| b == b'\n').expect("a header line");
        assert!(newline <= MAX_HEADER);
        assert_eq!(c.position() as usize, newline + 1 + req.len, "nothing more consumed");
        let mut rest = Vec::new();
        c.read_to_end(&mut rest).unwrap();
        assert_eq!(rest, &data[newline + 1 + req.len..]);
    }
    let mut c = Cursor::new(data);
    match read_response(&mut c) {
        Ok((resp, body)) => assert!(resp.ok && body.len() == resp.len),
        Err(why) => assert!(why.len() < MAX_HEADER + 64, "a reason, not a payload"),
    }
});
