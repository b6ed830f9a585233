//! What we say: stderr for people (never a token: callers pass only metadata), and the one
//! writer of stdout ([`stdout`]), whose failures are typed (a closed pipe is a quiet exit, a
//! full disk exit 1 with a message) instead of the panic of `print!`.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{Error, Result};

static VERBOSE: AtomicBool = AtomicBool::new(false);

/// Turns `-v` output on.
pub fn set_verbose(on: bool) {
    VERBOSE.store(on, Ordering::Relaxed);
}

/// Whether `-v` was given.
pub fn is_verbose() -> bool {
    VERBOSE.load(Ordering::Relaxed)
}

/// Writes `bytes` to stdout and flushes. Every command's stdout goes through here.
pub fn stdout(bytes: &[u8]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes).and_then(|()| out.flush()).map_err(Error::Stdout)
}

/// A command's answer for scripts (`--format json`): `value` as one line of JSON on stdout.
/// Callers build it from metadata only, never a token.
pub fn answer(value: &serde_json::Value) -> Result<()> {
    let mut line = value.to_string();
    line.push('\n');
    stdout(line.as_bytes())
}

/// One line on stderr, with anything that looks like a management token redacted
/// ([`crate::error::redact`]): every message we print passes here. A stderr that cannot be
/// written (closed, full) is not worth a panic: the exit code still tells.
pub fn stderr_line(line: &str) {
    let line = crate::error::redact(line);
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(line.as_bytes()).and_then(|()| err.write_all(b"\n"));
}

/// A line the user should see (which store was written, a warning).
pub fn note(msg: impl AsRef<str>) {
    stderr_line(&format!("influxctl-cred: {}", msg.as_ref()));
}

/// A warning.
pub fn warn(msg: impl AsRef<str>) {
    stderr_line(&format!("influxctl-cred: warning: {}", msg.as_ref()));
}

/// A line shown only with `-v`.
pub fn verbose(msg: impl AsRef<str>) {
    if is_verbose() {
        stderr_line(&format!("influxctl-cred: {}", msg.as_ref()));
    }
}

/// Prints an error and its hint, as the one-shot commands do before exiting.
pub fn report(err: &crate::error::Error) {
    stderr_line(&format!("influxctl-cred: error: {err}"));
    stderr_line(&format!("influxctl-cred: kind: {}", err.kind().as_str()));
    if let Some(hint) = err.hint() {
        stderr_line(&format!("influxctl-cred: hint: {hint}"));
    }
}

/// Runs `f` with prompts turned off on this thread unless `allow` ([`prompts_allowed`]);
/// restored afterwards, also when `f` panics.
pub fn with_prompts<T>(allow: bool, f: impl FnOnce() -> T) -> T {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            PROMPTS_OFF.with(|off| off.set(self.0));
        }
    }
    let _restore = Restore(PROMPTS_OFF.with(|off| off.replace(!allow)));
    f()
}

thread_local! {
    /// Set while [`with_prompts`] runs a request that may not prompt.
    static PROMPTS_OFF: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether a store built interactive may prompt now (for an identity's passphrase, say). Every
/// store that prompts asks this first: the helper protocol turns prompts off for each request
/// that did not ask for interaction.
pub fn prompts_allowed() -> bool {
    !PROMPTS_OFF.with(std::cell::Cell::get)
}
