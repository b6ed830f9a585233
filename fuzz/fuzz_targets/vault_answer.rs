//! An OpenBao / Vault answer to the vault store (`store::vault::kv` and the client's
//! classification): any status and body through the KV v2 parsers (`parse_read`,
//! `parse_metadata`, `parse_list`, `parse_written`, `from_custom`) and `transient`, and the
//! refusal built from the server's `errors`. Checks: parse failures are `store-unavailable`
//! (exit 5); a refusal is one line, exit 5 or (lost check-and-set) 75, and never holds the vault
//! token we sent, nor a management token that the server put in its errors; a redirect is only
//! followed to the configured host under `/v1/`.
#![no_main]

use influxctl_cred::secret::Token;
use influxctl_cred::store::vault::client::{Reply, Verdict, transient};
use influxctl_cred::store::vault::kv::{self, Op};
use libfuzzer_sys::fuzz_target;

const VAULT_TOKEN: &str = "s.fuzz-vault-token-0123456789";

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let status = u16::from_be_bytes([data[0], data[1]]) % 600;
    let body = &data[2..];
    for e in [
        kv::parse_read(200, body).err(),
        kv::parse_read(404, body).err(),
        kv::parse_metadata(body).err(),
        kv::parse_list(body).err(),
        kv::parse_written(body).err(),
    ]
    .into_iter()
    .flatten()
    {
        assert_eq!(e.exit_code(), 5, "{e}");
    }
    if let Ok(m) = kv::parse_metadata(body) {
        let _ = m.live();
        if let Some(meta) = m.custom_metadata.as_ref().and_then(kv::from_custom) {
            // What we read back we can write again, within the servers' limits.
            let custom = kv::to_custom(&meta);
            assert!(custom.values().all(|v| v.len() <= 512));
        }
    }
    let token = Token::new(VAULT_TOKEN.to_owned()).expect("a token");
    let reply = Reply { status, body: body.to_vec().into() };
    let errors = reply.errors(Some(&token));
    let path = "secret/data/influxctl-cred/prod";
    for op in [Op::Read, Op::Write { new: true }, Op::List, Op::Delete] {
        let e = kv::refusal(status, &errors, op, path, Some("ns"));
        assert!(matches!(e.exit_code(), 5 | 75), "{e}");
        let shown = e.to_string();
        assert!(!shown.contains('\n') && !shown.contains('\r'), "one line: {shown:?}");
        assert!(!shown.contains(VAULT_TOKEN), "the vault token is echoed: {shown:?}");
        assert!(!shown.to_ascii_lowercase().contains("m.v1.t"), "a management token: {shown:?}");
    }
    let url = url::Url::parse("https://bao.example:8200/v1/secret/data/x").expect("url");
    let addrs = [url::Url::parse("https://bao.example:8200/").expect("url")];
    let location = std::str::from_utf8(body).ok();
    if let Verdict::Follow(next) = transient(307, body, location, &url, &addrs) {
        assert_eq!(next.scheme(), "https");
        assert_eq!(next.host_str(), Some("bao.example"));
        assert!(next.path().starts_with("/v1/"), "{next}");
    }
});
