//! What the agent ([`crate::agent`]) needs of identities: the secret keys of the unlocked
//! passphrase-protected identity files (sent once, by `unlock`, over the agent's socket), and
//! opening an age file with such keys (in the agent). The keys travel as the text of an age
//! identity file (`AGE-SECRET-KEY-1…` lines), never in a message.

use super::{Failure, Identities, Key, Lock, keyfile::parse_lines, open};
use crate::error::Result;
use crate::secret::SecretBytes;

/// Opens an age file in the agent, before any prompt; `None` when there is no agent or it
/// holds no matching key (the caller then goes on as without an agent).
pub type AgentHook = Box<dyn Fn(&[u8]) -> Option<SecretBytes>>;

/// What `unlock` hands the agent: the identity-file text of every key it unlocked.
pub struct Unlockable {
    /// `AGE-SECRET-KEY-1…` lines, one per key (empty when nothing was unlocked).
    pub keys: SecretBytes,
    /// How many keys the text holds.
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

    /// Whether some identity is still locked (so a read would prompt, or ask the agent).
    pub(super) fn has_locked(&self) -> bool {
        self.keys
            .iter()
            .any(|k| matches!(k, Key::Locked { unlocked, .. } if unlocked.get().is_none()))
    }

    /// Unlocks every passphrase-protected age identity file (prompting once for each) and
    /// answers their secret keys for the agent.
    pub fn unlockable(&self) -> Result<Unlockable> {
        let mut text = SecretBytes::new(Vec::new());
        let (mut count, mut ssh_skipped) = (0, Vec::new());
        for key in &self.keys {
            match key {
                Key::Ready(_) => {}
                Key::Locked { path, lock: Lock::Ssh(..), .. } => ssh_skipped.push(path.clone()),
                Key::Locked { .. } => {
                    let Some(u) = key.unlocked(self.prompt.as_ref())? else { continue };
                    for k in &u.x25519 {
                        let line = k.to_string();
                        text.extend_from_slice(
                            age::secrecy::ExposeSecret::expose_secret(&line).as_bytes(),
                        );
                        text.push(b'\n');
                        count += 1;
                    }
                }
            }
        }
        Ok(Unlockable { keys: text, count, ssh_skipped })
    }
}

/// How many keys an identity-file text holds; the error names no line.
pub fn count_keys(text: &[u8]) -> std::result::Result<usize, String> {
    parse_lines(text, "the identities sent to the agent").map(|u| u.identities.len())
}

/// Opens the age file `ciphertext` with the keys of an identity-file text (in the agent).
pub fn open_with_keys(text: &[u8], ciphertext: &[u8]) -> std::result::Result<SecretBytes, Failure> {
    let keys = parse_lines(text, "held identities").map_err(|_| Failure::NoMatch)?;
    open(ciphertext, keys.identities.iter().map(|b| &**b))
}
