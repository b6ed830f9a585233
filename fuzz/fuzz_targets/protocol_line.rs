//! The helper protocol: one session (up to a few request lines) through `helper::serve`, with a
//! fresh in-memory store each run, so `store` then `get` in one input reach the real dispatch.
//! Checks: exactly one JSON response line per non-blank request line, each `{"v":1,…}` with
//! either `ok` or `error`; a token sent in a `store` request never comes back in its answer.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use influxctl_cred::app::{Options, Vault};
use influxctl_cred::paths::Paths;
use influxctl_cred::settings::Settings;
use influxctl_cred::store::Store;
use influxctl_cred::store::memory::MemoryStore;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// One folder for the whole run (the store lock lives there; no entry is ever written to it).
fn home() -> &'static PathBuf {
    static HOME: OnceLock<PathBuf> = OnceLock::new();
    HOME.get_or_init(|| {
        let dir = tempfile::Builder::new().prefix("fuzz-protocol-").tempdir().expect("tempdir");
        dir.keep()
    })
}

fuzz_target!(|data: &[u8]| {
    // A few requests per input is enough to chain store/get/erase/list.
    if data.len() > 4 * 1024 || data.iter().filter(|&&b| b == b'\n').count() > 8 {
        return;
    }
    let settings = Settings { lock_timeout: Duration::from_millis(50), ..Settings::default() };
    let opts = Options { non_interactive: true, influxctl_config: Some(home().join("none.toml")) };
    let stores: Vec<Box<dyn Store>> = vec![Box::new(MemoryStore::new())];
    let vault = Vault::with_stores(Paths::under(home().clone()), settings, opts, stores);

    let mut out = Vec::new();
    influxctl_cred::helper::serve(&vault, data, &mut out).expect("in-memory streams do not fail");

    let requests: Vec<&[u8]> =
        data.split(|&b| b == b'\n').filter(|l| !l.iter().all(u8::is_ascii_whitespace)).collect();
    let text = std::str::from_utf8(&out).expect("responses are UTF-8");
    assert!(text.is_empty() || text.ends_with('\n'), "last response not terminated");
    let responses: Vec<&str> = text.lines().collect();
    assert_eq!(responses.len(), requests.len(), "one response per request line");
    for (line, response) in requests.iter().zip(&responses) {
        let v: Value = serde_json::from_str(response).expect("a response is JSON");
        assert_eq!(v["v"], 1, "response version");
        assert!(v.get("ok").is_some() != v.get("error").is_some(), "ok xor error: {response}");
        // A store request's token never comes back (unless it also appears elsewhere in the
        // request, e.g. as the profile name, which may be echoed).
        if let Ok(req) = serde_json::from_slice::<Value>(line)
            && req["kind"] == "store"
            && let Some(token) = req["token"].as_str()
            && token.len() >= 8
            && count(line, token.as_bytes()) == 1
            && !token.contains('\\')
        {
            assert!(!response.contains(token), "the answer to a store request holds its token");
        }
    }
});

fn count(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len()).filter(|w| *w == needle).count()
}
