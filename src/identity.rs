//! Age identities and recipients for the file store (docs/spec.md §3 "Age identities"): where the
//! identities come from (first found wins: `INFLUXCTL_CRED_AGE_IDENTITY`,
//! `INFLUXCTL_CRED_AGE_IDENTITY_FILE`, `identities` in our settings, the default identity file),
//! how identity files are read (age's identity-file format, passphrase-encrypted identity files
//! as `age -p` makes them, OpenSSH ed25519/RSA keys), generating the default identity, parsing
//! recipients, and encrypting and decrypting age files with them. No error here ever carries key
//! material or file content: messages name a file and a line number.

use std::cell::{OnceCell, RefCell};
use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};

use age::secrecy::SecretString;
use age::{DecryptError, Decryptor, armor::ArmoredReader};
use zeroize::Zeroizing;

use crate::error::{Error, IDENTITY_LOOKUP, Result};
use crate::secret::SecretBytes;

mod held;
mod keyfile;
mod recipient;
pub use held::{Agent, AgentHook, HeldFile, Unlockable, count_keys, open_with_keys, public_keys};
pub use keyfile::generate_default;
use keyfile::{load_file, parse_file, parse_lines, read_identity};
pub use recipient::{Recipient, configured_recipients, encrypt, merge_recipients};

/// Holds an identity itself (`AGE-SECRET-KEY-1…` lines), for CI.
pub const IDENTITY_ENV: &str = "INFLUXCTL_CRED_AGE_IDENTITY";
/// Names an identity file.
pub const IDENTITY_FILE_ENV: &str = "INFLUXCTL_CRED_AGE_IDENTITY_FILE";

/// How a CI runner gets an identity (no default identity is made there for it: the entries it
/// reads were encrypted elsewhere): the exact `age-keygen` command and the variable.
pub const CI_IDENTITY_HINT: &str = "on a CI runner, make one identity once, on your machine: `age-keygen -o ci-identity.txt` (it prints the public key, age1…); add that key to `recipients = [\"age1…\"]` in influxctl-cred's config.toml and run `influxctl-cred rekey`, so the entries can be opened with it; store the secret line as a CI secret and pass it to the job as INFLUXCTL_CRED_AGE_IDENTITY (the value of `grep '^AGE-SECRET-KEY-1' ci-identity.txt`); never commit ci-identity.txt";

/// Whether we run under CI (`$CI` set and not empty), where the identity hint is
/// [`CI_IDENTITY_HINT`].
pub fn in_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty())
}

/// Largest plaintext we accept from an age file (entries and identity files are small).
const MAX_PLAINTEXT: u64 = 1 << 20;

/// Where the identities in use came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Env,
    EnvFile(PathBuf),
    Settings(Vec<PathBuf>),
    Default(PathBuf),
}

impl Source {
    /// For messages: "INFLUXCTL_CRED_AGE_IDENTITY", "the default identity /x/identity.txt", …
    pub fn describe(&self) -> String {
        let list = |ps: &[PathBuf]| ps.iter().map(|p| p.display().to_string()).collect::<Vec<_>>();
        match self {
            Source::Env => IDENTITY_ENV.to_owned(),
            Source::EnvFile(p) => format!("{IDENTITY_FILE_ENV} ({})", p.display()),
            Source::Settings(ps) => {
                format!("`identities` in config.toml ({})", list(ps).join(", "))
            }
            Source::Default(p) => format!("the default identity {}", p.display()),
        }
    }

    /// The identity files of this source.
    pub fn files(&self) -> Vec<PathBuf> {
        match self {
            Source::Env => Vec::new(),
            Source::EnvFile(p) | Source::Default(p) => vec![p.clone()],
            Source::Settings(ps) => ps.clone(),
        }
    }
}

/// Asks for the passphrase of a locked identity file. Absent when interaction is off.
pub type Prompt = Box<dyn Fn(&Path) -> Result<SecretString>>;

