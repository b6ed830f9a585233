//! What the agent ([`crate::agent`]) needs of identities: the secret keys of the unlocked
//! passphrase-protected identity files (sent once, by `unlock`, over the agent's socket), and
//! opening an age file with such keys (in the agent). The keys travel as the text of an age
//! identity file (`AGE-SECRET-KEY-1…` lines), never in a message. With each file's keys goes
//! the SHA-256 of the encrypted file, so that a write can later ask the agent for that file's
//! public keys ([`Agent::recipients`]) instead of its passphrase.

use sha2::{Digest, Sha256};

use super::{Failure, Identities, Key, Lock, keyfile::parse_lines, open};
use crate::error::Result;
use crate::secret::SecretBytes;

/// What the agent does for the identities, when one runs ([`crate::agent::Hook`]).
pub trait Agent {
    /// Opens an age file, before any prompt; `None` when there is no agent or it holds no
    /// matching key (the caller then goes on as without an agent).
    fn decrypt(&self, ciphertext: &[u8]) -> Option<SecretBytes>;
    /// The public keys (`age1…`) of the passphrase-protected identity file whose bytes hash to
    /// `identity_sha256` (hex), when the agent holds its keys; `None` otherwise.
    fn recipients(&self, identity_sha256: &str) -> Option<Vec<String>>;
}

/// Any function that opens age files is an agent that knows no public key (tests).
impl<F: Fn(&[u8]) -> Option<SecretBytes>> Agent for F {
    fn decrypt(&self, ciphertext: &[u8]) -> Option<SecretBytes> {
        self(ciphertext)
    }

    fn recipients(&self, _: &str) -> Option<Vec<String>> {
        None
    }
}

/// The agent the identities ask ([`Identities::with_agent`]).
pub type AgentHook = Box<dyn Agent>;

/// The keys of one unlocked identity file, for the agent.
pub struct HeldFile {
    /// The hex SHA-256 of the encrypted identity file (as read).
    pub sha256: String,
    /// `AGE-SECRET-KEY-1…` lines, one per key.
    pub keys: SecretBytes,
}

/// The hex SHA-256 by which the agent knows an encrypted identity file.
pub(super) fn file_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// What `unlock` hands the agent: the keys of every identity file it unlocked.
pub struct Unlockable {
    /// One per unlocked age identity file (empty when nothing was unlocked).
    pub keys: Vec<HeldFile>,
    /// How many keys they hold.
    pub count: usize,
    /// Passphrase-protected OpenSSH keys, which the agent cannot hold (they keep prompting).
    pub ssh_skipped: Vec<std::path::PathBuf>,
}

impl Identities {
    /// Asks `hook` (the agent) to open files before any locked identity prompts.
    pub fn with_agent(mut self, hook: AgentHook) -> Identities {
        self.agent = Some(hook);
        self
    }

    /// The public keys the agent answers for the locked identity file `bytes` (none when no
    /// agent runs, it does not hold that file's keys, or answers no valid `age1…` key).
    pub(super) fn agent_recipients(&self, bytes: &[u8]) -> Option<Vec<String>> {
        let held = self.agent.as_ref()?.recipients(&file_sha256(bytes))?;
        let valid = held.iter().all(|r| r.parse::<age::x25519::Recipient>().is_ok());
        (valid && !held.is_empty()).then_some(held)
    }

    /// Whether some identity is still locked (so a read would prompt, or ask the agent).
    pub(super) fn has_locked(&self) -> bool {
        self.keys
            .iter()
            .any(|k| matches!(k, Key::Locked { unlocked, .. } if unlocked.get().is_none()))
    }

    /// Unlocks every passphrase-protected age identity file (prompting once for each) and
    /// answers their secret keys for the agent.
    pub fn unlockable(&self) -> Result<Unlockable> {
        let mut files = Vec::new();
        let (mut count, mut ssh_skipped) = (0, Vec::new());
        for key in &self.keys {
            match key {
                Key::Ready(_) => {}
                Key::Locked { path, lock: Lock::Ssh(..), .. } => ssh_skipped.push(path.clone()),
                Key::Locked { lock: Lock::Age(bytes), .. } => {
                    let Some(u) = key.unlocked(self.prompt.as_ref())? else { continue };
                    let mut text = SecretBytes::new(Vec::new());
                    for k in &u.x25519 {
                        let line = k.to_string();
                        text.extend_from_slice(
                            age::secrecy::ExposeSecret::expose_secret(&line).as_bytes(),
                        );
                        text.push(b'\n');
                        count += 1;
                    }
                    files.push(HeldFile { sha256: file_sha256(bytes), keys: text });
                }
            }
        }
        Ok(Unlockable { keys: files, count, ssh_skipped })
    }
}

/// The public keys (`age1…`) of the keys of an identity-file text (in the agent, for
/// `recipients`); the error names no line's content.
pub fn public_keys(text: &[u8]) -> std::result::Result<Vec<String>, String> {
    let keys = parse_lines(text, "the identities sent to the agent")?;
    Ok(keys.x25519.iter().map(|k| k.to_public().to_string()).collect())
}

/// How many keys an identity-file text holds; the error names no line.
pub fn count_keys(text: &[u8]) -> std::result::Result<usize, String> {
    parse_lines(text, "the identities sent to the agent").map(|u| u.identities.len())
}

/// Most X25519 unwraps (one Diffie-Hellman each) one `decrypt` in the agent may cost: the
/// header's X25519 stanzas times the keys held (about a second; an entry has a few stanzas).
/// Without it a 2 MiB header of stanzas against many held keys kept the agent, which serves
/// one request at a time, busy for minutes.
pub const MAX_UNWRAPS: usize = 16 << 10;

/// Opens the age file `ciphertext` with the keys of an identity-file text (in the agent).
pub fn open_with_keys(text: &[u8], ciphertext: &[u8]) -> std::result::Result<SecretBytes, Failure> {
    let keys = parse_lines(text, "held identities").map_err(|_| Failure::NoMatch)?;
    if x25519_stanzas(ciphertext).saturating_mul(keys.identities.len()) > MAX_UNWRAPS {
        return Err(Failure::Corrupt("has too many recipients"));
    }
    open(ciphertext, keys.identities.iter().map(|b| &**b))
}

/// How many `-> X25519` stanzas the header of an age file (binary or armored) has.
fn x25519_stanzas(ciphertext: &[u8]) -> usize {
    use std::io::BufRead;
    let mut r = std::io::BufReader::new(age::armor::ArmoredReader::new(ciphertext));
    let (mut line, mut n) = (Vec::new(), 0);
    while matches!(r.read_until(b'\n', &mut line), Ok(1..)) && !line.starts_with(b"---") {
        n += usize::from(line.starts_with(b"-> X25519 "));
        line.clear();
    }
    n
}
