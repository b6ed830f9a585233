//! JWTs for the jwt auth method, signed by hand with a key the test makes: an RSA key from the
//! `openssl` CLI, RS256 (`base64url(header).base64url(claims)`, signed with
//! `openssl dgst -sha256 -sign`). [`Bao::enable_jwt`] trusts the key's public half.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use super::Bao;

/// The issuer every test JWT names.
pub const ISSUER: &str = "https://token.actions.githubusercontent.com";
/// The audience every test JWT names and the roles require.
pub const AUDIENCE: &str = "influxctl-cred-test";

/// An RSA signing key in the server's scratch folder.
pub struct Signer {
    key: PathBuf,
    pub public_pem: String,
}

impl Signer {
    /// A fresh RSA-2048 key.
    pub fn new(bao: &Bao) -> Signer {
        let key = bao.dir.path().join(format!("jwt-key-{}.pem", super::random_hex()));
        let made = Command::new("openssl")
            .args(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out"])
            .arg(&key)
            .output()
            .expect("run openssl genpkey");
        assert!(
            made.status.success(),
            "openssl genpkey: {}",
            String::from_utf8_lossy(&made.stderr)
        );
        let public = Command::new("openssl")
            .args(["pkey", "-pubout", "-in"])
            .arg(&key)
            .output()
            .expect("run openssl pkey");
        assert!(
            public.status.success(),
            "openssl pkey: {}",
            String::from_utf8_lossy(&public.stderr)
        );
        Signer { key, public_pem: String::from_utf8_lossy(&public.stdout).into_owned() }
    }

    /// The signed JWT for `claims`.
    pub fn sign(&self, claims: &Value) -> String {
        let header = b64url(br#"{"alg":"RS256","typ":"JWT"}"#);
        let body = b64url(claims.to_string().as_bytes());
        let input = format!("{header}.{body}");
        let mut child = Command::new("openssl")
            .args(["dgst", "-sha256", "-sign"])
            .arg(&self.key)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run openssl dgst");
        child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("write input");
        let out = child.wait_with_output().expect("wait for openssl");
        assert!(out.status.success(), "openssl dgst: {}", String::from_utf8_lossy(&out.stderr));
        format!("{input}.{}", b64url(&out.stdout))
    }
}

/// GitHub-Actions-like claims for `sub`, valid for ten minutes from now.
pub fn claims(sub: &str) -> Value {
    let now = jiff::Timestamp::now().as_second();
    json!({
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": sub,
        "repository": "example-org/app",
        "ref": "refs/heads/main",
        "iat": now,
        "nbf": now - 5,
        "exp": now + 600,
    })
}

/// Base64url without padding (RFC 7515 §2).
pub fn b64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    out
}

impl Bao {
    /// Enables the jwt auth method at `jwt/`, trusting `signer`'s key for [`ISSUER`].
    pub fn enable_jwt(&self, signer: &Signer) {
        self.ok(&["auth", "enable", "jwt"]);
        let pem = self.file("jwt-public.pem", &signer.public_pem);
        let keys = format!("jwt_validation_pubkeys=@{}", pem.display());
        let issuer = format!("bound_issuer={ISSUER}");
        self.ok(&["write", "auth/jwt/config", &keys, &issuer]);
    }

    /// A jwt role `name` for GitHub-Actions-like tokens of subject `subject` (and of repository
    /// `example-org/app` on `refs/heads/main`), giving `policies`.
    pub fn jwt_role(&self, name: &str, subject: &str, policies: &[&str]) {
        let role = serde_json::json!({
            "role_type": "jwt",
            "user_claim": "sub",
            "bound_subject": subject,
            "bound_audiences": [AUDIENCE],
            "bound_claims": {"repository": "example-org/app", "ref": "refs/heads/main"},
            "token_policies": policies,
            "token_ttl": "10m",
        });
        let path = format!("auth/jwt/role/{name}");
        let out = self.cli_as(&self.root, &["write", &path, "-"], Some(&role.to_string()));
        assert!(out.status.success(), "jwt role: {}", String::from_utf8_lossy(&out.stderr));
    }
}

#[test]
fn b64url_matches_rfc4648_vectors() {
    for (plain, coded) in [
        ("", ""),
        ("f", "Zg"),
        ("fo", "Zm8"),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg"),
        ("fooba", "Zm9vYmE"),
    ] {
        assert_eq!(b64url(plain.as_bytes()), coded);
    }
    assert_eq!(b64url(&[0xfb, 0xff]), "-_8");
}