/// Asks on the terminal (`/dev/tty`), without echo.
pub fn tty_prompt() -> Prompt {
    Box::new(|path: &Path| {
        rpassword::prompt_password(format!("passphrase for age identity {}: ", path.display()))
            .map(SecretString::from)
            .map_err(|e| Error::InteractionRequired {
                what: format!("the passphrase of {} (no terminal: {e})", path.display()),
            })
    })
}

/// Identities that can open files, and the recipient strings they answer to. An x25519
/// recipient is derived from its identity only when asked for (a write, `doctor`): a read needs
/// none, and the derivation is a scalar multiplication (docs/performance.md).
struct Unlocked {
    identities: Vec<Box<dyn age::Identity>>,
    /// Known up front (SSH keys), or derived on first use from `x25519`.
    recipients: OnceCell<Vec<String>>,
    x25519: Vec<age::x25519::Identity>,
}

impl Unlocked {
    /// Identities whose recipient strings are known.
    fn known(identities: Vec<Box<dyn age::Identity>>, recipients: Vec<String>) -> Unlocked {
        Unlocked { identities, recipients: OnceCell::from(recipients), x25519: Vec::new() }
    }

    fn recipients(&self) -> &[String] {
        self.recipients
            .get_or_init(|| self.x25519.iter().map(|k| k.to_public().to_string()).collect())
    }
}

/// What a locked identity file needs its passphrase for.
enum Lock {
    /// A passphrase-encrypted age identity file (the file's bytes).
    Age(Vec<u8>),
    /// A passphrase-protected OpenSSH key, and its public key.
    Ssh(Box<age::ssh::EncryptedKey>, String),
}

enum Key {
    Ready(Unlocked),
    Locked { path: PathBuf, lock: Lock, unlocked: OnceCell<Unlocked> },
}

impl Key {
    fn unlocked(&self, prompt: Option<&Prompt>) -> Result<Option<&Unlocked>> {
        match self {
            Key::Ready(_) => Ok(None),
            Key::Locked { path, lock, unlocked } => {
                if let Some(u) = unlocked.get() {
                    return Ok(Some(u));
                }
                let u = unlock(path, lock, prompt)?;
                Ok(Some(unlocked.get_or_init(|| u)))
            }
        }
    }
}

/// Why an age file could not be opened.
#[derive(Debug)]
pub enum Failure {
    /// Not an age file, or damaged or truncated; the reason is fixed text.
    Corrupt(&'static str),
    /// None of the identities matches.
    NoMatch,
    /// An identity could not be used (locked and no terminal, wrong passphrase).
    Identity(Error),
    /// A matching stanza did not decrypt (a wrong passphrase, or a damaged header).
    Rejected,
    /// Passphrase-encrypted with more scrypt work than this machine allows (about 16 s).
    ExcessiveWork,
}

/// The identities of one source, loaded (locked ones are unlocked on first use).
pub struct Identities {
    pub source: Source,
    keys: Vec<Key>,
    prompt: Option<Prompt>,
    /// Asked before a locked identity prompts ([`Identities::with_agent`]).
    agent: Option<AgentHook>,
}

impl Identities {
    /// The first source that has identities, from the process environment. `Ok(None)` when
    /// there is none (the default identity does not exist yet). Never generates anything.
    pub fn find(
        default: &Path,
        configured: &[PathBuf],
        prompt: Option<Prompt>,
    ) -> Result<Option<Identities>> {
        Identities::find_with(&|k| std::env::var_os(k), default, configured, prompt)
    }

