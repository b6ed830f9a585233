//! Identity files: reading them privately, parsing age's identity-file format, OpenSSH keys and
//! passphrase-encrypted identity files (left locked until used), and creating the default
//! identity in `age-keygen`'s format. Errors name a file and a line number, never a line.

use std::cell::OnceCell;
use std::io::Write;
use std::path::Path;
use std::str::FromStr;

use age::{Decryptor, armor::ArmoredReader, x25519};
use zeroize::Zeroizing;

use super::{Key, Lock, Unlocked, unavailable};
use crate::error::{Error, Result};
use crate::fsutil::FileKind;
use crate::secret::SecretBytes;

/// Reads an identity file through [`crate::fsutil::read`] (strict modes, no FIFO, 64 KiB):
/// `own` for our default identity (never through a symlink), else a file the user named.
pub(super) fn read_identity(path: &Path, own: bool) -> Result<Option<SecretBytes>> {
    let kind = if own { FileKind::OwnIdentity } else { FileKind::Identity };
    crate::fsutil::read(path, kind)
}

/// Reads and parses an identity file that must exist; `named_by` says where its name came from.
pub(super) fn load_file(path: &Path, named_by: &str) -> Result<Vec<Key>> {
    let bytes = read_identity(path, false)?.ok_or_else(|| {
        unavailable(format!("identity file {} (from {named_by}) does not exist", path.display()))
    })?;
    parse_file(path, &bytes)
}

/// Parses the content of an identity file.
pub(super) fn parse_file(path: &Path, bytes: &[u8]) -> Result<Vec<Key>> {
    let shown = path.display();
    let start = bytes.trim_ascii_start();
    if start.starts_with(b"age-encryption.org/") || start.starts_with(b"-----BEGIN AGE ENCRYPTED") {
        return match Decryptor::new_buffered(ArmoredReader::new(bytes)) {
            Ok(d) if d.is_scrypt() => Ok(vec![Key::Locked {
                path: path.to_owned(),
                lock: Lock::Age(bytes.to_vec()),
                unlocked: OnceCell::new(),
            }]),
            Ok(_) => Err(unavailable(format!(
                "identity file {shown} is an age file encrypted to recipients, not with a passphrase"
            ))),
            Err(_) => Err(unavailable(format!("identity file {shown} is a damaged age file"))),
        };
    }
    if start.starts_with(b"-----BEGIN OPENSSH PRIVATE KEY") || start.starts_with(b"-----BEGIN RSA")
    {
        return parse_ssh(path, bytes).map(|k| vec![k]);
    }
    let name = format!("identity file {shown}");
    let keys = parse_lines(bytes, &name).map_err(unavailable)?;
    Ok(vec![Key::Ready(keys)])
}

fn parse_ssh(path: &Path, bytes: &[u8]) -> Result<Key> {
    use age::ssh::{Identity as Ssh, UnsupportedKey};
    let shown = path.display();
    let id = Ssh::from_buffer(bytes, Some(shown.to_string()))
        .map_err(|_| unavailable(format!("{shown} is not a valid OpenSSH private key")))?;
    let why = match &id {
        Ssh::Unsupported(UnsupportedKey::EncryptedPem) => {
            Some("an encrypted PEM key (convert it with `ssh-keygen -o -p`)".to_owned())
        }
        Ssh::Unsupported(UnsupportedKey::EncryptedSsh(c)) => Some(format!("encrypted with {c}")),
        Ssh::Unsupported(UnsupportedKey::Hardware(t) | UnsupportedKey::Type(t)) => Some(t.clone()),
        _ => None,
    };
    if let Some(why) = why {
        return Err(unavailable(format!("{shown} holds an SSH key that age cannot use: {why}")));
    }
    let public = age::ssh::Recipient::try_from(id.clone())
        .map_err(|_| unavailable(format!("{shown} holds an SSH key type that age cannot use")))?
        .to_string();
    Ok(match id {
        Ssh::Encrypted(key) => Key::Locked {
            path: path.to_owned(),
            lock: Lock::Ssh(Box::new(key), public),
            unlocked: OnceCell::new(),
        },
        id => Key::Ready(Unlocked::known(vec![Box::new(id)], vec![public])),
    })
}

/// age's identity-file format: `AGE-SECRET-KEY-1…` lines, `#` comments, blank lines. Errors
/// name `name` and a line number, never the line.
pub(super) fn parse_lines(bytes: &[u8], name: &str) -> Result<Unlocked, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| format!("{name} is not UTF-8 text"))?;
    let mut out =
        Unlocked { identities: Vec::new(), recipients: OnceCell::new(), x25519: Vec::new() };
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.starts_with("AGE-PLUGIN-") {
            return Err(format!("{name}, line {}: age plugin identities are not supported", n + 1));
        }
        let key = x25519::Identity::from_str(line).map_err(|_| {
            format!("{name}, line {}: not an age identity (AGE-SECRET-KEY-1…)", n + 1)
        })?;
        // The recipient is derived only when asked for ([`Unlocked::recipients`]).
        out.x25519.push(key.clone());
        out.identities.push(Box::new(key));
    }
    if out.identities.is_empty() {
        return Err(format!("{name} holds no age identity"));
    }
    Ok(out)
}

/// Creates the default identity at `path` (x25519, 0600, age-keygen's format) unless a file is
/// already there; never replaces one. Answers the new public key, or `None` when another
/// process made it first.
pub fn generate_default(path: &Path) -> Result<Option<String>> {
    let dir = path
        .parent()
        .ok_or_else(|| Error::Other(format!("{} has no parent folder", path.display())))?;
    crate::fsutil::private_dir(dir)?;
    let key = x25519::Identity::generate();
    let public = key.to_public().to_string();
    let created = jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ");
    let text = Zeroizing::new(format!(
        "# created: {created}\n# public key: {public}\n{}\n",
        age::secrecy::ExposeSecret::expose_secret(&key.to_string())
    ));
    // tempfile creates the file 0600 on Unix.
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-identity-")
        .tempfile_in(dir)
        .map_err(|e| Error::io("cannot create a temporary file in", dir, e))?;
    tmp.write_all(text.as_bytes()).map_err(|e| Error::io("cannot write", tmp.path(), e))?;
    tmp.as_file().sync_all().map_err(|e| Error::io("cannot sync", tmp.path(), e))?;
    match tmp.persist_noclobber(path) {
        Ok(_) => {
            crate::fsutil::sync_dir(dir)?;
            Ok(Some(public))
        }
        Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => Ok(None),
        Err(e) => Err(Error::io("cannot create identity", path, e.error)),
    }
}
