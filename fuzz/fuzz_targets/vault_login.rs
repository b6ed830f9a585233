//! What the vault logins and the rotation claim read from others: a login's answer (status from
//! the first two bytes, the rest as body) through `login::answer` for approle and jwt, the
//! refusal built from the server's `errors`, `login::jwt_who` on the body as a JWT, and the body
//! as a stored entry through `lifecycle::claim::parse`. Checks: a failed login is
//! `store-unavailable` (exit 5), one line, and never holds the secret id or JWT we sent (nor a
//! piece of them); masking leaves no JWT in a text; an entry with a
//! claim round-trips through `claimed_json`; a marker's `by` is shown on one line, bounded.
#![no_main]

use influxctl_cred::lifecycle::claim;
use influxctl_cred::settings::VaultAuth;
use influxctl_cred::store::vault::client::Reply;
use influxctl_cred::store::vault::login;
use libfuzzer_sys::fuzz_target;

const SECRET_ID: &str = "4f1c2d3e-fuzz-secret-id-5a6b7c8d";
const JWT: &str = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJmdXp6In0.ZnV6ei1zaWduYXR1cmUtcGFydA";

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let status = u16::from_be_bytes([data[0], data[1]]) % 600;
    let body = &data[2..];
    let reply = Reply { status, body: body.to_vec().into() };
    let now = jiff::Timestamp::UNIX_EPOCH;
    for (method, secret) in [(VaultAuth::Approle, SECRET_ID), (VaultAuth::Jwt, JWT)] {
        match login::answer(method, "auth/x/login", &reply, secret, now) {
            Ok(_) => {}
            Err(e) => {
                assert_eq!(e.exit_code(), 5, "{e}");
                let shown = format!("{e} {}", e.hint().unwrap_or_default());
                assert!(!shown.contains('\n') && !shown.contains('\r'), "one line: {shown:?}");
                assert!(!shown.contains(secret), "the secret is echoed: {shown:?}");
                for part in secret.split('.').filter(|p| p.len() >= 8) {
                    assert!(!shown.contains(part), "a part of the secret: {shown:?}");
                }
            }
        }
    }
    if let Ok(text) = std::str::from_utf8(body) {
        let _ = login::jwt_who(text);
        let masked = login::mask(text, JWT);
        assert!(!masked.contains(JWT), "{masked:?}");
    }
    if let Ok(stored) = claim::parse(body, "vault", "prod") {
        if let Some(marker) = &stored.rotating {
            let again = claim::claimed_json(&stored.entry, marker);
            let back = claim::parse(&again, "vault", "prod").expect("our own claim parses");
            assert_eq!(back.entry, stored.entry);
            assert_eq!(back.rotating.as_ref(), Some(marker));
            let shown = marker.shown();
            assert!(!shown.contains('\n') && shown.chars().count() <= 200, "{shown:?}");
        }
    }
});