    /// [`Identities::find`] with the environment as a parameter.
    pub fn find_with(
        env: &dyn Fn(&str) -> Option<OsString>,
        default: &Path,
        configured: &[PathBuf],
        prompt: Option<Prompt>,
    ) -> Result<Option<Identities>> {
        let found = |source, keys| Ok(Some(Identities { source, keys, prompt, agent: None }));
        if let Some(value) = env(IDENTITY_ENV).filter(|v| !v.is_empty()) {
            // The error of a malformed value never echoes it.
            // Errors name the variable and a line number, never the value.
            let text = Zeroizing::new(
                value
                    .into_string()
                    .map_err(|_| unavailable(format!("{IDENTITY_ENV} is not UTF-8 text")))?,
            );
            let keys = parse_lines(text.as_bytes(), IDENTITY_ENV).map_err(unavailable)?;
            return found(Source::Env, vec![Key::Ready(keys)]);
        }
        if let Some(path) = env(IDENTITY_FILE_ENV).filter(|v| !v.is_empty()) {
            let path = PathBuf::from(path);
            let keys = load_file(&path, IDENTITY_FILE_ENV)?;
            return found(Source::EnvFile(path), keys);
        }
        if !configured.is_empty() {
            let mut keys = Vec::new();
            for path in configured {
                keys.extend(load_file(path, "`identities` in config.toml")?);
            }
            return found(Source::Settings(configured.to_vec()), keys);
        }
        match read_identity(default, true)? {
            None => Ok(None),
            Some(bytes) => found(Source::Default(default.to_owned()), parse_file(default, &bytes)?),
        }
    }

    /// The recipient strings of every identity (unlocking locked ones, which may prompt,
    /// unless the agent holds their keys and answers their public keys).
    pub fn recipients(&self) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for key in &self.keys {
            match key {
                Key::Ready(u) => out.extend(u.recipients().iter().cloned()),
                Key::Locked { lock: Lock::Ssh(_, public), .. } => out.push(public.clone()),
                Key::Locked { lock: Lock::Age(bytes), unlocked, .. } => {
                    if unlocked.get().is_none()
                        && let Some(held) = self.agent_recipients(bytes)
                    {
                        out.extend(held);
                    } else if let Some(u) = key.unlocked(self.prompt.as_ref())? {
                        out.extend(u.recipients().iter().cloned());
                    }
                }
            }
        }
        Ok(out)
    }

    /// Whether every identity is usable without a passphrase (nothing locked or unlocked).
    pub fn needs_no_passphrase(&self) -> bool {
        self.keys.iter().all(|k| matches!(k, Key::Ready(_)))
    }

    /// The public keys known without a passphrase, and how many identity files stay locked.
    pub fn known_public_keys(&self) -> (Vec<String>, usize) {
        let (mut keys, mut locked) = (Vec::new(), 0);
        for key in &self.keys {
            match key {
                Key::Ready(u) => keys.extend(u.recipients().iter().cloned()),
                Key::Locked { lock: Lock::Ssh(_, public), .. } => keys.push(public.clone()),
                Key::Locked { .. } => locked += 1,
            }
        }
        (keys, locked)
    }

    /// Opens an age file (binary or armored). Identities that need no passphrase are tried
    /// first, so a locked one prompts only when nothing else matches.
    /// With an agent and a still-locked identity, the agent is asked after the ready identities
    /// and before any prompt.
    pub fn decrypt(&self, ciphertext: &[u8]) -> Result<SecretBytes, Failure> {
        if let Some(agent) = self.agent.as_ref().filter(|_| self.has_locked()) {
            let ready = self.keys.iter().filter_map(|k| match k {
                Key::Ready(u) => Some(u),
                Key::Locked { .. } => None,
            });
            match open(ciphertext, ready.flat_map(|u| u.identities.iter().map(|b| &**b))) {
                Err(Failure::NoMatch) => {}
                other => return settle(other),
            }
            if let Some(plain) = agent.decrypt(ciphertext) {
                return Ok(plain);
            }
        }
        let pending: RefCell<Option<Error>> = RefCell::new(None);
        let ready = self.keys.iter().filter_map(|k| match k {
            Key::Ready(u) => Some(u),
            Key::Locked { .. } => None,
        });
        let unlocked = self.keys.iter().filter_map(|k| match k.unlocked(self.prompt.as_ref()) {
            Ok(u) => u,
            Err(e) => {
                pending.borrow_mut().get_or_insert(e);
                None
            }
        });
        let identities = ready.chain(unlocked).flat_map(|u| u.identities.iter().map(|b| &**b));
        match open(ciphertext, identities) {
            Err(Failure::NoMatch) => match pending.into_inner() {
                Some(e) => Err(Failure::Identity(e)),
                None => Err(Failure::NoMatch),
            },
            other => settle(other),
        }
    }
}

