//! Recipients of the file store's age files: the public keys of our identities plus
//! `recipients` from our settings (`age1…`, `ssh-ed25519 …`, `ssh-rsa …`), and encryption to them.

use std::io::Write;
use std::path::Path;
use std::str::FromStr;

use age::x25519;

use crate::error::{Error, Result};

/// A recipient: an age X25519 public key or an SSH public key.
pub enum Recipient {
    X25519(x25519::Recipient),
    Ssh(age::ssh::Recipient),
}

impl Recipient {
    /// Parses `age1…`, `ssh-ed25519 AAAA… [comment]` or `ssh-rsa AAAA… [comment]`. The error
    /// says what is wrong without quoting the input.
    pub fn parse(s: &str) -> Result<Recipient, &'static str> {
        use age::ssh::ParseRecipientKeyError as E;
        let s = s.trim();
        if s.starts_with("age1") {
            return x25519::Recipient::from_str(s)
                .map(Recipient::X25519)
                .map_err(|_| "not a valid age1… public key");
        }
        if s.starts_with("ssh-") {
            return age::ssh::Recipient::from_str(s).map(Recipient::Ssh).map_err(|e| match e {
                E::Unsupported(_) => "an SSH key type age cannot use (use ssh-ed25519 or ssh-rsa)",
                E::RsaModulusTooSmall => "an ssh-rsa key shorter than 2048 bits",
                E::RsaModulusTooLarge => "an ssh-rsa key longer than age supports",
                _ => "not a valid SSH public key",
            });
        }
        Err("expected an age1… or ssh-ed25519 … public key")
    }

    fn as_dyn(&self) -> &dyn age::Recipient {
        match self {
            Recipient::X25519(r) => r,
            Recipient::Ssh(r) => r,
        }
    }
}

impl std::fmt::Display for Recipient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Recipient::X25519(r) => r.fmt(f),
            Recipient::Ssh(r) => r.fmt(f),
        }
    }
}

/// Checks `recipients` from our settings; a bad one is a usage error naming its position.
pub fn configured_recipients(recipients: &[String], settings: &Path) -> Result<Vec<Recipient>> {
    recipients
        .iter()
        .enumerate()
        .map(|(i, r)| {
            Recipient::parse(r).map_err(|why| Error::InvalidValue {
                what: "recipients",
                message: format!(
                    "entry {} of `recipients` in {} is {why}; nothing was written",
                    i + 1,
                    settings.display()
                ),
            })
        })
        .collect()
}

/// The identities' recipients plus the configured ones, each once, in order.
pub fn merge_recipients(own: Vec<String>, configured: Vec<Recipient>) -> Result<Vec<Recipient>> {
    let mut out: Vec<Recipient> = Vec::new();
    for r in own {
        let r = Recipient::parse(&r)
            .map_err(|why| Error::Other(format!("an identity's public key is {why}")))?;
        out.push(r);
    }
    out.extend(configured);
    let mut seen = std::collections::HashSet::new();
    out.retain(|r| seen.insert(r.to_string()));
    Ok(out)
}

/// Encrypts `plaintext` to `recipients` as a binary age v1 file.
pub fn encrypt(recipients: &[Recipient], plaintext: &[u8]) -> Result<Vec<u8>> {
    let failed = |e: &dyn std::fmt::Display| Error::Other(format!("cannot encrypt: {e}"));
    let encryptor = age::Encryptor::with_recipients(recipients.iter().map(Recipient::as_dyn))
        .map_err(|e| failed(&e))?;
    let mut out = Vec::with_capacity(plaintext.len() + 200 * recipients.len() + 100);
    let mut writer = encryptor.wrap_output(&mut out).map_err(|e| failed(&e))?;
    writer.write_all(plaintext).map_err(|e| failed(&e))?;
    writer.finish().map_err(|e| failed(&e))?;
    Ok(out)
}