/// How a failure of [`open`] is reported by [`Identities::decrypt`].
fn settle(opened: Result<SecretBytes, Failure>) -> Result<SecretBytes, Failure> {
    match opened {
        Err(Failure::Rejected) => Err(Failure::Corrupt("has a damaged header")),
        Err(Failure::ExcessiveWork) => Err(Failure::Corrupt("is passphrase-encrypted")),
        other => other,
    }
}

/// Parses the text of an identity file as a configured one is parsed, answering how many keys
/// it holds (a passphrase-encrypted file counts as one, still locked). An entry point for the
/// fuzz targets in fuzz/, not an API.
#[doc(hidden)]
pub fn parse_identity_file(bytes: &[u8]) -> Result<usize> {
    parse_file(Path::new("identity.txt"), bytes).map(|keys| keys.len())
}

fn unavailable(reason: String) -> Error {
    Error::StoreUnavailable { store: "file", reason, hint: Some(IDENTITY_LOOKUP.to_owned()) }
}

fn unlock(path: &Path, lock: &Lock, prompt: Option<&Prompt>) -> Result<Unlocked> {
    let shown = path.display();
    let prompt = prompt.ok_or_else(|| Error::InteractionRequired {
        what: format!("the passphrase-protected identity {shown}"),
    })?;
    let passphrase = prompt(path)?;
    let wrong = || Error::Decrypt { path: path.to_owned(), reason: "wrong passphrase".to_owned() };
    match lock {
        Lock::Ssh(key, public) => {
            let key = key.decrypt(passphrase).map_err(|_| wrong())?;
            let id = age::ssh::Identity::Unencrypted(key);
            Ok(Unlocked::known(vec![Box::new(id)], vec![public.clone()]))
        }
        Lock::Age(bytes) => {
            // Default work-factor cap (about 16 s of scrypt on this machine); never lowered.
            let id = age::scrypt::Identity::new(passphrase);
            let plain =
                open(bytes, std::iter::once(&id as &dyn age::Identity)).map_err(|f| match f {
                    Failure::ExcessiveWork => unavailable(format!(
                        "identity file {shown} needs more scrypt work than this machine allows"
                    )),
                    Failure::Corrupt(why) => unavailable(format!("identity file {shown} {why}")),
                    Failure::NoMatch | Failure::Identity(_) | Failure::Rejected => wrong(),
                })?;
            parse_lines(&plain, &format!("identity file {shown} (decrypted)")).map_err(unavailable)
        }
    }
}

/// Opens an age file (binary or armored) with `identities`.
pub fn open<'a>(
    ciphertext: &[u8],
    identities: impl Iterator<Item = &'a dyn age::Identity>,
) -> Result<SecretBytes, Failure> {
    let decryptor = Decryptor::new_buffered(ArmoredReader::new(ciphertext)).map_err(classify)?;
    let stream = decryptor.decrypt(identities).map_err(classify)?;
    let mut plain = SecretBytes::new(Vec::with_capacity(ciphertext.len()));
    stream
        .take(MAX_PLAINTEXT + 1)
        .read_to_end(&mut plain)
        .map_err(|_| Failure::Corrupt("is truncated or damaged (its payload does not decrypt)"))?;
    if plain.len() as u64 > MAX_PLAINTEXT {
        return Err(Failure::Corrupt("is larger than any entry"));
    }
    Ok(plain)
}

fn classify(e: DecryptError) -> Failure {
    match e {
        DecryptError::NoMatchingKeys => Failure::NoMatch,
        DecryptError::UnknownFormat => Failure::Corrupt("is not an age v1 file"),
        DecryptError::InvalidMac => Failure::Corrupt("has a damaged header (MAC mismatch)"),
        DecryptError::Io(_) => Failure::Corrupt("is truncated or not an age file"),
        DecryptError::ExcessiveWork { .. } => Failure::ExcessiveWork,
        DecryptError::DecryptionFailed | DecryptError::KeyDecryptionFailed => Failure::Rejected,
        _ => Failure::Corrupt("has a damaged or invalid header"),
    }
}

#[cfg(test)]
mod tests;
